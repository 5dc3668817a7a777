import CTurboJPEG

/// Runs `body` with a fresh handle from `create` (tjInitCompress or tjInitDecompress) and
/// destroys it afterwards: handles are cheap, and one per call keeps calls independent.
func withTurboJPEGHandle<Result>(
    _ create: () -> tjhandle?,
    _ body: (tjhandle) throws -> Result
) throws -> Result {
    guard let handle = create() else { throw JPEGError.turboJPEG(turboJPEGMessage(nil)) }
    defer { tjDestroy(handle) }
    return try body(handle)
}

/// TurboJPEG's text for the last problem on `handle`, or for a failed tjInit… when nil.
func turboJPEGMessage(_ handle: tjhandle?) -> String {
    String(cString: tjGetErrorStr2(handle))
}
