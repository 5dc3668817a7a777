import CCPUFeatures

/// The pixel targets are compiled for x86-64-v3 (Package.swift): on a CPU without AVX2 and FMA
/// their first vector instruction would kill the process with SIGILL and no word of why. This
/// module is compiled for the baseline, so it can look first.
public enum VectorInstructions {
    /// Why this CPU cannot run the pixel code, or nil when it can (or the build is not x86-64).
    public static func missing() -> String? {
        missing(avx2: hz_cpu_has_avx2() != 0, fma: hz_cpu_has_fma() != 0)
    }

    static func missing(avx2: Bool, fma: Bool) -> String? {
        let absent = [("avx2", avx2), ("fma", fma)].filter { !$0.1 }.map(\.0)
        guard !absent.isEmpty else { return nil }
        return "this CPU lacks \(absent.joined(separator: " and ")), which this build of hzsr needs (x86-64-v3); "
            + "build it without `vectorSettings` in Package.swift to run here"
    }
}
