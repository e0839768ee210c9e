import Foundation
import GRDB
import SonoCore
import SonoDataset
import SonoShards

/// How a scan's extraction for a dataset ended. Stored as its raw value in `extractions`.
public enum ExtractionStatus: String, Codable, Sendable {
    /// Committed whole: shards, record slots and every clip's provenance.
    case extracted
    /// Nothing indexed; a rerun tries the scan again.
    case failed
}

/// Extraction bookkeeping per (dataset, scan): what makes `sono-extract` resumable.
extension Catalog {
    /// Scans whose extraction for a dataset is committed (extracted or failed).
    public func extractionStatus(datasetID: Int64) throws -> [String: ExtractionStatus] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT scan_id, status FROM extractions WHERE dataset_id = ?",
                                                              arguments: [datasetID]).compactMap { row in
                ExtractionStatus(rawValue: row["status"]).map { (row["scan_id"] as String, $0) }
            })
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
        public var rejectReason: RejectReason?
        public init(clipID: Int64, frameIndices: [Int], stillIndex: Int, rejectReason: RejectReason?) {
            self.clipID = clipID
            self.frameIndices = frameIndices
            self.stillIndex = stillIndex
            self.rejectReason = rejectReason
        }
    }

    public var datasetID: Int64
    public var shards: [SealedShard]
    public var clips: [ClipOutcome]
    public var rejected: RejectCounts

    public init(datasetID: Int64, shards: [SealedShard], clips: [ClipOutcome], rejected: RejectCounts) {
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
        try write { db in
            for result in results {
                for shard in result.shards {
                    _ = try Self.insert(shard, datasetID: result.datasetID, runID: runID, db: db)
                }
                let update = try db.makeStatement(sql: """
                    UPDATE clips SET status = ?, reject_reason = ?, frame_indices = ?, still_index = ? WHERE id = ?
                    """)
                for c in result.clips {
                    let status: ClipRecord.Status = c.rejectReason == nil ? .extracted : .rejected
                    try update.execute(arguments: [status.rawValue, c.rejectReason?.rawValue, ClipRecord.frameIndicesText(c.frameIndices),
                                                   c.stillIndex, c.clipID])
                }
                let records = result.shards.reduce(0) { $0 + $1.recordCount }
                try db.execute(sql: """
                    INSERT OR REPLACE INTO extractions (dataset_id, scan_id, status, records, rejected, error, extracted_at, run_id)
                    VALUES (?, ?, ?, ?, ?, NULL, ?, ?)
                    """, arguments: [result.datasetID, scanID, ExtractionStatus.extracted.rawValue, records,
                                     try Self.json(result.rejected), CatalogClock.now(), runID])
            }
        }
    }

    /// Marks a scan's extraction failed (nothing of it is indexed); a rerun tries it again.
    public func failExtraction(scanID: String, datasetIDs: [Int64], error: String, runID: Int64?) throws {
        try write { db in
            for id in datasetIDs {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO extractions (dataset_id, scan_id, status, records, rejected, error, extracted_at, run_id)
                    VALUES (?, ?, ?, 0, NULL, ?, ?, ?)
                    """, arguments: [id, scanID, ExtractionStatus.failed.rawValue, error, CatalogClock.now(), runID])
            }
        }
    }

    /// Points a dataset at the folder its shards go to (before any shard is indexed).
    public func setRoot(_ root: String, datasetID: Int64) throws {
        try write { db in try db.execute(sql: "UPDATE datasets SET root = ? WHERE id = ?", arguments: [root, datasetID]) }
    }
}
