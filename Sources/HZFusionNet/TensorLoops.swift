import HybridZoom

/// An image's activation in channels-last order: channel `c` of cell (x, y) is
/// `pointer[(y · width + x) · channels + c]`; `Value` is `Float`, or `UInt8` in 8-bit runs.
struct Activation<Value> {
    var pointer: UnsafeMutablePointer<Value>
    var channels: Int
    var width: Int
    var height: Int

    /// Where row `y` begins.
    func row(_ y: Int) -> UnsafeMutablePointer<Value> { pointer + y * width * channels }

    /// Its first `count` rows alone.
    func firstRows(_ count: Int) -> Activation {
        Activation(pointer: pointer, channels: channels, width: width, height: count)
    }
}

/// The network's input for `window` of the padded image, written into `input` (48 channels at
/// 1/4 resolution): the image padded right and bottom by edge replication, as `fuse()` pads it,
/// and 4×4 space-to-depth, as PyTorch's `pixel_unshuffle` orders it (channel c·16 + i·4 + j of
/// cell (x, y) is plane c's pixel (4x + j, 4y + i)), in one pass. The planes are `planes`, then
/// `mask`, whose rows are enlarged here, four at a time, for the window's columns alone.
func spaceToDepth(
    _ planes: [PlaneRegion], _ mask: EnlargedMask, size: Size, window: PixelRect,
    into input: Activation<Float>
) {
    precondition(FusionArchitecture.block == 4 && input.channels == (planes.count + 1) * 16 && input.width * 4 == window.width)
    // Cells wholly inside the image copy 4 pixels at once; the rest repeat the last column.
    let insideCells = min(input.width, max(0, size.width - window.x) / 4)
    let columns = window.x..<min(window.x + window.width, size.width), planeRows = planes.count * 4
    parallelChunks(input.height, itemCost: window.width * 4) { cellRows in
        let maskRows = UnsafeMutablePointer<Float>.allocate(capacity: 4 * columns.count)
        defer { maskRows.deallocate() }
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: input.channels / 4) { rows in
            for cellY in cellRows {
                // Channels 4k ..< 4k + 4 come from row i = k % 4 of plane c = k / 4.
                for k in rows.indices {
                    let y = min(window.y + cellY * 4 + k % 4, size.height - 1)
                    if k < planeRows {
                        rows[k] = planes[k / 4].row(y, from: window.x)
                    } else {
                        let row = maskRows + (k % 4) * columns.count
                        mask.row(y, columns: columns, into: row)
                        rows[k] = UnsafePointer(row)
                    }
                }
                var cell = input.pointer + cellY * input.width * input.channels
                for cellX in 0..<insideCells {
                    for k in rows.indices {
                        let pixels = UnsafeRawPointer(rows[k] + cellX * 4).loadUnaligned(as: SIMD4<Float>.self)
                        UnsafeMutableRawPointer(cell + k * 4).storeBytes(of: pixels, as: SIMD4<Float>.self)
                    }
                    cell += input.channels
                }
                for cellX in insideCells..<input.width {
                    for k in rows.indices {
                        for j in 0..<4 { cell[k * 4 + j] = rows[k][min(cellX * 4 + j, size.width - 1 - window.x)] }
                    }
                    cell += input.channels
                }
            }
        }
    }
}

/// Nearest-neighbour ×2 upsampling of `coarse` followed by channel concatenation with `skip`,
/// written into `joined` in one pass: cell (x, y) holds coarse (x/2, y/2), then skip (x, y).
/// With `rows`, only those rows, into a `joined` that holds them alone.
func upsampleConcatenating<Value>(
    coarse: Activation<Value>, skip: Activation<Value>, rows: Range<Int>? = nil, into joined: Activation<Value>
) {
    let rows = rows ?? 0..<skip.height
    precondition(
        joined.channels == coarse.channels + skip.channels && joined.width == skip.width
            && joined.height == rows.count && rows.upperBound <= skip.height
            && skip.width == 2 * coarse.width && skip.height == 2 * coarse.height)
    parallelChunks(joined.height, itemCost: joined.width * joined.channels / 16) { chunk in
        for row in chunk {
            let y = rows.lowerBound + row
            let coarseRow = coarse.pointer + (y / 2) * coarse.width * coarse.channels
            var source = skip.pointer + y * skip.width * skip.channels
            var target = joined.pointer + row * joined.width * joined.channels
            for x in 0..<joined.width {
                target.update(from: coarseRow + (x / 2) * coarse.channels, count: coarse.channels)
                (target + coarse.channels).update(from: source, count: skip.channels)
                source += skip.channels
                target += joined.channels
            }
        }
    }
}

