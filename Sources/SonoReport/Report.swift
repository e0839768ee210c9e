import Foundation
import SonoCatalog
import SonoCore

/// `sono-report`: one self-contained HTML page (and its figures as files) of what a dataset
/// holds and how training went (issue 19).
public struct Report: Sendable {
    public var catalogPath: String?
    public var dataset = DatasetSection()
    /// Training logs to draw, each with the name shown.
    public var logs: [(name: String, path: String)] = []
    /// Evaluation reports (`sono-finetune` / `sono-eval probe` report.json), each with the name shown.
    public var evaluations: [(name: String, path: String)] = []
    public var title = "SonoDual report"

    public init() {}

    /// Writes `out/report.html` and the figures beside it; returns the page's path.
    public func write(to out: String) throws -> URL {
        guard catalogPath != nil || !logs.isEmpty || !evaluations.isEmpty else {
            throw InputError(path: out, reason: "nothing to report: give a catalog, a training log or an evaluation report")
        }
        let folder = URL(fileURLWithPath: out)
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw InputError(path: out, reason: "cannot create the report folder: \(error.localizedDescription)")
        }
        let page = HTMLPage(title: title, folder: folder)
        let parsed = try logs.map { try TrainingLog(name: $0.name, path: $0.path) }
        let results = try evaluations.map { (name: $0.name, result: try EvaluationResult(path: $0.path)) }
        if let catalogPath {
            guard FileManager.default.fileExists(atPath: catalogPath) else { throw InputError(path: catalogPath, reason: "no such catalog") }
            try dataset.render(try Catalog(path: catalogPath), into: page)
        }
        try TrainingSection(logs: parsed).render(into: page)
        try EvaluationSection(results: results).render(into: page)
        return try page.write()
    }
}
