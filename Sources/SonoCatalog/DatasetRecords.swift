import Foundation
import GRDB
import SonoCore
import SonoDataset
import SonoShards

/// A dataset version: a recipe (and its hash) applied to the catalog's scans. A changed recipe
/// makes a new version; clips of two versions never mix.
public struct DatasetRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "datasets"
    public var id: Int64?
    public var name: String
    public var version: Int
    public var recipe: String
    public var recipeHash: String
    /// The record layout as JSON (`RecordLayout`).
    public var recordLayout: String
    /// Folder holding the shards: relative to the catalog's folder, or absolute.
    public var root: String
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, name, version, recipe, root
        case recipeHash = "recipe_hash", recordLayout = "record_layout", createdAt = "created_at"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    public var layout: RecordLayout? { try? JSONDecoder().decode(RecordLayout.self, from: Data(recordLayout.utf8)) }

    /// The recipe this version was made from.
    public var parsedRecipe: DatasetRecipe? { try? JSONDecoder().decode(DatasetRecipe.self, from: Data(recipe.utf8)) }

    /// The clip shapes of its records, from the stored layout.
    public var clipShape: ClipRecordShape? { layout.flatMap(ClipRecordShape.init(layout:)) }

    /// "large v2", for messages.
    public var label: String { "\(name) v\(version)" }
}

/// One planned clip with its provenance: the scan, the span on the scan's timeline, and (after
/// extraction) the frame indices used and the still's frame index.
public struct ClipRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "clips"
    public enum Status: String, Codable, Sendable { case planned, extracted, rejected }

    public var id: Int64?
    public var datasetID: Int64
    public var scanID: String
    public var startMicros: Microseconds
    public var endMicros: Microseconds
    public var speechRatio: Double
    public var split: Split
    public var status: Status = .planned
    /// Why extraction rejected the clip (`.frozenVideo`, `.blankVideo`).
    public var rejectReason: RejectReason?
    /// JSON array of the frame indices sampled (set by extraction).
    public var frameIndices: String?
    public var stillIndex: Int?
    /// JSON array of the sampled frames' presentation times (µs), and the still's: exact
    /// provenance even where frames were lost and indices drift from the source's numbering.
    public var frameTimes: String?
    public var stillTime: Microseconds?
    /// A labelled frame sample's class name (nil for clips).
    public var label: String?

    public init(id: Int64? = nil, datasetID: Int64, scanID: String, startMicros: Microseconds, endMicros: Microseconds,
                speechRatio: Double, split: Split, frameIndices: [Int]? = nil, stillIndex: Int? = nil, label: String? = nil) {
        self.id = id
        self.datasetID = datasetID
        self.scanID = scanID
        self.startMicros = startMicros
        self.endMicros = endMicros
        self.speechRatio = speechRatio
        self.split = split
        self.frameIndices = frameIndices.map(Self.frameIndicesText)
        self.stillIndex = stillIndex
        self.label = label
    }

    enum CodingKeys: String, CodingKey {
        case id, split, status
        case rejectReason = "reject_reason"
        case datasetID = "dataset_id", scanID = "scan_id", startMicros = "start_us", endMicros = "end_us"
        case speechRatio = "speech_ratio", frameIndices = "frame_indices", stillIndex = "still_index", label
        case frameTimes = "frame_times_us", stillTime = "still_time_us"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The frame indices sampled, once extracted.
    public var sampledFrames: [Int]? {
        frameIndices.flatMap { try? JSONDecoder().decode([Int].self, from: Data($0.utf8)) }
    }

    /// The sampled frames' presentation times (µs), once extracted.
    public var sampledFrameTimes: [Microseconds]? {
        frameTimes.flatMap { try? JSONDecoder().decode([Microseconds].self, from: Data($0.utf8)) }
    }

    /// How `frameIndices` and `frameTimes` are stored: a JSON array without spaces.
    static func frameIndicesText<T: BinaryInteger>(_ indices: [T]) -> String { "[" + indices.map { "\($0)" }.joined(separator: ",") + "]" }
}

/// A sealed shard as the catalog records it.
public struct ShardRecordRow: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "shards"
    public var id: Int64?
    public var datasetID: Int64
    public var path: String
    public var size: Int
    public var recordCount: Int
    public var headerCRC: Int64
    public var recordsCRC: Int64
    public var sealedAt: String
    public var runID: Int64?

    enum CodingKeys: String, CodingKey {
        case id, path, size
        case datasetID = "dataset_id", recordCount = "record_count", headerCRC = "header_crc32c"
        case recordsCRC = "records_crc32c", sealedAt = "sealed_at", runID = "run_id"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    public var expectation: ShardReader.Expectation {
        ShardReader.Expectation(size: size, recordCount: recordCount, headerCRC: UInt32(truncatingIfNeeded: headerCRC))
    }
}

