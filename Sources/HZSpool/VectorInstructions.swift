import Foundation

/// The pixel targets are compiled for x86-64-v3 (Package.swift): on a CPU without AVX2 and FMA
/// their first vector instruction would kill the process with SIGILL and no word of why. This
/// module is compiled for the baseline, so it can look first.
public enum VectorInstructions {
    /// Why this CPU cannot run the pixel code, or nil when it can (or the build is not x86-64).
    public static func missing(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        #if arch(x86_64)
        guard let flags = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let present = Set(flags.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }))
        let absent = ["avx2", "fma"].filter { !present.contains(Substring($0)) }
        guard !absent.isEmpty else { return nil }
        return "this CPU lacks \(absent.joined(separator: " and ")), which this build of hzsr needs (x86-64-v3); "
            + "build it without `vectorSettings` in Package.swift to run here"
        #else
        return nil
        #endif
    }
}
