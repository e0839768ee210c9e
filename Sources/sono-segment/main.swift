import ArgumentParser
import SonoCLI
import SonoSegment

/// `sono-segment`: plan a dataset recipe's clips on every ingested scan.
struct SonoSegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-segment",
        abstract: "Plan the clips of a dataset recipe (data-manifests/recipes/*.toml) on every ingested scan.",
        discussion: "A changed recipe makes a new dataset version. Exit status: 0 all scans planned, 2 some failed, 1 usage error.")

    @OptionGroup var stage: StageOptions
    @Option(help: "Dataset recipe (TOML).") var recipe: String
    @Option(help: "Folder for this dataset's shards (default: datasets/<name>-v<version> beside the catalog).") var root: String?

    func run() throws {
        let summary = try Segmenter(jobs: stage.jobs(default: 2), showProgress: !stage.quiet)
            .runStage(catalogPath: stage.catalog, recipePath: recipe, datasetRoot: root, arguments: CommandLine.arguments)
        print(summary.report)
        if !summary.failed.isEmpty { throw StageExit.someInputsFailed }
    }
}

SonoSegmentCommand.mainWithStageExitCodes()
