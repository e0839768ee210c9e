import Foundation
import SonoCore
import SonoEval
import SonoInspection
import SonoTrain

/// One evaluation result file, read as whichever kind it is: a plane fine-tune's or a probe's
/// `report.json` (classification over folds), a saliency fine-tune's, or a probe comparison's.
public enum EvaluationResult: Sendable {
    case planes(FineTuneReport)
    case probe(FoldedProbeReport)
    /// With the example frames and maps its folds wrote beside it (`SaliencyExamples`).
    case saliency(SaliencyReport, examples: [SaliencyExamples])
    /// `sono-eval compare`'s comparison.json: a probe's gain over a baseline on the same folds.
    case comparison(ProbeComparison)

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(path: path, reason: "cannot read the evaluation report") }
        let decoder = JSONDecoder()
        if let r = try? decoder.decode(FineTuneReport.self, from: data) { self = .planes(r) }
        else if let r = try? decoder.decode(SaliencyReport.self, from: data) {
            self = .saliency(r, examples: try SaliencyExamples.read(from: URL(fileURLWithPath: path).deletingLastPathComponent().path))
        }
        else if let r = try? decoder.decode(FoldedProbeReport.self, from: data) { self = .probe(r) }
        else if let r = try? decoder.decode(ProbeComparison.self, from: data) { self = .comparison(r) }
        else { throw InputError(path: path, reason: "not a sono-finetune (planes or saliency) report.json, a sono-eval probe.json or a sono-eval compare comparison.json") }
    }

    /// The classification part (fine-tune or probe): per-fold metrics and their summary.
    var classification: (folds: [ClassificationMetrics], summary: FoldSummary)? {
        switch self {
        case .planes(let r): return (r.folds, r.summary)
        case .probe(let r): return (r.folds, r.summary)
        case .saliency, .comparison: return nil
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
        let comparisons = results.compactMap { r -> (String, ProbeComparison)? in
            if case .comparison(let c) = r.result { return (r.name, c) } else { return nil }
        }
        if !comparisons.isEmpty {
            page.heading("Probe gains over a baseline", level: 3)
            page.paragraph("Per fold, the candidate minus the baselines' mean on the same scans; the gain is their mean, the spread their sd, the interval Student's t at 95 %.", className: "note")
            var rows: [[String]] = [["comparison", "metric", "candidate", "baseline", "gain", "95 % interval", "sd of the differences", "differences"]]
            for (name, c) in comparisons {
                for (metric, g) in [("accuracy", c.accuracy), ("macro F1 (planes)", c.macroF1Planes)] {
                    let interval = g.lower.map { String(format: "%+.3f … %+.3f", $0, g.upper ?? $0) } ?? "-"
                    rows.append([name, metric, Self.cell(g.candidate), Self.cell(g.baseline), String(format: "%+.3f", g.gain.mean), interval,
                                 g.gain.sd.map { String(format: "%.3f", $0) } ?? "-", "\(g.differences.count)"])
                }
            }
            page.table(rows)
        }
        let saliency = results.compactMap { r -> (String, SaliencyReport, [SaliencyExamples])? in
            if case .saliency(let s, let examples) = r.result { return (r.name, s, examples) } else { return nil }
        }
        if !saliency.isEmpty {
            page.heading("Saliency prediction (Table 2's shape)", level: 3)
            var rows: [[String]] = [["run", "KLD ↓", "SIM ↑", "NSS ↑", "CC ↑", "folds"]]
            for (name, s, _) in saliency {
                let folds = "\(s.folds.count)"
                rows.append([name, Self.cell(s.kld), Self.cell(s.sim), Self.cell(s.nss), Self.cell(s.cc), folds])
                let prior: [String] = ["kld", "sim", "nss", "cc"].map { key in s.prior[key].map(Self.cell) ?? "-" }
                rows.append(["\(name): training-gaze prior"] + prior + [folds])
            }
            page.table(rows)
            for (k, (name, _, examples)) in saliency.enumerated() {
                for e in examples {
                    for i in e.frames.indices {
                        let pngs = [("frame", nil), ("truth", e.truth[i]), ("predicted", e.predicted[i])].map { part, map in
                            (name: "saliency-\(k)-\(DatasetSection.fileSafe(name))-fold\(e.fold)-\(i)-\(part)",
                             data: Self.overlay(e.frames[i], size: e.size, map: map, mapSize: e.mapSize), width: e.size, height: e.size,
                             scale: e.size < 128 ? 2.0 : 1.0)
                        }
                        try page.pictures(pngs, caption: "\(name), fold \(e.fold), test frame \(i + 1): the frame, the gaze map, the prediction (red: more saliency)")
                    }
                }
            }
        }
    }

    /// The frame in gray with `map` (bilinear to the frame's size, scaled to its maximum) laid
    /// over it in red; the frame alone when `map` is nil.
    static func overlay(_ frame: [UInt8], size: Int, map: [Float]?, mapSize m: Int) -> Data {
        var rgb = [UInt8](repeating: 0, count: size * size * 3)
        let peak = max(map?.max() ?? 1, 1e-12)
        for y in 0..<size {
            for x in 0..<size {
                let g = Float(frame[y * size + x])
                var a: Float = 0
                if let map {
                    let fy = max(0, min(Float(m - 1), (Float(y) + 0.5) * Float(m) / Float(size) - 0.5))
                    let fx = max(0, min(Float(m - 1), (Float(x) + 0.5) * Float(m) / Float(size) - 0.5))
                    let y0 = Int(fy), x0 = Int(fx), y1 = min(m - 1, y0 + 1), x1 = min(m - 1, x0 + 1)
                    let wy = fy - Float(y0), wx = fx - Float(x0)
                    let v = (map[y0 * m + x0] * (1 - wx) + map[y0 * m + x1] * wx) * (1 - wy) + (map[y1 * m + x0] * (1 - wx) + map[y1 * m + x1] * wx) * wy
                    a = 0.7 * max(0, min(1, v / peak))
                }
                let k = (y * size + x) * 3
                rgb[k] = UInt8(max(0, min(255, g * (1 - a) + 255 * a)))
                rgb[k + 1] = UInt8(max(0, min(255, g * (1 - a))))
                rgb[k + 2] = UInt8(max(0, min(255, g * (1 - a))))
            }
        }
        return PNGWriter.rgb(width: size, height: size, pixels: rgb)
    }
}
