import SonoCore

/// Which part of a dataset a scan's clips belong to. Stored as its raw value.
public enum Split: String, Codable, Sendable, CaseIterable {
    case train, val, test
}

extension DatasetRecipe {
    /// The split of a scan: a seeded hash of its id, so adding scans never moves old ones.
    public func split(ofScan scanID: String) -> Split {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the id, then mixed with the seed
        for b in scanID.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        var g = SeededGenerator(seed: seed, stream: h)
        let u = g.nextUnit()
        if u < trainFraction { return .train }
        if u < trainFraction + valFraction { return .val }
        return .test
    }
}
