/// One cross-validation split: sample indices of the training and validation parts, ascending.
public struct FoldSplit: Equatable, Codable, Sendable {
    public let train: [Int]
    public let validation: [Int]
}

/// K-fold cross-validation grouped by scan, as scikit-learn's `GroupKFold` (shuffle=False):
/// frames of one scan are near-duplicates, so a scan in both parts would inflate the
/// validation score. Groups go largest first (equal sizes: the later in sorted order first,
/// sklearn's reversed stable argsort) to the fold with the fewest samples so far (the first
/// such fold): deterministic, and fold for fold the same as sklearn's.
public struct GroupKFold: Equatable, Sendable {
    public let folds: Int

    public init(folds: Int) throws(EvalError) {
        guard folds >= 2 else { throw .invalidOption(name: "folds", reason: "need at least 2, got \(folds)") }
        self.folds = folds
    }

    /// The validation fold (0..<folds) of each sample.
    public func foldOfEachSample<Group: Hashable & Comparable>(groups: [Group]) throws(EvalError) -> [Int] {
        let unique = Array(Set(groups)).sorted()
        guard unique.count >= folds else { throw .tooFewGroups(groups: unique.count, folds: folds) }
        var index: [Group: Int] = [:]
        for (i, g) in unique.enumerated() { index[g] = i }
        let groupOfSample = groups.map { index[$0] ?? 0 }
        var sizes = [Int](repeating: 0, count: unique.count)
        for g in groupOfSample { sizes[g] += 1 }
        let order = unique.indices.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 > $1 }
        var load = [Int](repeating: 0, count: folds)
        var foldOfGroup = [Int](repeating: 0, count: unique.count)
        for g in order {
            var lightest = 0
            for f in 1..<folds where load[f] < load[lightest] { lightest = f }
            load[lightest] += sizes[g]
            foldOfGroup[g] = lightest
        }
        return groupOfSample.map { foldOfGroup[$0] }
    }

    public func splits<Group: Hashable & Comparable>(groups: [Group]) throws(EvalError) -> [FoldSplit] {
        let fold = try foldOfEachSample(groups: groups)
        return (0..<folds).map { f in
            FoldSplit(train: fold.indices.filter { fold[$0] != f }, validation: fold.indices.filter { fold[$0] == f })
        }
    }
}