/// One stored record: its clip, shard and slot, and the clip's scan.
public struct RecordSlot: Sendable, Equatable {
    public var clipID: Int64
    public var shardID: Int64
    public var slot: Int
    public var scanID: String
}

/// How many clips a dataset has, by split and by scan.
public struct ClipCounts: Sendable, Equatable {
    public struct Scan: Sendable, Equatable {
        public var scanID: String
        public var clips: Int
        /// Clips with a record in a shard.
        public var stored: Int
        /// Speech the dataset's detector found in the scan.
        public var speechMicros: Microseconds
    }

    public var total: Int
    /// Splits with clips, in name order.
    public var bySplit: [(Split, Int)]
    public var byScan: [Scan]

    public static func == (a: ClipCounts, b: ClipCounts) -> Bool {
        a.total == b.total && a.byScan == b.byScan && a.bySplit.map(\.0) == b.bySplit.map(\.0) && a.bySplit.map(\.1) == b.bySplit.map(\.1)
    }
}

/// Where a clip's record is.
public struct RecordLocation: Sendable, Equatable {
    public var clipID: Int64
    public var shard: ShardRecordRow
    public var slot: Int
}

extension Catalog {
    /// The dataset version made from `recipe`, created as the next version of its name if none
    /// has its hash. A new version's shard folder is `root` or, by default,
    /// `datasets/<name>-v<version>` beside the catalog (the version is decided here, in the
    /// same transaction).
    public func dataset(for recipe: DatasetRecipe, root: String? = nil) throws -> DatasetRecord {
        try dataset(name: recipe.name, recipe: recipe.canonicalJSON, recipeHash: recipe.hash, layout: recipe.recordLayout) { version in
            root ?? "datasets/" + DatasetNaming.folder(name: recipe.name, version: version)
        }
    }

