import Foundation
import GRDB
import SonoCore

/// Partitioned preprocessing: each part of the scans is extracted into its own folder and its
/// own copy of the catalog (no shared SQLite writes across machines); `merge` joins them.
extension Catalog {
    /// A part's catalog: a copy of this catalog made when the part starts (kept, and reused, if
    /// it exists, so an interrupted part resumes).
    public func partCatalog(at path: String) throws -> Catalog {
        if FileManager.default.fileExists(atPath: path) { return try Catalog(path: path) }
        let temporary = path + ".copying"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            let destination = try DatabaseQueue(path: temporary)
            try pool.backup(to: destination)
            try destination.close()
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        } catch {
            throw CatalogError(path: path, reason: "cannot copy the catalog for a part: \(error)")
        }
        return try Catalog(path: path)
    }

    public struct MergeReport: Sendable, Codable {
        public var scansMerged = 0
        public var scansAlreadyMerged = 0
        public var failedScans = 0
        public var shards = 0
    }

    /// Joins a part's extractions into this catalog: shards (by a path relative to this
    /// catalog's dataset root, so no data is copied), record slots, clip provenance and the
    /// scans' extraction status. One transaction per scan; rerunning a merge is harmless.
    public func merge(part: Catalog) throws -> MergeReport {
        var report = MergeReport()
        let mine = try datasets()
        for partDataset in try part.datasets() {
            guard let partID = partDataset.id else { continue }
            guard let target = mine.first(where: { $0.name == partDataset.name && $0.recipeHash == partDataset.recipeHash }),
                  let targetID = target.id else {
                throw CatalogError(path: part.path, reason: "dataset \(partDataset.name) v\(partDataset.version) (recipe \(partDataset.recipeHash.prefix(12))) is not in \(path)")
            }
            let done = try extractionStatus(datasetID: targetID)
            let partRoot = part.rootURL(of: partDataset).standardizedFileURL
            let myRoot = rootURL(of: target).standardizedFileURL
            let rows = try part.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM extractions WHERE dataset_id = ? ORDER BY scan_id", arguments: [partID])
            }
            for row in rows {
                let scan: String = row["scan_id"]
                if done[scan] == .extracted { report.scansAlreadyMerged += 1; continue }
                guard let status = ExtractionStatus(rawValue: row["status"]) else {
                    throw CatalogError(path: part.path, reason: "scan \(scan) has an unknown extraction status")
                }
                let shards = try part.read { db in
                    try ShardRecordRow.fetchAll(db, sql: """
                        SELECT DISTINCT s.* FROM shards s JOIN records r ON r.shard_id = s.id JOIN clips c ON c.id = r.clip_id
                        WHERE s.dataset_id = ? AND c.scan_id = ? ORDER BY s.path
                        """, arguments: [partID, scan])
                }
                let clips = try part.clips(datasetID: partID, scanID: scan)
                let slots = try part.read { db in
                    try Row.fetchAll(db, sql: """
                        SELECT r.clip_id, r.slot, s.path FROM records r JOIN shards s ON s.id = r.shard_id JOIN clips c ON c.id = r.clip_id
                        WHERE s.dataset_id = ? AND c.scan_id = ?
                        """, arguments: [partID, scan])
                }
                try write { db in
                    // The clips must be the same planned clips (same ids): the part copied this catalog.
                    for clip in clips {
                        guard let mine = try ClipRecord.fetchOne(db, key: clip.id),
                              mine.datasetID == targetID, mine.scanID == clip.scanID, mine.startMicros == clip.startMicros else {
                            throw CatalogError(path: part.path, reason: "clip \(clip.id ?? -1) of scan \(scan) does not match \(path): the part was made from another plan")
                        }
                        try db.execute(sql: "UPDATE clips SET status = ?, reject_reason = ?, frame_indices = ?, still_index = ? WHERE id = ?",
                                       arguments: [clip.status.rawValue, clip.rejectReason?.rawValue, clip.frameIndices, clip.stillIndex, clip.id])
                    }
                    var shardIDs: [String: Int64] = [:]
                    for var shard in shards {
                        let file = partRoot.appendingPathComponent(shard.path).standardizedFileURL
                        shard.id = nil
                        shard.datasetID = targetID
                        shard.runID = nil  // the part's runs are in the part's catalog
                        shard.path = Self.relativePath(from: myRoot, to: file)
                        try shard.insert(db)
                        shardIDs[file.path] = shard.id
                    }
                    for slot in slots {
                        let file = partRoot.appendingPathComponent(slot["path"] as String).standardizedFileURL.path
                        try db.execute(sql: "INSERT INTO records (clip_id, shard_id, slot) VALUES (?, ?, ?)",
                                       arguments: [slot["clip_id"] as Int64, shardIDs[file], slot["slot"] as Int])
                    }
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO extractions (dataset_id, scan_id, status, records, rejected, error, extracted_at, run_id, damage,
                            decode_mode, packets_decoded, packets_total, decode_fallback)
                        VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)
                        """, arguments: [targetID, scan, status.rawValue, row["records"] as Int, row["rejected"] as String?,
                                         row["error"] as String?, row["extracted_at"] as String, row["damage"] as String?,
                                         row["decode_mode"] as String?, row["packets_decoded"] as Int?, row["packets_total"] as Int?,
                                         row["decode_fallback"] as String?])
                }
                if status == .extracted { report.scansMerged += 1 } else { report.failedScans += 1 }
                report.shards += shards.count
            }
        }
        return report
    }

    /// `to` relative to the folder `from` ("../part0/large-v1/x.shard"), both absolute.
    static func relativePath(from folder: URL, to file: URL) -> String {
        let a = folder.pathComponents, b = file.pathComponents
        var common = 0
        while common < a.count && common < b.count && a[common] == b[common] { common += 1 }
        let up = Array(repeating: "..", count: a.count - common)
        return (up + b[common...]).joined(separator: "/")
    }
}
