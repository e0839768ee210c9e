import Foundation

/// Whether one encoder's probe beats another's: a fold holds the same scans for both, so the
/// difference is taken fold by fold and the spread that folds share (an easy scan, a rare class)
/// cancels. The folds are few (4–5), so the interval uses Student's t, not the normal.
public struct PairedGain: Codable, Sendable, Equatable {
    /// The candidates' and the baselines' metric over folds (every report's folds together).
    public let candidate: MeanSD
    public let baseline: MeanSD
    /// One difference per (candidate report, fold): the candidate's fold minus the baselines'
    /// mean on that fold.
    public let differences: [Double]
    /// The differences' mean and sample sd: the gain and its fold spread.
    public let gain: MeanSD
    /// The 95 % t-interval of the mean difference; nil with a single difference.
    public let lower: Double?
    public let upper: Double?

    public init(candidate: [[Double]], baseline: [[Double]]) throws(EvalError) {
        guard let folds = (candidate + baseline).first?.count, folds > 0, !baseline.isEmpty, !candidate.isEmpty else {
            throw .invalidOption(name: "folds", reason: "a comparison needs a candidate and a baseline with at least one fold each")
        }
        guard (candidate + baseline).allSatisfy({ $0.count == folds }) else {
            throw .invalidOption(name: "folds", reason: "every report must have the same \(folds) folds")
        }
        let reference = (0..<folds).map { f in baseline.reduce(0) { $0 + $1[f] } / Double(baseline.count) }
        differences = candidate.flatMap { run in zip(run, reference).map { $0 - $1 } }
        self.candidate = MeanSD(candidate.flatMap { $0 })
        self.baseline = MeanSD(baseline.flatMap { $0 })
        gain = MeanSD(differences)
        if let sd = gain.sd {
            let half = StudentT.quantile975(degreesOfFreedom: differences.count - 1) * sd / Double(differences.count).squareRoot()
            lower = gain.mean - half
            upper = gain.mean + half
        } else {
            lower = nil
            upper = nil
        }
    }

    /// The interval lies wholly above 0: the gain is larger than its fold spread allows by chance.
    public var isSignificantGain: Bool { (lower ?? -.infinity) > 0 }
}

/// A probe comparison of candidates (e.g. one pretrained checkpoint per seed) against baselines
/// (e.g. random initialisations) over the same folds of the same dataset.
public struct ProbeComparison: Codable, Sendable, Equatable {
    public let folds: Int
    public let candidates: Int
    public let baselines: Int
    public let accuracy: PairedGain
    /// Macro F1 over the planes (background left out), as the paper's tables.
    public let macroF1Planes: PairedGain

    /// Every report must be of the same folds: the same number of samples in each fold, the same classes.
    public init(candidates: [FoldedProbeReport], baselines: [FoldedProbeReport]) throws(EvalError) {
        guard let first = candidates.first, !baselines.isEmpty else {
            throw .invalidOption(name: "reports", reason: "give at least one candidate and one baseline probe report")
        }
        for r in candidates + baselines {
            guard r.classes == first.classes, r.folds.map(\.sampleCount) == first.folds.map(\.sampleCount) else {
                throw .invalidOption(name: "reports", reason: "the probe reports are not of the same folds (samples per fold \(first.folds.map(\.sampleCount)) and \(r.folds.map(\.sampleCount)), classes \(first.classes) and \(r.classes))")
            }
        }
        folds = first.folds.count
        self.candidates = candidates.count
        self.baselines = baselines.count
        accuracy = try PairedGain(candidate: candidates.map { $0.folds.map(\.accuracy) }, baseline: baselines.map { $0.folds.map(\.accuracy) })
        macroF1Planes = try PairedGain(candidate: candidates.map { $0.folds.map(\.macroSubset.f1) },
                                       baseline: baselines.map { $0.folds.map(\.macroSubset.f1) })
    }

    /// One line per metric, e.g. "accuracy 0.617 vs 0.467: gain +0.150 [95 %: +0.033, +0.266], sd 0.073 over 4 differences; above 0".
    public func summaryLines() -> [String] {
        [("accuracy", accuracy), ("macro F1 over the planes", macroF1Planes)].map { name, g in
            let interval = g.lower.map { String(format: " [95 %%: %+.3f, %+.3f]", $0, g.upper ?? $0) } ?? ""
            let verdict = g.lower == nil ? "one difference, no interval" : g.isSignificantGain ? "the interval lies above 0" : "the interval includes 0 or lies below it"
            return String(format: "%@ %.3f vs %.3f: gain %+.3f%@, sd %.3f over %d differences (%d candidate × %d folds); %@",
                          name, g.candidate.mean, g.baseline.mean, g.gain.mean, interval, g.gain.sd ?? 0, g.differences.count,
                          candidates, folds, verdict)
        }
    }

    public func markdownTable() -> String {
        var lines = ["| metric | candidate, mean (sd) | baseline, mean (sd) | gain | 95 % interval | differences |", "|---|---:|---:|---:|---|---:|"]
        for (name, g) in [("accuracy", accuracy), ("macro F1 (planes)", macroF1Planes)] {
            let interval = g.lower.map { String(format: "[%+.3f, %+.3f]", $0, g.upper ?? $0) } ?? "–"
            lines.append(String(format: "| %@ | %.3f (%.3f) | %.3f (%.3f) | %+.3f | %@ | %d |", name, g.candidate.mean, g.candidate.sd ?? 0,
                                g.baseline.mean, g.baseline.sd ?? 0, g.gain.mean, interval, g.differences.count))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Student's t distribution, only what the intervals need.
public enum StudentT {
    /// The two-sided 95 % quantile t(0.975; ν): tabulated for ν ≤ 30 (scipy.stats.t.ppf), then the
    /// Cornish–Fisher expansion about the normal's 1.95996, within 1e-4 of scipy there.
    public static func quantile975(degreesOfFreedom nu: Int) -> Double {
        precondition(nu >= 1, "t needs at least one degree of freedom")
        if nu <= table.count { return table[nu - 1] }
        let z = 1.959963984540054, v = Double(nu)
        let z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v)
            + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v)
    }

    private static let table: [Double] = [
        12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
        2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
        2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
    ]
}
