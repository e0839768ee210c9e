import ArgumentParser
import Foundation
import SonoCLI
import SonoReport

/// `sono-report`: pictures of a dataset and of training runs, in one self-contained HTML page.
struct SonoReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-report",
        abstract: "Write one self-contained HTML page (figures inline, and as SVG/PNG files beside it) of datasets and training runs.",
        discussion: "Dataset: per-scan timelines of speech and clips, counts, histograms, sample clips, crops. Training: loss terms, lr, clips/s, data wait and validation retrieval over steps, from JSON-lines logs (a log still being written is read up to its last whole line).")

    @Option(help: "Catalog whose datasets are shown.") var catalog: String?
    @Option(help: "Comma-separated dataset names (latest versions); default: every dataset.") var datasets: String?
    @Option(help: "A training log, NAME=PATH or PATH (repeatable).") var log: [String] = []
    @Option(help: "An evaluation report.json (sono-finetune planes/saliency, sono-eval probe), NAME=PATH or PATH (repeatable).") var eval: [String] = []
    @Option(help: "Sample clips shown per dataset.") var samples = 6
    @Option(help: "At most this many scans get their crop drawn on a frame (default: every scan).") var crops: Int?
    @Option(help: "Output folder (report.html and its figures).") var out: String
    @Option(help: "Page title.") var title = "SonoDual report"

    func validate() throws {
        guard catalog != nil || !log.isEmpty || !eval.isEmpty else { throw ValidationError("give --catalog, --log or --eval") }
        guard samples >= 0, crops ?? 0 >= 0 else { throw ValidationError("--samples and --crops must be ≥ 0") }
        for entry in log + eval where entry.isEmpty { throw ValidationError("--log and --eval need a path") }
    }

    func run() throws {
        var report = Report()
        report.catalogPath = catalog
        report.title = title
        report.dataset.datasetNames = datasets.map(CommaList.items) ?? []
        report.dataset.samplesPerDataset = samples
        report.dataset.cropScans = crops
        report.logs = log.map(Self.named)
        report.evaluations = eval.map(Self.named)
        print(try report.write(to: out).path)
    }
}

extension SonoReportCommand {
    /// "NAME=PATH", or PATH named after its file (its folder for a report.json).
    static func named(_ entry: String) -> (name: String, path: String) {
        if let eq = entry.firstIndex(of: "="), !entry[..<eq].contains("/") {
            return (String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
        }
        let url = URL(fileURLWithPath: entry)
        let stem = url.deletingPathExtension().lastPathComponent
        return (stem == "report" ? url.deletingLastPathComponent().lastPathComponent : stem, entry)
    }
}

SonoReportCommand.mainWithStageExitCodes()
