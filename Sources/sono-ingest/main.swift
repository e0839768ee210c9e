import ArgumentParser
import SonoCatalog
import SonoCLI
import SonoIngest

/// `sono-ingest`: recordings (a manifest) or labels (a plane or gaze manifest) into the catalog.
struct SonoIngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-ingest",
        abstract: "Record recordings or labels in the catalog.",
        subcommands: [Recordings.self, Labels.self], defaultSubcommand: Recordings.self)
}

/// `sono-ingest [recordings]`: probe the recordings of a manifest into the catalog.
struct Recordings: ParsableCommand {
    static let configuration = CommandConfiguration(
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

/// `sono-ingest labels`: a label manifest as a new version of a label set.
struct Labels: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a plane-label (scan_id,start_s,end_s,label) or gaze (scan_id,time_s,x,y) manifest against the ingested recordings and store it as a label set.",
        discussion: "Times are seconds from each scan's first video frame; gaze points are displayed pixels. Any bad row is an error naming the file and line, and nothing is stored. The same content again is the same version.")

    @OptionGroup var catalog: CatalogOption
    @Option(help: "Plane labels CSV.") var planes: String?
    @Option(help: "Gaze CSV.") var gaze: String?
    @Option(help: "Label set name (default: the file's name without extension).") var name: String?

    func validate() throws {
        guard (planes == nil) != (gaze == nil) else { throw ValidationError("give exactly one of --planes and --gaze") }
    }

    func run() throws {
        let kind: LabelSetRecord.Kind = planes != nil ? .planes : .gaze
        print(try LabelIngestor().ingest(catalogPath: catalog.path, manifest: planes ?? gaze ?? "", kind: kind, name: name))
    }
}

SonoIngestCommand.mainWithStageExitCodes()
