import Foundation
import SonoCore
import SonoEval

/// The paper's three tables from fine-tuning reports (issue 15): Table 1 standard-plane
/// detection (macro precision, recall and F1 over the planes, background excluded, and the
/// accuracy), Table 2 saliency prediction (KLD, SIM, NSS, CC), Table 3 the ablations on both.
/// Each row is a named start whose folder holds `planes/report.json` (`sono-finetune planes`)
/// and `saliency/report.json` (`sono-finetune saliency`); a missing report is an error naming it.
public struct PaperTables {
    public struct Row {
        public var name: String
        public var planes: FineTuneReport
        public var saliency: SaliencyReport
    }

    public var rows: [Row]
    public var ablations: [Row]

    /// Reads `name=DIR` pairs for Tables 1–2 (`rows`) and Table 3 (`ablations`).
    public init(rows: [String], ablations: [String]) throws {
        func read(_ spec: String, option: String) throws -> Row {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw InputError(path: option, reason: "\(spec): expected NAME=DIR") }
            func decode<T: Decodable>(_ file: String, as type: T.Type) throws -> T {
                let path = URL(fileURLWithPath: parts[1]).appendingPathComponent(file).path
                guard let data = FileManager.default.contents(atPath: path) else { throw InputError(path: path, reason: "no report (run sono-finetune first)") }
                do { return try JSONDecoder().decode(T.self, from: data) } catch { throw InputError(path: path, reason: "not a sono-finetune report: \(error)") }
            }
            return Row(name: parts[0], planes: try decode("planes/report.json", as: FineTuneReport.self),
                       saliency: try decode("saliency/report.json", as: SaliencyReport.self))
        }
        self.rows = try rows.map { try read($0, option: "--run") }
        self.ablations = try ablations.map { try read($0, option: "--ablation") }
    }

    static func cell(_ v: MeanSD?) -> String {
        guard let v else { return "–" }
        return v.sd.map { String(format: "%.3f (%.3f)", v.mean, $0) } ?? String(format: "%.3f", v.mean)
    }

    static func planeCells(_ r: FineTuneReport) -> [String] {
        let s = r.summary
        return [cell(s.macroSubset.precision), cell(s.macroSubset.recall), cell(s.macroSubset.f1), cell(s.accuracy)]
    }

    static func saliencyCells(_ r: SaliencyReport) -> [String] { [cell(r.kld), cell(r.sim), cell(r.nss), cell(r.cc)] }

    static func table(_ header: [String], _ body: [[String]]) -> String {
        (["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: "---|", count: header.count)]
            + body.map { "| " + $0.joined(separator: " | ") + " |" }).joined(separator: "\n") + "\n"
    }

    /// The three tables in markdown, mean (sd) over the folds by scan, with what they were run on.
    public func markdown() -> String {
        let planeHeader = ["start", "precision", "recall", "F1", "accuracy"]
        let saliencyHeader = ["start", "KLD ↓", "SIM ↑", "NSS ↑", "CC ↑"]
        var out = "## Table 1: standard-plane detection (macro over the planes, background excluded; mean (sd) over folds by scan)\n\n"
        out += Self.table(planeHeader, rows.map { [$0.name] + Self.planeCells($0.planes) })
        out += "\n## Table 2: saliency prediction (mean (sd) over folds by scan)\n\n"
        var saliency = rows.map { [$0.name] + Self.saliencyCells($0.saliency) }
        if let first = rows.first {
            let p = first.saliency.prior
            saliency.append(["training-gaze prior"] + [p["kld"], p["sim"], p["nss"], p["cc"]].map(Self.cell))
        }
        out += Self.table(saliencyHeader, saliency)
        if !ablations.isEmpty {
            out += "\n## Table 3: ablations (planes macro F1 and accuracy; saliency KLD, SIM, NSS, CC)\n\n"
            out += Self.table(["objective", "planes F1", "planes accuracy", "KLD ↓", "SIM ↑", "NSS ↑", "CC ↑"],
                              ablations.map { r in [r.name] + Array(Self.planeCells(r.planes).suffix(2)) + Self.saliencyCells(r.saliency) })
        }
        let all = rows + ablations
        out += "\nFolds: \(all.first.map { "\($0.planes.summary.folds) (planes), \($0.saliency.folds.count) (saliency)" } ?? "–"); datasets: "
            + Set(all.flatMap { [$0.planes.dataset, $0.saliency.dataset] }).sorted().joined(separator: ", ") + ".\n"
        out += "Starts: " + all.map { "\($0.name) = \($0.planes.start)" }.joined(separator: "; ") + ".\n"
        return out
    }
}
