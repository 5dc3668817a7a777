// swift-tools-version:6.2
import PackageDescription

/// The pixel loops are written on SIMD8<Float>: on x86-64 they are compiled for AVX2 and FMA
/// (x86-64-v3: Intel Core since Haswell, 2013, and AMD since 2015, but not every Pentium, Celeron
/// or Atom), which the baseline's SSE2 would split in halves. The dense flow runs 15 % faster for
/// it. hzsrd checks the CPU before it runs any of it (`VectorInstructions`).
#if arch(x86_64)
let vectorSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let vectorSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "hzsr",
    products: [
        .executable(name: "hzsrd", targets: ["hzsrd"]),
        .executable(name: "hzsr", targets: ["hzsr"]),
        .library(name: "HybridZoom", targets: ["HybridZoom"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian, through pkg-config where the package ships a .pc file.
        .systemLibrary(name: "CInotifyTools", providers: [.apt(["libinotifytools0-dev"])]),
        .systemLibrary(
            name: "CSystemd", pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),

        // The image pipeline: pure computation, no I/O, no daemon concerns.
        .target(name: "HybridZoom", swiftSettings: vectorSettings),
        // The shipped fusion weights, compiled in from HZFusionNet/Resources by C's #embed.
        .target(name: "CFusionWeights"),
        // The fusion network (step 7) on oneDNN.
        .target(
            name: "HZFusionNet", dependencies: ["HybridZoom", "CDNNL", "CFusionWeights"],
            exclude: ["Resources"], swiftSettings: vectorSettings),
        // Decoding to planes with libjpeg(-turbo), whose errors TurboJPEG 2.1 reports inexactly.
        .target(name: "CJPEGDecoder", linkerSettings: [.linkedLibrary("jpeg")]),
        // Encoding in strips, one per core, with libjpeg(-turbo): TurboJPEG 2.1 encodes on one.
        .target(name: "CJPEGEncoder", linkerSettings: [.linkedLibrary("jpeg")]),
        // What the CPU supports, from CPUID, before any vector instruction runs.
        .target(name: "CCPUFeatures"),
        // The executables' allocator: freed frames stay in the heap for the next capture.
        .target(name: "CFrameMemory"),
        // JPEG and EXIF: decoding through CJPEGDecoder, encoding through CJPEGEncoder.
        .target(
            name: "HZImageIO", dependencies: ["HybridZoom", "CJPEGDecoder", "CJPEGEncoder"],
            swiftSettings: vectorSettings),
        // Spool watching, pairing, the on-disk state machine, publishing.
        .target(
            name: "HZSpool",
            dependencies: [
                "HybridZoom", "HZImageIO", "HZFusionNet", "CInotifyTools", "CCPUFeatures",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // Journal log handler and sd_notify.
        .target(
            name: "HZSystemd",
            dependencies: [
                "CSystemd", .product(name: "Logging", package: "swift-log"),
            ]),
        // The measurement harness: dual-rig simulation with ground truth, metrics, reports.
        .target(name: "HZHarness", dependencies: ["HybridZoom", "HZImageIO"], swiftSettings: vectorSettings),
        .executableTarget(
            name: "hzsrd",
            dependencies: [
                "HybridZoom", "HZFusionNet", "HZSpool", "HZSystemd", "CFrameMemory",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "hzsr",
            dependencies: [
                "HybridZoom", "HZImageIO", "HZFusionNet", "HZSpool", "HZSystemd", "HZHarness", "CFrameMemory",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Test-only helpers shared by the test targets: synthetic frames, scratch folders.
        .target(name: "HZTestSupport", dependencies: ["HybridZoom", "HZImageIO", "HZHarness"], path: "Tests/HZTestSupport"),
        .testTarget(name: "HybridZoomTests", dependencies: ["HybridZoom", "HZHarness", "HZTestSupport"]),
        .testTarget(
            name: "HZImageIOTests", dependencies: ["HZImageIO", "HybridZoom", "HZHarness", "HZTestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "HZFusionNetTests", dependencies: ["HZFusionNet", "HybridZoom", "HZHarness"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "HZSpoolTests", dependencies: ["HZSpool", "HybridZoom", "HZImageIO", "HZFusionNet", "HZTestSupport"]),
        .testTarget(name: "HZHarnessTests", dependencies: ["HZHarness", "HybridZoom", "HZImageIO", "HZTestSupport"]),
        .testTarget(name: "HZSystemdTests", dependencies: ["HZSystemd", "HZTestSupport"]),
        .testTarget(
            name: "IntegrationTests", dependencies: ["HybridZoom", "HZFusionNet", "HZSpool", "HZSystemd", "HZTestSupport", "CFrameMemory"],
            exclude: ["Fixtures"]),
    ]
)
