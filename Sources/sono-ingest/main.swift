import ArgumentParser
import SonoCLI
import SonoIngest

/// `sono-ingest`: probe the recordings of a manifest into the catalog.
struct SonoIngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-ingest",
        abstract: "Probe the recordings listed in a manifest and record them in the catalog.",
        discussion: "Exit status: 0 all ingested, 2 some recordings failed (the others are ingested), 1 usage error.")

    @OptionGroup var stage: StageOptions
    @Option(help: "Recording manifest CSV (scan_id,video[,audio,audio_offset_ms,crop]).") var manifest: String
    @Flag(help: "Keep whole frames when the manifest gives no crop (default: detect the moving sector).") var noAutoCrop = false

    func run() throws {
        let summary = try Ingestor(jobs: stage.jobs(default: 2), showProgress: !stage.quiet, autoCrop: !noAutoCrop)
            .runStage(catalogPath: stage.catalog, manifestPath: manifest, arguments: CommandLine.arguments)
        print(summary.report)
        if !summary.allSucceeded { throw StageExit.someInputsFailed }
    }
}

SonoIngestCommand.mainWithStageExitCodes()