/// 2×2 average pooling of a float activation into an 8-bit one of steps `scale` (rounded to the
/// nearest step, clamped to 0…255): where the network passes from its float level to its 8-bit
/// levels. oneDNN's pooling keeps one data type from input to output.
func averagePoolingQuantizing(_ fine: Activation<Float>, into coarse: Activation<UInt8>, scale: Float) {
    precondition(fine.channels == coarse.channels && fine.width == 2 * coarse.width && fine.height == 2 * coarse.height)
    let channels = coarse.channels, factor = 0.25 / scale
    parallelChunks(coarse.height, itemCost: fine.width * 2 * channels) { rows in
        for y in rows {
            let top = fine.pointer + 2 * y * fine.width * channels, bottom = top + fine.width * channels
            var target = coarse.pointer + y * coarse.width * channels
            for x in 0..<coarse.width {
                let left = 2 * x * channels, right = left + channels
                for c in 0..<channels {
                    let sum = (top[left + c] + top[right + c]) + (bottom[left + c] + bottom[right + c])
                    target[c] = UInt8(min(max((sum * factor).rounded(), 0), 255))
                }
                target += channels
            }
        }
    }
}

/// Y_src + residual added to `output` (what it holds first: 0, or classical detail) for the
/// pixels of `rect` (image coordinates, inside the image), `output` holding the rectangle's rows
/// `rowLength` apart from its corner. The residual is the head's 16 channels at 1/4 resolution
/// turned back into pixels (PyTorch's `pixel_shuffle`: pixel (4x + j, 4y + i) is channel
/// i·4 + j of cell (x, y)) for the tile whose window starts at `origin`, which like `rect` lies on
/// the 64-pixel grid.
func depthToSpaceAddingSource(
    _ head: Activation<Float>, origin: (x: Int, y: Int), source: PlaneRegion, rect: PixelRect,
    to output: UnsafeMutablePointer<Float>, rowLength: Int
) {
    precondition(FusionArchitecture.block == 4 && head.channels == 16 && (rect.x - origin.x) % 4 == 0)
    let (wholeCells, remainder) = rect.width.quotientAndRemainder(dividingBy: 4)
    let output = UncheckedSendable(output)
    parallelChunks(rect.height, itemCost: rect.width) { rows in
        for row in rows {
            let (y, windowY) = (rect.y + row, rect.y + row - origin.y)
            // Cell (x, 0)'s channels i·4 ..< i·4 + 4 are this row's 4 residuals of that cell.
            let residuals = head.pointer + (windowY / 4 * head.width + (rect.x - origin.x) / 4) * 16 + windowY % 4 * 4
            let sourceRow = source.row(y, from: rect.x)
            let outputRow = output.value + row * rowLength
            for cell in 0..<wholeCells {
                let sum =
                    UnsafeRawPointer(sourceRow + cell * 4).loadUnaligned(as: SIMD4<Float>.self)
                    + UnsafeRawPointer(residuals + cell * 16).loadUnaligned(as: SIMD4<Float>.self)
                let held = UnsafeRawPointer(outputRow + cell * 4).loadUnaligned(as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(outputRow + cell * 4).storeBytes(of: sum + held, as: SIMD4<Float>.self)
            }
            for j in 0..<remainder {
                let x = wholeCells * 4 + j
                outputRow[x] = (sourceRow[x] + residuals[wholeCells * 16 + j]) + outputRow[x]
            }
        }
    }
}
