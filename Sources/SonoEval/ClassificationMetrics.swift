import SonoDataset
/// Precision, recall and F1 of one class (or their macro average over classes).
public struct Scores: Equatable, Codable, Sendable {
    public let precision: Double
    public let recall: Double
    public let f1: Double
}

/// One class's scores, with its id and how many samples truly belong to it.
public struct ClassScores: Equatable, Codable, Sendable {
    public let id: String
    public let precision: Double
    public let recall: Double
    public let f1: Double
    public let support: Int
}

/// The metrics the fetal-ultrasound group reports for standard-plane detection, computed as
/// scikit-learn does so the numbers compare with papers: `accuracy_score`,
/// `precision_recall_fscore_support(labels=…, zero_division=0)` per class and macro-averaged,
/// `confusion_matrix` (rows true, columns predicted). zero_division = 0: a class never
/// predicted has precision 0, one never present recall 0, and F1 = 2TP / (2TP + FP + FN) is 0
/// when that denominator is. Macro averages include such classes (as sklearn's do): once over
/// `subset` (by default the planes, i.e. every class but background) and once over all classes.
public struct ClassificationMetrics: Equatable, Codable, Sendable {
    public let classes: [String]
    public let sampleCount: Int
    public let accuracy: Double
    public let perClass: [ClassScores]
    /// Class indices the `macroSubset` averages over.
    public let subset: [Int]
    public let macroSubset: Scores
    public let macroAll: Scores
    /// confusion[true][predicted], as sklearn's.
    public let confusion: [[Int]]

    /// `trueLabels` and `predicted` are class indices into `classes`. `subset` defaults to
    /// `classes.planeIndices`.
    public init(trueLabels: [Int], predicted: [Int], classes: ClassList, subset: [Int]? = nil) throws(EvalError) {
        let k = classes.count
        guard predicted.count == trueLabels.count else {
            throw .sizeMismatch(name: "predicted labels", expected: trueLabels.count, actual: predicted.count)
        }
        guard !trueLabels.isEmpty else { throw .invalidOption(name: "labels", reason: "no samples to score") }
        for l in trueLabels where !(0..<k).contains(l) { throw .labelOutOfRange(name: "true labels", label: l, classCount: k) }
        for l in predicted where !(0..<k).contains(l) { throw .labelOutOfRange(name: "predicted labels", label: l, classCount: k) }
        let subset = subset ?? classes.planeIndices
        guard !subset.isEmpty else { throw .invalidOption(name: "subset", reason: "no classes to average over") }
        for c in subset where !(0..<k).contains(c) { throw .labelOutOfRange(name: "subset", label: c, classCount: k) }

        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (t, p) in zip(trueLabels, predicted) { confusion[t][p] += 1 }
        let tp = (0..<k).map { confusion[$0][$0] }
        let trueSum = confusion.map { $0.reduce(0, +) }
        let predSum = (0..<k).map { c in confusion.reduce(0) { $0 + $1[c] } }
        func divide(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        let perClass = (0..<k).map { c in
            ClassScores(id: classes[c].id, precision: divide(tp[c], predSum[c]), recall: divide(tp[c], trueSum[c]),
                        f1: divide(2 * tp[c], trueSum[c] + predSum[c]), support: trueSum[c])
        }
        self.classes = classes.ids
        sampleCount = trueLabels.count
        accuracy = Double(tp.reduce(0, +)) / Double(trueLabels.count)
        self.perClass = perClass
        self.subset = subset
        macroSubset = Self.macro(perClass, over: subset)
        macroAll = Self.macro(perClass, over: Array(0..<k))
        self.confusion = confusion
    }

    static func macro(_ perClass: [ClassScores], over indices: [Int]) -> Scores {
        let n = Double(indices.count)
        return Scores(precision: indices.reduce(0) { $0 + perClass[$1].precision } / n,
                      recall: indices.reduce(0) { $0 + perClass[$1].recall } / n,
                      f1: indices.reduce(0) { $0 + perClass[$1].f1 } / n)
    }
}
