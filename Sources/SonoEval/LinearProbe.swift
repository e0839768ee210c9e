import SonoDataset
/// The linear probe of a frozen encoder: a `Standardizer` fitted on the training features, then
/// `LogisticRegression` on the standardised features. This is the unit cross-validation refits
/// per fold, so no validation statistics reach the standardisation either.
public struct LinearProbe: Equatable, Codable, Sendable {
    public let standardizer: Standardizer
    public let model: LogisticRegression

    public static func fit(_ x: FeatureMatrix, labels: [Int], classCount: Int,
                           options: LogisticRegression.Options = .init()) throws(EvalError) -> LinearProbe {
        try fit(x, labels: labels, classCount: classCount, options: options, warmStart: nil)
    }

    static func fit(_ x: FeatureMatrix, labels: [Int], classCount: Int, options: LogisticRegression.Options,
                    warmStart: LinearProbe?) throws(EvalError) -> LinearProbe {
        let standardizer = try Standardizer(fitting: x)
        let model = try LogisticRegression.fit(try standardizer.transform(x), labels: labels, classCount: classCount,
                                               sampleWeights: nil, options: options, warmStart: warmStart?.model)
        return LinearProbe(standardizer: standardizer, model: model)
    }

    public func probabilities(_ x: FeatureMatrix) throws(EvalError) -> [[Double]] {
        try model.probabilities(try standardizer.transform(x))
    }

    public func predict(_ x: FeatureMatrix) throws(EvalError) -> [Int] {
        try model.predict(try standardizer.transform(x))
    }

    /// 10⁻⁴ … 10⁴, one value per decade (9 values).
    public static let defaultCGrid: [Double] = [1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4]

    /// Chooses C by cross-validation grouped by scan: for each fold of `GroupKFold` the probe
    /// is fitted on the other folds at every C (ascending, each fit warm-started from the
    /// previous C's, which changes only the iteration count) and scored on the fold; the C with
    /// the highest mean score over folds wins, exact ties going to the smaller C (the stronger
    /// penalty). Deterministic: fixed folds, deterministic fits.
    public static func selectC<Group: Hashable & Comparable>(
        _ x: FeatureMatrix, labels: [Int], groups: [Group], classes: ClassList,
        grid: [Double] = defaultCGrid, folds: Int = 5, metric: SelectionMetric = .macroF1,
        subset: [Int]? = nil, options: LogisticRegression.Options = .init()
    ) throws(EvalError) -> CSelection {
        guard !grid.isEmpty else { throw .invalidOption(name: "grid", reason: "no values of C") }
        for c in grid where !(c > 0 && c.isFinite) { throw .invalidOption(name: "grid", reason: "C must be finite and > 0, got \(c)") }
        let grid = Array(Set(grid)).sorted()
        let (metrics, converged) = try foldMetrics(x, labels: labels, groups: groups, classes: classes, grid: grid,
                                                   folds: folds, subset: subset, options: options)
        let scores = metrics.map { $0.map { metric == .accuracy ? $0.accuracy : $0.macroSubset.f1 } }
        let means = scores.map { $0.reduce(0, +) / Double($0.count) }
        var best = 0
        for i in grid.indices where means[i] > means[best] { best = i }
        return CSelection(metric: metric, grid: grid, foldScores: scores, meanScores: means, bestC: grid[best],
                          allFitsConverged: converged)
    }

    /// The probe at one C scored on each fold of scan-grouped cross-validation, and the summary
    /// (mean, sample sd) over folds. To report a C chosen on the same data, choose it with
    /// `selectC` on a separate training split (or nest the two), or the estimate is optimistic.
    public static func crossValidate<Group: Hashable & Comparable>(
        _ x: FeatureMatrix, labels: [Int], groups: [Group], classes: ClassList, C: Double,
        folds: Int = 5, subset: [Int]? = nil, options: LogisticRegression.Options = .init()
    ) throws(EvalError) -> ProbeEvaluation {
        let (metrics, converged) = try foldMetrics(x, labels: labels, groups: groups, classes: classes, grid: [C],
                                                   folds: folds, subset: subset, options: options)
        return ProbeEvaluation(C: C, folds: metrics[0], summary: try FoldSummary(metrics[0]), allFitsConverged: converged)
    }

    /// metrics[c][fold] for each C of an ascending grid; the standardizer is fitted once per
    /// fold on its training part.
    static func foldMetrics<Group: Hashable & Comparable>(
        _ x: FeatureMatrix, labels: [Int], groups: [Group], classes: ClassList, grid: [Double],
        folds: Int, subset: [Int]?, options: LogisticRegression.Options
    ) throws(EvalError) -> ([[ClassificationMetrics]], Bool) {
        guard labels.count == x.rows else { throw .sizeMismatch(name: "labels", expected: x.rows, actual: labels.count) }
        guard groups.count == x.rows else { throw .sizeMismatch(name: "groups", expected: x.rows, actual: groups.count) }
        let splits = try GroupKFold(folds: folds).splits(groups: groups)
        var metrics = [[ClassificationMetrics]](repeating: [], count: grid.count)
        var converged = true
        for split in splits {
            let xTrain = x.selecting(rows: split.train), yTrain = split.train.map { labels[$0] }
            let standardizer = try Standardizer(fitting: xTrain)
            let sTrain = try standardizer.transform(xTrain)
            let sValidation = try standardizer.transform(x.selecting(rows: split.validation))
            let yValidation = split.validation.map { labels[$0] }
            var previous: LogisticRegression?
            for (i, c) in grid.enumerated() {
                var o = options
                o.C = c
                let model = try LogisticRegression.fit(sTrain, labels: yTrain, classCount: classes.count, sampleWeights: nil,
                                                       options: o, warmStart: previous)
                converged = converged && model.report.converged
                metrics[i].append(try ClassificationMetrics(trueLabels: yValidation, predicted: try model.predict(sValidation),
                                                            classes: classes, subset: subset))
                previous = model
            }
        }
        return (metrics, converged)
    }
}

/// What cross-validation maximises when choosing C.
public enum SelectionMetric: String, Equatable, Codable, Sendable {
    case accuracy
    /// Macro F1 over the metrics' subset (by default the 13 planes): the group's headline
    /// number, and unlike accuracy not dominated by the background class.
    case macroF1
}

/// The outcome of `LinearProbe.selectC`.
public struct CSelection: Equatable, Codable, Sendable {
    public let metric: SelectionMetric
    /// Ascending.
    public let grid: [Double]
    /// foldScores[c][fold]: validation score of grid[c] on each fold.
    public let foldScores: [[Double]]
    public let meanScores: [Double]
    public let bestC: Double
    /// False if some fit stopped at its iteration limit (its score is still used).
    public let allFitsConverged: Bool
}

/// The outcome of `LinearProbe.crossValidate`: what to report.
public struct ProbeEvaluation: Equatable, Codable, Sendable {
    public let C: Double
    /// Validation metrics of each fold, in fold order.
    public let folds: [ClassificationMetrics]
    public let summary: FoldSummary
    public let allFitsConverged: Bool
}
