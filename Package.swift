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
        .executable(name: "sono-embed", targets: ["sono-embed"]),
        .executable(name: "sono-eval", targets: ["sono-eval"]),
        .executable(name: "sono-finetune", targets: ["sono-finetune"]),
        .executable(name: "sono-inspect", targets: ["sono-inspect"]),
        .executable(name: "sono-report", targets: ["sono-report"]),
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

        // Library modules, in data-flow order (docs/ARCHITECTURE.md).
        .target(name: "SonoCore", dependencies: ["CSonoKernels"]),
        // Media in: decoding, the log-mel front end and speech activity, a scan's audio.
        .target(name: "SonoMedia", dependencies: ["CFFmpeg", "SonoCore"]),
        .target(name: "SonoSpectral", dependencies: ["CFFTW3f", "CSonoKernels", "SonoCore"]),
        .target(name: "SonoAudio", dependencies: ["SonoCore", "SonoMedia", "SonoSpectral"]),
        .target(name: "SonoSample", dependencies: ["SonoCore", "SonoMedia"]),
        // The dataset model: shard format, dataset definition, the catalog (the only SQL).
        .target(name: "SonoShards", dependencies: ["SonoCore"]),
        .target(name: "SonoDataset", dependencies: ["SonoCore", "SonoSpectral", "SonoShards"]),
        .target(name: "SonoCatalog", dependencies: [
            "SonoCore", "SonoShards", "SonoDataset", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Stages over the dataset model.
        .target(name: "SonoIngest", dependencies: ["SonoCore", "SonoMedia", "SonoDataset", "SonoCatalog"]),
        .target(name: "SonoSegment", dependencies: ["SonoCore", "SonoSpectral", "SonoAudio", "SonoDataset", "SonoCatalog"]),
        .target(name: "SonoExtract", dependencies: [
            "SonoCore", "SonoMedia", "SonoSpectral", "SonoShards", "SonoDataset", "SonoCatalog",
        ]),
        .target(name: "SonoLoader", dependencies: ["CSonoKernels", "SonoCore", "SonoShards", "SonoDataset", "SonoCatalog"]),
        // Learning: the engine, the models, the trainer.
        .target(name: "SonoTensor", dependencies: ["COpenBLAS", "CSonoKernels", "SonoCore"]),
        .target(name: "SonoModels", dependencies: ["SonoCore", "SonoTensor"]),
        .target(name: "SonoTrain", dependencies: ["SonoCore", "SonoDataset", "SonoCatalog", "SonoLoader", "SonoModels", "SonoTensor", "SonoEval"]),
        .target(name: "SonoEval", dependencies: ["SonoCore", "SonoDataset"]),
        // Looking at what was made; shared command-line parts; test helpers.
        .target(name: "SonoInspection", dependencies: ["SonoCore", "SonoShards", "SonoDataset", "SonoCatalog"]),
        .target(name: "SonoReport", dependencies: ["SonoCore", "SonoShards", "SonoDataset", "SonoCatalog", "SonoInspection", "SonoMedia", "SonoModels", "SonoTrain", "SonoSegment"]),
        .target(name: "SonoCLI", dependencies: [
            "SonoCore", "SonoDataset", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "SonoTestSupport", dependencies: ["SonoCore", "SonoShards", "SonoDataset", "SonoCatalog"]),

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
        .executableTarget(name: "sono-embed", dependencies: [
            "SonoTrain", "SonoDataset", "SonoCatalog", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-eval", dependencies: [
            "SonoTrain", "SonoEval", "SonoDataset", "SonoCatalog", "SonoCore", "SonoCLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-finetune", dependencies: [
            "SonoTrain", "SonoEval", "SonoCatalog", "SonoCore", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-sample", dependencies: [
            "SonoSample", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-inspect", dependencies: [
            "SonoMedia", "SonoAudio", "SonoCatalog", "SonoInspection", "SonoLoader", "SonoSpectral", "SonoTensor", "SonoCLI", "SonoExtract",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-report", dependencies: [
            "SonoReport", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sono-bench", dependencies: [
            "SonoMedia", "SonoSpectral", "SonoDataset", "SonoCatalog", "SonoShards", "SonoLoader", "SonoTensor", "SonoTestSupport", "SonoCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "SonoCoreTests", dependencies: ["SonoCore"]),
        .testTarget(name: "SonoSpectralTests", dependencies: ["SonoSpectral", "SonoCore"], exclude: ["References"]),
        .testTarget(name: "SonoAudioTests", dependencies: ["SonoAudio", "SonoSample", "SonoTestSupport", "SonoCore"]),
        .testTarget(name: "SonoShardsTests", dependencies: [
            "SonoShards", "SonoDataset", "SonoCatalog", "SonoTestSupport", "SonoCore", "sono-bench",
        ]),
        .testTarget(name: "SonoDatasetTests", dependencies: ["SonoDataset", "SonoShards", "SonoCore"]),
        .testTarget(name: "SonoSegmentTests", dependencies: ["SonoSegment", "SonoDataset", "SonoSpectral", "SonoCore"]),
        .testTarget(name: "SonoExtractTests", dependencies: [
            "SonoExtract", "SonoSegment", "SonoDataset", "SonoIngest", "SonoCatalog", "SonoShards", "SonoSample", "SonoTestSupport", "SonoCore", "SonoTrain", "SonoEval", "SonoTensor", "SonoInspection", "SonoMedia",
            "sono-extract", "sono-inspect", "sono-finetune",
        ]),
        .testTarget(name: "SonoLoaderTests", dependencies: [
            "SonoLoader", "SonoDataset", "SonoCatalog", "SonoShards", "SonoTestSupport", "SonoCore", "sono-inspect",
        ]),
        .testTarget(name: "SonoTensorTests", dependencies: ["SonoTensor", "SonoCore"], exclude: ["Goldens"]),
        .testTarget(name: "SonoModelsTests", dependencies: ["SonoModels", "SonoTensor", "SonoCore", "SonoTestSupport"]),
        .testTarget(name: "SonoEvalTests", dependencies: ["SonoEval", "SonoDataset", "SonoCore"], exclude: ["References"]),
        .testTarget(name: "SonoTrainTests", dependencies: [
            "SonoTrain", "SonoModels", "SonoDataset", "SonoCatalog", "SonoShards", "SonoTensor", "SonoTestSupport", "SonoCore", "sono-train",
        ]),
        .testTarget(name: "SonoMediaTests", dependencies: ["SonoMedia", "SonoSample", "SonoCore", "SonoTestSupport", "sono-bench"]),
        .testTarget(name: "SonoIngestTests", dependencies: [
            "SonoIngest", "SonoMedia", "SonoCatalog", "SonoSample", "SonoCore", "SonoTestSupport",
        ]),
        .testTarget(name: "SonoSampleTests", dependencies: ["SonoSample", "SonoDataset", "SonoCore", "SonoTestSupport", "sono-sample"]),
        .testTarget(name: "SonoCLITests", dependencies: [
            "SonoCore", "SonoTestSupport", "sono-ingest", "sono-sample", "sono-inspect", "sono-report",
        ]),
        .testTarget(name: "SonoReportTests", dependencies: [
            "SonoReport", "SonoCore", "SonoTestSupport", "SonoCatalog", "SonoExtract", "SonoSegment", "SonoIngest", "SonoSample",
            "sono-report", "sono-train",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
