// swift-tools-version:6.1
import PackageDescription

/// SonoDual: self-supervised learning from fetal ultrasound video and sonographer speech.
///
/// Layering (see docs/ARCHITECTURE.md): C libraries are wrapped by exactly one module each
/// (CFFmpeg → SonoMedia, CFFTW3f → SonoSpectral, COpenBLAS → SonoTensor, SQLite → SonoCatalog
/// through GRDB); stage modules build on those; executables only parse arguments.
let package = Package(
    name: "SonoDual",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sono-ingest", targets: ["sono-ingest"]),
        .executable(name: "sono-sample", targets: ["sono-sample"]),
        .executable(name: "sono-segment", targets: ["sono-segment"]),
        .executable(name: "sono-extract", targets: ["sono-extract"]),
        .executable(name: "sono-train", targets: ["sono-train"]),
        .executable(name: "sono-inspect", targets: ["sono-inspect"]),
        .executable(name: "sono-bench", targets: ["sono-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        // C libraries, one system-library target per family.
        .systemLibrary(name: "CFFmpeg", pkgConfig: "libavformat",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev",
                                         "libswresample-dev", "libswscale-dev"])]),
        .systemLibrary(name: "CFFTW3f", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        // Small C kernels of our own (hardware CRC-32C, u8/f16 → f32 conversion).
        .target(name: "CSonoKernels"),

        // Library modules, in data-flow order.
        .target(name: "SonoCore", dependencies: ["CSonoKernels"]),
        .target(name: "SonoMedia", dependencies: ["CFFmpeg", "SonoCore"]),
        .target(name: "SonoSpectral", dependencies: ["CFFTW3f", "CSonoKernels", "SonoCore"]),
        .target(name: "SonoTensor", dependencies: ["COpenBLAS", "SonoCore"]),
        .target(name: "SonoAudio", dependencies: ["SonoCore", "SonoMedia", "SonoSpectral"]),
        .target(name: "SonoShards", dependencies: ["SonoCore"]),
        .target(name: "SonoSegment", dependencies: ["SonoCore", "SonoSpectral", "SonoAudio", "SonoCatalog", "SonoShards"]),
        .target(name: "SonoExtract", dependencies: [
            "SonoCore", "SonoMedia", "SonoSpectral", "SonoShards", "SonoCatalog", "SonoSegment",
        ]),
        .target(name: "SonoLoader", dependencies: [
            "CSonoKernels", "SonoCore", "SonoCatalog", "SonoShards", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "SonoModels", dependencies: ["SonoTensor"]),
        .target(name: "SonoTrain", dependencies: ["SonoCore", "SonoCatalog", "SonoLoader", "SonoModels", "SonoTensor"]),
        .target(name: "SonoCatalog", dependencies: ["SonoCore", "SonoShards", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "SonoIngest", dependencies: ["SonoCore", "SonoMedia", "SonoCatalog"]),
        .target(name: "SonoSample", dependencies: ["SonoCore", "SonoMedia"]),
        .target(name: "SonoInspection", dependencies: [
            "SonoCore", "SonoCatalog", "SonoShards", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "SonoTestSupport", dependencies: ["SonoCore", "SonoCatalog", "SonoShards"]),
        .target(name: "SonoCLI", dependencies: [
            "SonoCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Executables: parse arguments, call a module.
        .executableTarget(name: "sono-ingest", dependencies: [
            "SonoIngest", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-segment", dependencies: [
            "SonoSegment", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-extract", dependencies: [
            "SonoExtract", "SonoCatalog", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-train", dependencies: [
            "SonoTrain", "SonoCatalog", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-sample", dependencies: [
            "SonoSample", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-inspect", dependencies: [
            "SonoMedia", "SonoAudio", "SonoCatalog", "SonoInspection", "SonoLoader", "SonoSpectral", "SonoTensor", "SonoCLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-bench", dependencies: [
            "SonoMedia", "SonoSpectral", "SonoCatalog", "SonoShards", "SonoLoader", "SonoTensor", "SonoTestSupport", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "SonoCoreTests", dependencies: ["SonoCore"]),
        .testTarget(name: "SonoSpectralTests", dependencies: ["SonoSpectral", "SonoCore"], exclude: ["References"]),
        .testTarget(name: "SonoAudioTests", dependencies: ["SonoAudio", "SonoSample", "SonoTestSupport", "SonoCore"]),
        .testTarget(name: "SonoShardsTests", dependencies: [
            "SonoShards", "SonoCatalog", "SonoTestSupport", "SonoCore", "sono-bench",
        ]),
        .testTarget(name: "SonoSegmentTests", dependencies: ["SonoSegment", "SonoSpectral", "SonoCore"]),
        .testTarget(name: "SonoExtractTests", dependencies: [
            "SonoExtract", "SonoSegment", "SonoIngest", "SonoCatalog", "SonoShards", "SonoSample", "SonoTestSupport", "SonoCore",
            "sono-extract", "sono-inspect",
        ]),
        .testTarget(name: "SonoLoaderTests", dependencies: [
            "SonoLoader", "SonoCatalog", "SonoShards", "SonoTestSupport", "SonoCore", "sono-inspect",
        ]),
        .testTarget(name: "SonoTensorTests", dependencies: ["SonoTensor", "SonoCore"], exclude: ["Goldens"]),
        .testTarget(name: "SonoModelsTests", dependencies: ["SonoModels", "SonoTensor", "SonoCore"]),
        .testTarget(name: "SonoTrainTests", dependencies: [
            "SonoTrain", "SonoCatalog", "SonoShards", "SonoTensor", "SonoTestSupport",
        ]),
        .testTarget(name: "SonoMediaTests", dependencies: ["SonoMedia", "SonoSample", "SonoCore", "SonoTestSupport", "sono-bench"]),
        .testTarget(name: "SonoIngestTests", dependencies: [
            "SonoIngest", "SonoCatalog", "SonoSample", "SonoCore", "SonoTestSupport",
        ]),
        .testTarget(name: "SonoCLITests", dependencies: [
            "SonoCore", "SonoTestSupport", "sono-ingest", "sono-sample", "sono-inspect",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
