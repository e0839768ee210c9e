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
    public func savePlan(datasetID: Int64, scanID: String, clips: [ClipRecord], rejected: RejectCounts,
                         speech: [Range<Microseconds>] = [], runID: Int64?) throws {
        let rejectedJSON = try Self.json(rejected)
        try write { db in
            let interval = try db.makeStatement(sql: "INSERT INTO speech_intervals (dataset_id, scan_id, start_us, end_us) VALUES (?, ?, ?, ?)")
            for span in speech where !span.isEmpty {
                try interval.execute(arguments: [datasetID, scanID, span.lowerBound, span.upperBound])
            }
            for clip in clips {
                var c = clip
                try c.insert(db)
            }
            try db.execute(sql: """
                INSERT INTO scan_plans (dataset_id, scan_id, clips, rejected, planned_at, run_id) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [datasetID, scanID, clips.count, rejectedJSON, CatalogClock.now(), runID])
        }
    }

    /// Where the dataset's detector found speech in a scan (µs on the video timeline), in order.
    public func speechIntervals(datasetID: Int64, scanID: String) throws -> [Range<Microseconds>] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT start_us, end_us FROM speech_intervals WHERE dataset_id = ? AND scan_id = ? ORDER BY start_us",
                             arguments: [datasetID, scanID]).map { ($0["start_us"] as Microseconds)..<($0["end_us"] as Microseconds) }
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
    static func json(_ counts: RejectCounts) throws -> String { try json(encoding: counts.byName) }

    /// A value as the catalog stores JSON: keys sorted, no spaces.
    static func json<T: Encodable>(encoding value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
