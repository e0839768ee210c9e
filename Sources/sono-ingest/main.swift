import ArgumentParser
import SonoCLI
import SonoIngest

/// `sono-ingest`: probe the recordings of a manifest into the catalog.
struct SonoIngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-ingest",
        abstract: "Probe the recordings listed in a manifest and record them in the catalog.",
        discussion: "Exit status: 0 all ingested, 2 some recordings failed (the others are ingested), 1 usage error.")

    @Option(help: "Catalog (SQLite) path; created if missing.") var catalog: String
    @Option(help: "Recording manifest CSV (scan_id,video[,audio,audio_offset_ms,crop]).") var manifest: String
    @Option(help: "Recordings probed in parallel.") var jobs = 2
    @Flag(help: "No progress display.") var quiet = false
    @Flag(help: "Keep whole frames when the manifest gives no crop (default: detect the moving sector).") var noAutoCrop = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        let summary = try Ingestor(jobs: jobs, showProgress: !quiet, autoCrop: !noAutoCrop)
            .runStage(catalogPath: catalog, manifestPath: manifest, arguments: CommandLine.arguments)
        print(summary.report)
        if !summary.allSucceeded { throw StageExit.someInputsFailed }
    }
}

SonoIngestCommand.mainWithStageExitCodes()
