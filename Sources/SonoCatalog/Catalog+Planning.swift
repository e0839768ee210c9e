import Foundation
import GRDB
import SonoCore
import SonoDataset

/// Planning bookkeeping per (dataset, scan): what makes `sono-segment` resumable.
extension Catalog {
    /// Scans already planned for a dataset.
    public func plannedScans(datasetID: Int64) throws -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: "SELECT scan_id FROM scan_plans WHERE dataset_id = ?", arguments: [datasetID]))
        }
    }

    /// Saves one scan's plan (its clips and rejection counts) in one transaction.
    public func savePlan(datasetID: Int64, scanID: String, clips: [ClipRecord], rejected: RejectCounts, runID: Int64?) throws {
        let rejectedJSON = try Self.json(rejected)
        try write { db in
            for clip in clips {
                var c = clip
                try c.insert(db)
            }
            try db.execute(sql: """
                INSERT INTO scan_plans (dataset_id, scan_id, clips, rejected, planned_at, run_id) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [datasetID, scanID, clips.count, rejectedJSON, CatalogClock.now(), runID])
        }
    }

    /// A dataset's clips of one scan, in time order.
    public func clips(datasetID: Int64, scanID: String) throws -> [ClipRecord] {
        try read { db in
            try ClipRecord.filter(Column("dataset_id") == datasetID && Column("scan_id") == scanID)
                .order(Column("start_us")).fetchAll(db)
        }
    }
}

extension Catalog {
    /// Reject counts as stored: a JSON object keyed by reason, keys sorted.
    static func json(_ counts: RejectCounts) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(counts.byName), as: UTF8.self)
    }
}
