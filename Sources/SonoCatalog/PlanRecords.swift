import Foundation
import GRDB
import SonoCore
import SonoShards

/// Planning and extraction bookkeeping per (dataset, scan): what makes both stages resumable.
extension Catalog {
    /// Scans already planned for a dataset.
    public func plannedScans(datasetID: Int64) throws -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: "SELECT scan_id FROM scan_plans WHERE dataset_id = ?", arguments: [datasetID]))
        }
    }

    /// Saves one scan's plan (its clips and rejection counts) in one transaction.
    public func savePlan(datasetID: Int64, scanID: String, clips: [ClipRecord], rejected: [String: Int], runID: Int64?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let rejectedJSON = String(decoding: try encoder.encode(rejected), as: UTF8.self)
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

    /// Scans whose extraction for a dataset is committed (extracted or failed).
    public func extractionStatus(datasetID: Int64) throws -> [String: String] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT scan_id, status FROM extractions WHERE dataset_id = ?",
                                                              arguments: [datasetID]).map { ($0["scan_id"] as String, $0["status"] as String) })
        }
    }

    /// Indexed shard paths of a dataset (for leftover clean-up).
    public func indexedShardPaths(datasetID: Int64) throws -> Set<String> {
        Set(try shards(datasetID: datasetID).map(\.path))
    }
}

/// What extracting one scan produced for one dataset.
public struct ScanExtractionResult: Sendable {
    public struct ClipOutcome: Sendable {
        public var clipID: Int64
        public var frameIndices: [Int]
        public var stillIndex: Int
        /// nil when written; otherwise why the clip was rejected.
        public var rejectReason: String?
        public init(clipID: Int64, frameIndices: [Int], stillIndex: Int, rejectReason: String?) {
            self.clipID = clipID
            self.frameIndices = frameIndices
            self.stillIndex = stillIndex
            self.rejectReason = rejectReason
        }
    }

    public var datasetID: Int64
    public var shards: [SealedShard]
    public var clips: [ClipOutcome]
    public var rejected: [String: Int]

    public init(datasetID: Int64, shards: [SealedShard], clips: [ClipOutcome], rejected: [String: Int]) {
        self.datasetID = datasetID
        self.shards = shards
        self.clips = clips
        self.rejected = rejected
    }
}

extension Catalog {
    /// Commits a scan's extraction for every dataset at once: shards and record slots, each
    /// clip's provenance (frame indices, still) or rejection, and the scan marked extracted.
    /// One transaction: after a crash the scan is either wholly committed or not at all.
    public func commitExtraction(scanID: String, results: [ScanExtractionResult], runID: Int64?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try write { db in
            for result in results {
                for shard in result.shards {
                    _ = try Self.insert(shard, datasetID: result.datasetID, runID: runID, db: db)
                }
                let update = try db.makeStatement(sql: """
                    UPDATE clips SET status = ?, reject_reason = ?, frame_indices = ?, still_index = ? WHERE id = ?
                    """)
                for c in result.clips {
                    let frames = "[" + c.frameIndices.map(String.init).joined(separator: ",") + "]"
                    try update.execute(arguments: [c.rejectReason == nil ? "extracted" : "rejected", c.rejectReason, frames, c.stillIndex, c.clipID])
                }
                let records = result.shards.reduce(0) { $0 + $1.recordCount }
                try db.execute(sql: """
                    INSERT OR REPLACE INTO extractions (dataset_id, scan_id, status, records, rejected, error, extracted_at, run_id)
                    VALUES (?, ?, 'extracted', ?, ?, NULL, ?, ?)
                    """, arguments: [result.datasetID, scanID, records,
                                     String(decoding: try encoder.encode(result.rejected), as: UTF8.self), CatalogClock.now(), runID])
            }
        }
    }

    /// Marks a scan's extraction failed (nothing of it is indexed); a rerun tries it again.
    public func failExtraction(scanID: String, datasetIDs: [Int64], error: String, runID: Int64?) throws {
        try write { db in
            for id in datasetIDs {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO extractions (dataset_id, scan_id, status, records, rejected, error, extracted_at, run_id)
                    VALUES (?, ?, 'failed', 0, NULL, ?, ?, ?)
                    """, arguments: [id, scanID, error, CatalogClock.now(), runID])
            }
        }
    }

    /// Points a dataset at the folder its shards go to (before any shard is indexed).
    public func setRoot(_ root: String, datasetID: Int64) throws {
        try write { db in try db.execute(sql: "UPDATE datasets SET root = ? WHERE id = ?", arguments: [root, datasetID]) }
    }
}