    /// The dataset of `name` whose recipe hashes to `recipeHash`, created as the next version
    /// if none exists; `root` gives the new version's shard folder from its version number
    /// (decided here, in the same transaction). For datasets that no recipe describes
    /// (synthetic ones); `dataset(for:root:)` is the usual way in.
    public func dataset(name: String, recipe: String, recipeHash: String, layout: RecordLayout,
                        root: (Int) -> String) throws -> DatasetRecord {
        try write { db in
            if let existing = try DatasetRecord.filter(Column("name") == name && Column("recipe_hash") == recipeHash).fetchOne(db) {
                return existing
            }
            let version = (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM datasets WHERE name = ?", arguments: [name]) ?? 0) + 1
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var d = DatasetRecord(id: nil, name: name, version: version, recipe: recipe, recipeHash: recipeHash,
                                  recordLayout: String(decoding: try encoder.encode(layout), as: UTF8.self),
                                  root: root(version), createdAt: CatalogClock.now())
            try d.insert(db)
            return d
        }
    }

    /// The newest version of the dataset called `name`; an error naming the catalog and the
    /// datasets it knows otherwise.
    public func latestDataset(named name: String) throws -> DatasetRecord {
        let all = try datasets()
        guard let record = all.filter({ $0.name == name }).max(by: { $0.version < $1.version }), record.id != nil else {
            let known = Set(all.map(\.name)).sorted().joined(separator: ", ")
            throw InputError(path: path, reason: "no dataset named \(name) (run sono-segment with its recipe first; known: \(known.isEmpty ? "none" : known))")
        }
        return record
    }

    public func datasets() throws -> [DatasetRecord] {
        try read { db in try DatasetRecord.order(Column("name"), Column("version")).fetchAll(db) }
    }

    /// Inserts clips in one transaction and returns them with their ids.
    public func insert(clips: [ClipRecord]) throws -> [ClipRecord] {
        try write { db in
            try clips.map { clip in
                var c = clip
                try c.insert(db)
                return c
            }
        }
    }

    public func clip(_ id: Int64) throws -> ClipRecord? {
        try read { db in try ClipRecord.fetchOne(db, key: id) }
    }

    /// Records a sealed shard and its clips' slots in one transaction.
    @discardableResult
    public func index(_ shard: SealedShard, datasetID: Int64, runID: Int64?) throws -> ShardRecordRow {
        try write { db in try Self.insert(shard, datasetID: datasetID, runID: runID, db: db) }
    }

    /// The rows of one sealed shard, inside the caller's transaction.
    static func insert(_ shard: SealedShard, datasetID: Int64, runID: Int64?, db: Database) throws -> ShardRecordRow {
        var row = ShardRecordRow(id: nil, datasetID: datasetID, path: shard.relativePath, size: shard.size,
                                 recordCount: shard.recordCount, headerCRC: Int64(shard.headerCRC),
                                 recordsCRC: Int64(shard.recordsCRC), sealedAt: CatalogClock.now(), runID: runID)
        try row.insert(db)
        let statement = try db.makeStatement(sql: "INSERT INTO records (clip_id, shard_id, slot) VALUES (?, ?, ?)")
        for (slot, clipID) in shard.clipIDs.enumerated() {
            try statement.execute(arguments: [clipID, row.id, slot])
        }
        return row
    }

    public func shards(datasetID: Int64) throws -> [ShardRecordRow] {
        try read { db in try ShardRecordRow.filter(Column("dataset_id") == datasetID).order(Column("path")).fetchAll(db) }
    }

    public func location(ofClip clipID: Int64) throws -> RecordLocation? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT shard_id, slot FROM records WHERE clip_id = ?", arguments: [clipID]),
                  let shard = try ShardRecordRow.fetchOne(db, key: row["shard_id"] as Int64) else { return nil }
            return RecordLocation(clipID: clipID, shard: shard, slot: row["slot"])
        }
    }

    /// Every stored record of a dataset (optionally of one split), in shard-path and slot
    /// order: what a loader indexes.
    public func recordSlots(datasetID: Int64, split: Split? = nil) throws -> [RecordSlot] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.clip_id, r.shard_id, r.slot, c.scan_id FROM records r JOIN clips c ON c.id = r.clip_id
                JOIN shards s ON s.id = r.shard_id
                WHERE c.dataset_id = ? AND (? IS NULL OR c.split = ?) ORDER BY s.path, r.slot
                """, arguments: [datasetID, split?.rawValue, split?.rawValue])
            .map { RecordSlot(clipID: $0["clip_id"], shardID: $0["shard_id"], slot: $0["slot"], scanID: $0["scan_id"]) }
        }
    }

    /// A dataset's clip counts: in all, per split, and per scan with how many are stored.
    public func clipCounts(datasetID: Int64) throws -> ClipCounts {
        try read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM clips WHERE dataset_id = ?", arguments: [datasetID]) ?? 0
            let splits = try Row.fetchAll(db, sql: "SELECT split, COUNT(*) AS n FROM clips WHERE dataset_id = ? GROUP BY split ORDER BY split", arguments: [datasetID])
                .compactMap { row in Split(rawValue: row["split"]).map { ($0, row["n"] as Int) } }
            let scans = try Row.fetchAll(db, sql: """
                SELECT c.scan_id AS scan, COUNT(*) AS n, COUNT(r.clip_id) AS stored,
                       (SELECT IFNULL(SUM(end_us - start_us), 0) FROM speech_intervals i WHERE i.dataset_id = c.dataset_id AND i.scan_id = c.scan_id) AS speech
                FROM clips c LEFT JOIN records r ON r.clip_id = c.id
                WHERE c.dataset_id = ? GROUP BY c.scan_id ORDER BY c.scan_id
                """, arguments: [datasetID]).map {
                ClipCounts.Scan(scanID: $0["scan"], clips: $0["n"], stored: $0["stored"], speechMicros: $0["speech"])
            }
            return ClipCounts(total: total, bySplit: splits, byScan: scans)
        }
    }

    /// The folder of a dataset's shards, resolved against the catalog's folder.
    public func rootURL(of dataset: DatasetRecord) -> URL {
        if dataset.root.hasPrefix("/") { return URL(fileURLWithPath: dataset.root) }
        return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(dataset.root)
    }

    /// A shard's file: its path (which may climb out of the root with "..", after a merge)
    /// resolved against the dataset's root, lexically, so the root need not exist.
    public func shardPath(_ shard: ShardRecordRow, of dataset: DatasetRecord) -> String {
        rootURL(of: dataset).appendingPathComponent(shard.path).standardizedFileURL.path
    }

    /// Opens a shard, checked against its catalog row.
    public func openShard(_ shard: ShardRecordRow, of dataset: DatasetRecord) throws -> ShardReader {
        try ShardReader(path: shardPath(shard, of: dataset), expect: shard.expectation)
    }

    /// `root` as stored: relative to the catalog's folder when inside it.
    public func storedRoot(for url: URL) -> String {
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL.path + "/"
        let full = url.standardizedFileURL.path
        return full.hasPrefix(base) ? String(full.dropFirst(base.count)) : full
    }
}
