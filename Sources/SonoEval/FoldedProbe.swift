import Foundation
import SonoCore
import SonoDataset

/// The probe evaluation of a labelled dataset over its folds by scan (the paper's protocol):
/// for each fold, C is chosen by cross-validation grouped by scan on the other folds only,
/// the probe is fitted there and scored on the fold's scans; the report is each fold's
/// metrics and their mean (sample sd).
public struct FoldedProbeReport: Codable, Sendable, Equatable {
    /// The classes that occur in the labels (a dataset may hold only some of the 14): the
    /// metrics' classes, so a macro mean is over the planes present, not zeros of absent ones.
    public var classes: [String]
    public var folds: [ClassificationMetrics]
    /// The C chosen for each fold.
    public var chosenC: [Double]
    public var summary: FoldSummary
    public var allFitsConverged: Bool

    /// A report `sono-eval probe --out` wrote (probe.json).
    public static func read(_ path: String) throws(InputError) -> FoldedProbeReport {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InputError(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        do { return try JSONDecoder().decode(FoldedProbeReport.self, from: data) } catch {
            throw InputError(path: path, reason: "not a probe report of sono-eval probe (probe.json): \(error)")
        }
    }
}

public enum FoldedProbe {
    /// - Parameters:
    ///   - scans: each sample's scan; `foldOfScan` each scan's fold (scans without one are unused).
    ///   - innerFolds: folds of the inner, scan-grouped choice of C (fewer when fewer scans).
    public static func evaluate(_ x: FeatureMatrix, labels: [Int], scans: [String], foldOfScan: [String: Int], classes: ClassList,
                                grid: [Double] = LinearProbe.defaultCGrid, innerFolds: Int = 5,
                                options: LogisticRegression.Options = .init()) throws(EvalError) -> FoldedProbeReport {
        guard labels.count == x.rows else { throw .sizeMismatch(name: "labels", expected: x.rows, actual: labels.count) }
        guard scans.count == x.rows else { throw .sizeMismatch(name: "scans", expected: x.rows, actual: scans.count) }
        // Only the classes present, in the list's order (labels re-indexed to them).
        let present = Set(labels).sorted()
        guard present.allSatisfy({ $0 >= 0 && $0 < classes.count }) else {
            throw .invalidOption(name: "labels", reason: "labels must be class indices 0..<\(classes.count)")
        }
        let classes = (try? ClassList(present.map { classes[$0] })) ?? classes
        let index = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($0.element, $0.offset) })
        let labels = labels.map { index[$0] ?? 0 }
        let foldIDs = Set(scans.compactMap { foldOfScan[$0] }).sorted()
        guard foldIDs.count >= 2 else { throw .invalidOption(name: "folds", reason: "need at least two folds with labelled scans, have \(foldIDs.count)") }
        var metrics: [ClassificationMetrics] = [], chosen: [Double] = [], converged = true
        for fold in foldIDs {
            let train = x.rowsWhere(scans) { foldOfScan[$0].map { $0 != fold } ?? false }
            let test = x.rowsWhere(scans) { foldOfScan[$0] == fold }
            let xTrain = x.selecting(rows: train), yTrain = train.map { labels[$0] }, gTrain = train.map { scans[$0] }
            let inner = min(innerFolds, Set(gTrain).count)
            var c = grid.first ?? 1
            if inner >= 2 && grid.count > 1 {
                let selection = try LinearProbe.selectC(xTrain, labels: yTrain, groups: gTrain, classes: classes, grid: grid, folds: inner, options: options)
                c = selection.bestC
                converged = converged && selection.allFitsConverged
            }
            var o = options
            o.C = c
            let probe = try LinearProbe.fit(xTrain, labels: yTrain, classCount: classes.count, options: o)
            converged = converged && probe.model.report.converged
            let predicted = try probe.predict(x.selecting(rows: test))
            metrics.append(try ClassificationMetrics(trueLabels: test.map { labels[$0] }, predicted: predicted, classes: classes))
            chosen.append(c)
        }
        return FoldedProbeReport(classes: classes.ids, folds: metrics, chosenC: chosen, summary: try FoldSummary(metrics), allFitsConverged: converged)
    }
}

extension FeatureMatrix {
    /// Row indices whose key satisfies `keep`.
    func rowsWhere(_ keys: [String], _ keep: (String) -> Bool) -> [Int] { keys.indices.filter { keep(keys[$0]) } }
}
