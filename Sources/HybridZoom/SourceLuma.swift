/// `Y_src`, step 2's luma (W cropped to T's view and enlarged to T's size), as the later stages
/// read it: held whole, or, for a large frame, made from W's 8-bit luma again each time a stage
/// reads a part of it, so that no float plane of the whole frame is held (400 MB at 100 MP,
/// against W's 100 MB in 8 bits). Each part made is what `DigitalZoom.render` makes there, to
/// the bit.
///
/// Held up to `CaptureSettings.largestHeldSource`: a stage that reads it whole makes it again in
/// about 6 ms at 12 MP, and eight stages read it, so holding it saves about a tenth of a 12 MP
/// capture's time, for 48 MB.
public struct SourceLuma: Sendable {
    public let size: Size
    private let storage: Storage

    private enum Storage: Sendable {
        case held(Plane)
        case made(wide: BytePlane, resampler: EnlargingResampler)
    }

    public init(_ plane: Plane) {
        (size, storage) = (plane.size, .held(plane))
    }

    /// `Y_src` of W's luma as decoded (`wide`) in `view`, on a grid of `size`: made as it is
    /// read when it has more than `largestHeld` pixels and is W's crop enlarged (not turned,
    /// nowhere shrunk); else held.
    public init(wide: BytePlane, view: TeleView, size: Size, largestHeld: Int) {
        self.size = size
        guard Self.isMadeAsRead(wide: wide.size, view: view, size: size, largestHeld: largestHeld) else {
            storage = .held(DigitalZoom.render(wide, view: view, to: size))
            return
        }
        let columns = ResamplingTaps(
            sourceStart: view.crop.x, sourceLength: view.crop.width, sourceCount: wide.width, outputCount: size.width,
            kernel: .bicubic)
        storage = .made(wide: wide, resampler: EnlargingResampler(rows: Self.rowTaps(wide: wide.size, view: view, size: size), columns: columns))
    }

    /// Whether `init(wide:view:size:largestHeld:)` makes `Y_src` as it is read for a W of `wide`'s size.
    public static func isMadeAsRead(wide: Size, view: TeleView, size: Size, largestHeld: Int) -> Bool {
        size.pixelCount > largestHeld && view.rotation == 0 && !rowTaps(wide: wide, view: view, size: size).outputsFewerThanRead
    }

    private static func rowTaps(wide: Size, view: TeleView, size: Size) -> ResamplingTaps {
        ResamplingTaps(
            sourceStart: view.crop.y, sourceLength: view.crop.height, sourceCount: wide.height, outputCount: size.height,
            kernel: .bicubic)
    }

    /// Whether each read makes its part again.
    public var isMadeAsRead: Bool {
        if case .made = storage { true } else { false }
    }

    /// The whole plane: held, or made now.
    public var plane: Plane {
        switch storage {
        case let .held(plane):
            return plane
        case .made:
            var result = Plane(width: size.width, height: size.height)
            let width = size.width
            result.pixels.withUnsafeMutableBufferPointer { output in
                let output = UncheckedSendable(output)
                parallelChunks(size.height, itemCost: width) { rows in
                    write(rows: rows, columns: 0..<width, into: output.value.baseAddress! + rows.lowerBound * width, rowLength: width)
                }
            }
            return result
        }
    }

    /// Pixels `rows` × `columns` into `output`, each row `rowLength` after the one before.
    public func write(rows: Range<Int>, columns: Range<Int>, into output: UnsafeMutablePointer<Float>, rowLength: Int) {
        switch storage {
        case let .held(plane):
            plane.pixels.withUnsafeBufferPointer { pixels in
                for y in rows {
                    (output + (y - rows.lowerBound) * rowLength)
                        .update(from: pixels.baseAddress! + y * size.width + columns.lowerBound, count: columns.count)
                }
            }
        case let .made(wide, resampler):
            // The horizontal pass of a band is held while its rows are made: bands keep it small.
            for start in stride(from: rows.lowerBound, to: rows.upperBound, by: Self.band) {
                let band = start..<min(start + Self.band, rows.upperBound)
                wide.withSourceRows { source in
                    resampler.resample(
                        source, rows: band, columns: columns, into: output + (start - rows.lowerBound) * rowLength,
                        rowLength: rowLength)
                }
            }
        }
    }

    /// Rows made together: enough to share the source rows that neighbouring rows read, few
    /// enough that their passes stay in cache.
    private static let band = 32

    /// `body(rows, pixels)` for every row, in bands of `band` rows (whole, one after another:
    /// where they lie, or made into a buffer), the bands shared out to the cores. Each call may
    /// write only what belongs to its rows.
    public func forEachBand(_ body: (_ rows: Range<Int>, _ pixels: UnsafePointer<Float>) -> Void) {
        parallelChunks(size.height, itemCost: size.width) { chunk in
            for start in stride(from: chunk.lowerBound, to: chunk.upperBound, by: Self.band) {
                let rows = start..<min(start + Self.band, chunk.upperBound)
                withRows(rows) { body(rows, $0) }
            }
        }
    }

    /// `body` given the held plane's pixels, or nil where it is made as it is read.
    public func withHeldPixels<Result, E: Error>(
        _ body: (UnsafeBufferPointer<Float>?) throws(E) -> Result
    ) throws(E) -> Result {
        guard case let .held(plane) = storage else { return try body(nil) }
        return try plane.pixels.withUnsafeBufferPointer { pixels throws(E) in try body(pixels) }
    }

    /// `body` given pixels `rows` × `columns`: the held plane, or that rectangle made into a buffer.
    package func withRegion<Result>(
        rows: Range<Int>, columns: Range<Int>, _ body: (PlaneRegion) throws -> Result
    ) rethrows -> Result {
        switch storage {
        case let .held(plane):
            return try plane.pixels.withUnsafeBufferPointer { try body(PlaneRegion($0.baseAddress!, rowLength: size.width)) }
        case .made:
            return try withUnsafeTemporaryAllocation(of: Float.self, capacity: rows.count * columns.count) { buffer in
                write(rows: rows, columns: columns, into: buffer.baseAddress!, rowLength: columns.count)
                return try body(PlaneRegion(buffer.baseAddress!, origin: (columns.lowerBound, rows.lowerBound), rowLength: columns.count))
            }
        }
    }

    /// `body` given rows `rows`, whole, one after another: where they lie, or made into a buffer.
    public func withRows<Result>(_ rows: Range<Int>, _ body: (UnsafePointer<Float>) throws -> Result) rethrows -> Result {
        switch storage {
        case let .held(plane):
            return try plane.pixels.withUnsafeBufferPointer { try body($0.baseAddress! + rows.lowerBound * size.width) }
        case .made:
            return try withUnsafeTemporaryAllocation(of: Float.self, capacity: rows.count * size.width) { buffer in
                write(rows: rows, columns: 0..<size.width, into: buffer.baseAddress!, rowLength: size.width)
                return try body(buffer.baseAddress!)
            }
        }
    }
}

extension SourceLuma: ReadablePlane {
    var floats: Plane { plane }

    func withSourceRows<Result>(_ body: (SourceRows) -> Result) -> Result {
        switch storage {
        case let .held(plane):
            return plane.withSourceRows(body)
        case .made:
            let width = size.width
            return body(
                SourceRows(size: size) { rows, buffer in
                    write(rows: rows, columns: 0..<width, into: buffer, rowLength: width)
                })
        }
    }
}
