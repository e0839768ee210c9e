import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoShards

/// Deterministic random records written through the real shard writer and indexed in a real
/// catalog: for shard tests, the Python reader's tests, and the shard benchmarks.
public enum SyntheticDataset {
    /// The bytes of clip `k`'s fields, from (seed, k) alone.
    public static func fill(_ builder: RecordBuilder, layout: RecordLayout, seed: UInt64, index k: Int) {
        var rng = SeededGenerator(seed: seed, stream: UInt64(k))
        for field in layout.fields where field.name != RecordLayout.crcFieldName && field.name != RecordLayout.clipIDFieldName {
            let b = builder.bytes(field.name)
            switch field.type {
            case .f16:
                for i in 0..<(b.count / 2) {
                    #if arch(x86_64) || arch(arm64)
                    let v = Float16(Float(rng.nextUnit() * 120 - 100))
                    b.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                    #endif
                }
            default:
                var i = 0
                while i < b.count {
                    var word = rng.next()
                    for _ in 0..<8 where i < b.count { b[i] = UInt8(truncatingIfNeeded: word); word >>= 8; i += 1 }
                }
            }
        }
    }

    public struct Written: Sendable {
        public var dataset: DatasetRecord
        public var clipIDs: [Int64]
        public var shards: [SealedShard]
    }

    /// Creates dataset `name` with `count` synthetic clips (consecutive 2 s spans of `scans`
    /// scans, in storage order) and writes their records into shards of about `targetBytes`.
    /// With `pool`, only that many distinct records are generated and then repeated (record k
    /// is record k mod pool): for throughput benchmarks, where generating random bytes would
    /// cost more than writing them.
    public static func write(catalog: Catalog, root: URL, name: String, layout: RecordLayout, count: Int,
                             seed: UInt64, targetBytes: Int, pool: Int? = nil, scans: Int = 1) throws -> Written {
        let dataset = try catalog.dataset(name: name, recipe: "synthetic seed=\(seed)", recipeHash: "synthetic-\(seed)-\(count)",
                                          layout: layout) { _ in catalog.storedRoot(for: root) }
        guard let datasetID = dataset.id else { throw InputError(path: catalog.path, reason: "dataset has no id") }
        try ShardStore.removeLeftovers(root: root, indexed: catalog.indexedShardPaths(datasetID: datasetID))
        let splits = Split.allCases
        var planned: [ClipRecord] = []
        for k in 0..<count {
            let start = Int64(k) * 2_000_000
            // Scans in storage order, as extraction writes them: clips of scan 0, then scan 1, …
            let scan = scans > 1 ? "synthetic_\(k * scans / max(count, 1))" : "synthetic"
            planned.append(ClipRecord(datasetID: datasetID, scanID: scan, startMicros: start, endMicros: start + 2_000_000,
                                      speechRatio: Double(k % 11) / 10, split: splits[k % 3]))
        }
        let clips = try catalog.insert(clips: planned)
        let writer = try ShardWriter(root: root, datasetID: datasetID, datasetName: name, layout: layout,
                                     targetBytes: targetBytes, name: { String(format: "shard-%05d.shard", $0) },
                                     onSeal: { try catalog.index($0, datasetID: datasetID, runID: nil) })
        let pooled: [[UInt8]] = (0..<(pool ?? 0)).map { k in
            var bytes = [UInt8](repeating: 0, count: layout.crcOffset)
            bytes.withUnsafeMutableBytes { fill(RecordBuilder(base: $0.baseAddress!, layout: layout), layout: layout, seed: seed, index: k) }
            return bytes
        }
        for (k, clip) in clips.enumerated() {
            try writer.append(clipID: clip.id ?? 0) { builder in
                if pooled.isEmpty {
                    fill(builder, layout: layout, seed: seed, index: k)
                } else {
                    pooled[k % pooled.count].withUnsafeBytes { builder.base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                }
            }
        }
        try writer.finish()
        return Written(dataset: dataset, clipIDs: clips.compactMap { $0.id }, shards: writer.sealed)
    }

    /// A small layout for fast tests: 2×8×8 video, 8×8 still, 3×4 log-mel.
    public static let tinyLayout = RecordLayout.clip(frames: 2, size: 8, melFrames: 3, mels: 4)
}
