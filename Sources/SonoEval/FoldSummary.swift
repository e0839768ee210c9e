import Foundation

/// A metric over folds: mean and SAMPLE standard deviation (ddof = 1, numpy's `std(ddof=1)`),
/// the spread papers report as "mean (sd)" over cross-validation folds. With one fold the sd is
/// undefined and is `nil` (JSON null).
public struct MeanSD: Equatable, Codable, Sendable {
    public let mean: Double
    public let sd: Double?

    public init(_ values: [Double]) {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        self.mean = mean
        sd = values.count < 2 ? nil : (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
    }

    enum CodingKeys: String, CodingKey { case mean, sd }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mean = try c.decode(Double.self, forKey: .mean)
        sd = try c.decodeIfPresent(Double.self, forKey: .sd)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(mean, forKey: .mean)
        if let sd { try c.encode(sd, forKey: .sd) } else { try c.encodeNil(forKey: .sd) }
    }
}

public struct ScoresSummary: Equatable, Codable, Sendable {
    public let precision: MeanSD
    public let recall: MeanSD
    public let f1: MeanSD
}

public struct ClassScoresSummary: Equatable, Codable, Sendable {
    public let id: String
    public let precision: MeanSD
    public let recall: MeanSD
    public let f1: MeanSD
    /// Total true samples of the class over all folds.
    public let support: Int
}

/// Each metric of `ClassificationMetrics` summarised over folds (mean, sample sd).
public struct FoldSummary: Equatable, Codable, Sendable {
    public let folds: Int
    public let classes: [String]
    public let subset: [Int]
    public let accuracy: MeanSD
    public let macroSubset: ScoresSummary
    public let macroAll: ScoresSummary
    public let perClass: [ClassScoresSummary]

    /// All folds must share the class list and the macro subset.
    public init(_ folds: [ClassificationMetrics]) throws(EvalError) {
        guard let first = folds.first else { throw .invalidOption(name: "folds", reason: "no folds to summarise") }
        for f in folds where f.classes != first.classes || f.subset != first.subset {
            throw .invalidOption(name: "folds", reason: "folds differ in their classes or macro subset")
        }
        func summary(_ pick: (ClassificationMetrics) -> Scores) -> ScoresSummary {
            let s = folds.map(pick)
            return ScoresSummary(precision: MeanSD(s.map(\.precision)), recall: MeanSD(s.map(\.recall)), f1: MeanSD(s.map(\.f1)))
        }
        self.folds = folds.count
        classes = first.classes
        subset = first.subset
        accuracy = MeanSD(folds.map(\.accuracy))
        macroSubset = summary(\.macroSubset)
        macroAll = summary(\.macroAll)
        perClass = first.classes.indices.map { c in
            ClassScoresSummary(id: first.classes[c], precision: MeanSD(folds.map { $0.perClass[c].precision }),
                               recall: MeanSD(folds.map { $0.perClass[c].recall }), f1: MeanSD(folds.map { $0.perClass[c].f1 }),
                               support: folds.reduce(0) { $0 + $1.perClass[c].support })
        }
    }
}

/// JSON of any report value, keys sorted so files diff cleanly. Every value the metrics hold is
/// finite (zero_division = 0), so no non-finite number can reach the encoder.
public enum EvalJSON {
    public static func encode(_ value: some Encodable) throws(EvalError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(value) } catch {
            throw .invalidOption(name: "json", reason: "cannot encode: \(error)")
        }
    }
}
