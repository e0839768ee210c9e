import Foundation
import SonoCore
import SonoEval
import SonoTrain

/// One evaluation result file, read as whichever kind it is: a plane fine-tune's or a probe's
/// `report.json` (classification over folds), or a saliency fine-tune's.
public enum EvaluationResult: Sendable {
    case planes(FineTuneReport)
    case probe(FoldedProbeReport)
    case saliency(SaliencyReport)

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(path: path, reason: "cannot read the evaluation report") }
        let decoder = JSONDecoder()
        if let r = try? decoder.decode(FineTuneReport.self, from: data) { self = .planes(r) }
        else if let r = try? decoder.decode(SaliencyReport.self, from: data) { self = .saliency(r) }
        else if let r = try? decoder.decode(FoldedProbeReport.self, from: data) { self = .probe(r) }
        else { throw InputError(path: path, reason: "not a sono-finetune (planes or saliency) or sono-eval probe report.json") }
    }

    /// The classification part (fine-tune or probe): per-fold metrics and their summary.
    var classification: (folds: [ClassificationMetrics], summary: FoldSummary)? {
        switch self {
        case .planes(let r): return (r.folds, r.summary)
        case .probe(let r): return (r.folds, r.summary)
        case .saliency: return nil
        }
    }
}

/// The report's evaluation part (issue 19, item 3): the tables in the paper's shape (Table 1:
/// standard planes; Table 2: saliency), and per classification run the confusion matrix summed
/// over folds and the per-class F1.
public struct EvaluationSection: Sendable {
    public var results: [(name: String, result: EvaluationResult)]
    public init(results: [(name: String, result: EvaluationResult)]) { self.results = results }

    static func cell(_ m: MeanSD) -> String { String(format: "%.3f", m.mean) + (m.sd.map { String(format: " (%.3f)", $0) } ?? "") }

    public func render(into page: HTMLPage) throws {
        guard !results.isEmpty else { return }
        page.heading("Evaluation", id: "evaluation")
        let classifying = results.compactMap { r in r.result.classification.map { (r.name, $0) } }
        if !classifying.isEmpty {
            page.heading("Standard-plane detection (Table 1's shape)", level: 3)
            page.paragraph("Macro over the planes (background excluded); mean (sd) over folds by scan.", className: "note")
            page.table([["run", "precision", "recall", "F1", "accuracy", "folds"]] + classifying.map { name, c in
                [name, Self.cell(c.summary.macroSubset.precision), Self.cell(c.summary.macroSubset.recall), Self.cell(c.summary.macroSubset.f1),
                 Self.cell(c.summary.accuracy), "\(c.summary.folds)"]
            })
            for (k, (name, c)) in classifying.enumerated() {
                let n = c.summary.classes.count
                var total = [[Int]](repeating: [Int](repeating: 0, count: n), count: n)
                for f in c.folds where f.confusion.count == n {
                    for i in 0..<n { for j in 0..<n { total[i][j] += f.confusion[i][j] } }
                }
                try page.figure(svg: SVGChart.heatmap(total, labels: c.summary.classes, title: "\(name): confusion matrix, all folds (rows true, columns predicted)"),
                                name: "confusion-\(k)-\(DatasetSection.fileSafe(name))")
                try page.figure(svg: SVGChart.bars(c.summary.perClass.map { (label: $0.id, value: $0.f1.mean) }, title: "\(name): F1 per class (mean over folds)", yLabel: "F1"),
                                name: "class-f1-\(k)-\(DatasetSection.fileSafe(name))")
            }
        }
        let saliency = results.compactMap { r -> (String, SaliencyReport)? in if case .saliency(let s) = r.result { return (r.name, s) } else { return nil } }
        if !saliency.isEmpty {
            page.heading("Saliency prediction (Table 2's shape)", level: 3)
            var rows: [[String]] = [["run", "KLD ↓", "SIM ↑", "NSS ↑", "CC ↑", "folds"]]
            for (name, s) in saliency {
                let folds = "\(s.folds.count)"
                rows.append([name, Self.cell(s.kld), Self.cell(s.sim), Self.cell(s.nss), Self.cell(s.cc), folds])
                let prior: [String] = ["kld", "sim", "nss", "cc"].map { key in s.prior[key].map(Self.cell) ?? "-" }
                rows.append(["\(name): training-gaze prior"] + prior + [folds])
            }
            page.table(rows)
        }
    }
}
