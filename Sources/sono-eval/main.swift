import ArgumentParser
import Foundation
import SonoCatalog
import SonoCLI
import SonoCore
import SonoDataset
import SonoEval
import SonoTrain

/// `sono-eval`: linear probe on frozen features; cross-modal retrieval of a checkpoint.
struct SonoEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-eval", abstract: "Evaluate pretrained encoders: a linear probe on frozen features, and retrieval.",
        subcommands: [Probe.self, Compare.self, Retrieval.self, Tables.self])
}

/// `sono-eval probe`: multinomial logistic regression per fold by scan.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Linear probe (L2 logistic regression, C by scan-grouped CV on the training folds) on sono-embed features of a labelled frame dataset, per fold of its folds by scan; accuracy, macro P/R/F1 (13 planes and all classes), per class, confusion; mean (sd).")
    @OptionGroup var catalog: CatalogOption
    @Option(help: "The labelled frame dataset the features are of.") var dataset: String
    @Option(help: "Features from sono-embed (F.npy).") var features: String
    @Option(help: "Folder for probe.json and probe.md.") var out: String?

    func run() throws {
        let cat = try Catalog(path: catalog.path)
        let table = try FeatureTable.read(features, catalog: cat, dataset: dataset)
        let record = try cat.latestDataset(named: dataset)
        let folds = try cat.folds(datasetID: record.id ?? -1)
        guard !folds.isEmpty else { throw ValidationError("dataset \(record.label) has no folds (add [folds] to its recipe)") }
        let classes = record.parsedRecipe?.frames?.classes ?? .paper
        let x = try FeatureMatrix(rows: table.count, columns: table.dimension, floats: table.features)
        let report = try FoldedProbe.evaluate(x, labels: table.labels, scans: table.scanIDs, foldOfScan: folds, classes: classes)
        let s = report.summary
        print(String(format: "probe %@ on %@: %d records, %d folds; accuracy %.3f (%.3f), macro F1 over the planes %.3f (%.3f), over all classes %.3f (%.3f)",
                     features, record.label, table.count, report.folds.count, s.accuracy.mean, s.accuracy.sd ?? 0,
                     s.macroSubset.f1.mean, s.macroSubset.f1.sd ?? 0, s.macroAll.f1.mean, s.macroAll.f1.sd ?? 0))
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try EvalJSON.encode(report).write(to: URL(fileURLWithPath: out).appendingPathComponent("probe.json"))
            try s.markdownTable().write(toFile: out + "/probe.md", atomically: true, encoding: .utf8)
        }
    }
}

/// `sono-eval compare`: is a pretrained encoder's probe better than random initialisation's?
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Paired comparison of probe reports over the same folds: the candidates' accuracy and macro F1 (planes) minus the baselines' mean, fold by fold, with the mean gain, its sd over folds and a 95 % t-interval.",
        discussion: "Several --candidate reports (e.g. one pretraining seed each) pool their (candidate, fold) differences; several --baseline reports (e.g. random initialisations of different seeds) are averaged per fold.")
    @Option(help: "probe.json of the encoder under test (repeatable).") var candidate: [String] = []
    @Option(help: "probe.json of the reference, e.g. random initialisation (repeatable).") var baseline: [String] = []
    @Option(help: "Folder for comparison.json and comparison.md.") var out: String?

    func validate() throws {
        guard !candidate.isEmpty, !baseline.isEmpty else { throw ValidationError("give at least one --candidate and one --baseline probe.json") }
    }

    func run() throws {
        let comparison = try ProbeComparison(candidates: candidate.map(FoldedProbeReport.read), baselines: baseline.map(FoldedProbeReport.read))
        for line in comparison.summaryLines() { print(line) }
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try EvalJSON.encode(comparison).write(to: URL(fileURLWithPath: out).appendingPathComponent("comparison.json"))
            try comparison.markdownTable().write(toFile: out + "/comparison.md", atomically: true, encoding: .utf8)
        }
    }
}

/// `sono-eval retrieval`: the trainer's validation on any split of a clip dataset.
struct Retrieval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Video→audio and video→image R@1/5/10 and median rank over a split of a clip dataset, in the MMCL latent and the MMSL embedding, with a sono-train checkpoint (last or best): the same code as the trainer's validation.")
    @OptionGroup var catalog: CatalogOption
    @Option(help: "A sono-train checkpoint (last.safetensors or best.safetensors).") var checkpoint: String
    @Option(help: "Clip dataset.") var dataset: String
    @Option(help: "Split (train, val, test).") var split: Split = .test

    func run() throws {
        let report = try Trainer.retrieval(checkpoint: checkpoint, catalog: Catalog(path: catalog.path), dataset: dataset, split: split)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}

/// `sono-eval tables`: the paper's Tables 1–3 from sono-finetune reports.
struct Tables: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The paper's Tables 1–3 (planes P/R/F1, saliency KLD/SIM/NSS/CC, ablations) from sono-finetune reports.",
        discussion: "Each NAME=DIR names a start whose DIR holds planes/report.json and saliency/report.json.")
    @Option(name: .customLong("run"), help: "A row of Tables 1 and 2: NAME=DIR (repeatable).") var runs: [String] = []
    @Option(help: "A row of Table 3: NAME=DIR (repeatable).") var ablation: [String] = []
    @Option(help: "A line to print under the tables (repeatable).") var note: [String] = []
    @Option(help: "Markdown file to write (printed too).") var out: String?

    func validate() throws {
        guard !runs.isEmpty || !ablation.isEmpty else { throw ValidationError("give at least one --run or --ablation NAME=DIR") }
    }

    func run() throws {
        let text = try PaperTables(rows: runs, ablations: ablation).markdown() + note.map { "\nNote: \($0)\n" }.joined()
        if let out { try text.write(toFile: out, atomically: true, encoding: .utf8) }
        print(text, terminator: "")
    }
}

SonoEvalCommand.mainWithStageExitCodes()
