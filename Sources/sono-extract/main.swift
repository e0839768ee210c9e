import ArgumentParser
import SonoCLI
import Foundation
import SonoCatalog
import SonoExtract

/// `sono-extract`: write the planned clips of one or more datasets into shards.
struct SonoExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-extract",
        abstract: "Extract planned clips into shards, or merge partitioned extractions.",
        subcommands: [Extract.self, Merge.self], defaultSubcommand: Extract.self)
}

/// `sono-extract merge`: join the parts of a partitioned extraction into the main catalog.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join part catalogs (made with --part i/n --out DIR) into the main catalog; shards stay where they are.")
    @OptionGroup var catalog: CatalogOption
    @Argument(help: "Part catalogs (DIR/catalog.part-i-of-n.sqlite).") var parts: [String]

    func run() throws {
        let main = try Catalog(path: catalog.path)
        for path in parts {
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no part catalog at \(path)") }
            let r = try main.merge(part: Catalog(path: path))
            print("merged \(path): \(r.scansMerged) scans (\(r.shards) shards), \(r.scansAlreadyMerged) already merged, \(r.failedScans) failed scans recorded")
        }
    }
}

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Extract planned clips (frames, still, log-mel) of datasets into shards, one decode pass per scan.",
        discussion: "Resumable: committed scans are skipped; an interrupted run is cleaned up and finished. Exit status: 0 all scans extracted, 2 some failed (the others are committed), 1 usage error.")

    @OptionGroup var stage: StageOptions
    @OptionGroup var datasets: DatasetNamesOption
    @Option(help: "Output folder; each dataset's shards go to OUT/<name>-v<version>.") var out: String?
    @Option(help: "Decoder threads per scan (default: the cores divided among --jobs, at least 1).") var threads: Int?
    @Option(help: "Only the scans of part i of n (i/n), by scan-id order.") var part: String?
    @Option(help: "Target shard size in MiB.") var shardMib = 256
    @Flag(help: "Skip H.264 deblocking (faster; see docs/media.md for its PSNR).") var skipLoopFilter = false
    @Option(help: "planned: decode only the packets the clips need, bit-identical to all (H.264, HEVC, MPEG-4 Part 2; other or damaged streams are decoded through, and the summary says why); all: decode every frame.") var decode = ScanDecode.Mode.planned

    func validate() throws {
        guard threads ?? 1 >= 1, shardMib >= 1 else { throw ValidationError("--threads and --shard-mib must be at least 1") }
        if let part, ScanPart(parsing: part) == nil { throw ValidationError("--part must be i/n with 0 ≤ i < n") }
    }

    func run() throws {
        var extractor = Extractor()
        extractor.jobs = stage.jobs
        extractor.decoderThreads = threads
        extractor.skipLoopFilter = skipLoopFilter
        extractor.decodeMode = decode
        extractor.targetShardBytes = shardMib << 20
        extractor.part = part.flatMap(ScanPart.init(parsing:))
        extractor.showProgress = !stage.quiet
        let summary = try extractor.runStage(catalogPath: stage.catalog, datasetNames: datasets.names, out: out, arguments: CommandLine.arguments)
        print(summary.report)
        if !summary.failed.isEmpty { throw StageExit.someInputsFailed }
    }
}

SonoExtractCommand.mainWithStageExitCodes()
extension ScanDecode.Mode: ExpressibleByArgument {}
