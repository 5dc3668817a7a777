/// The middle value (the mean of the two middle values for an even count); NaN when empty.
/// Found by selection, not sorting: the noise estimates take it over some 130 000 values.
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    var values = values
    let middle = values.count / 2
    let upper = select(middle, in: &values)
    return values.count % 2 == 1 ? upper : (values[..<middle].max()! + upper) / 2
}

/// The value a `fraction` (0…1) of `values` lies below: the ⌊fraction · count⌋-th smallest (the
/// largest for 1), by selection. `values` must not be empty.
func quantile(_ values: [Double], _ fraction: Double) -> Double {
    var values = values
    return select(min(Int(fraction * Double(values.count)), values.count - 1), in: &values)
}

/// The `k`-th smallest of `values` (from 0), which are reordered so that none before index `k`
/// is larger and none after it smaller (Hoare's selection: partition around a median of three,
/// keep the side that holds `k`). The standard library sorts but does not select.
func select(_ k: Int, in values: inout [Double]) -> Double {
    precondition(values.indices.contains(k), "no element \(k) among \(values.count)")
    return values.withUnsafeMutableBufferPointer { v in
        var (low, high) = (0, v.count - 1)
        while low < high {
            let (a, b, c) = (v[low], v[(low + high) / 2], v[high])
            let pivot = max(min(a, b), min(max(a, b), c))
            var (i, j) = (low, high)
            while i <= j {
                while v[i] < pivot { i += 1 }
                while v[j] > pivot { j -= 1 }
                if i <= j {
                    v.swapAt(i, j)
                    (i, j) = (i + 1, j - 1)
                }
            }
            // [low, j] ≤ pivot ≤ [i, high], and what lies between equals the pivot.
            if k <= j {
                high = j
            } else if k >= i {
                low = i
            } else {
                return v[k]
            }
        }
        return v[k]
    }
}

extension Comparable {
    /// The value limited to `range`.
    @inlinable
    public func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}
