import Foundation
import GRDB
import SonoCore

/// A label set: one label manifest's content under a name, versioned like a recipe.
public struct LabelSetRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "label_sets"
    public enum Kind: String, Codable, Sendable { case planes, gaze }

    public var id: Int64?
    public var name: String
    public var kind: Kind
    public var version: Int
    public var contentHash: String
    /// The manifest it was read from.
    public var source: String
    public var rows: Int
    public var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, name, kind, version, source, rows
        case contentHash = "content_hash", createdAt = "created_at"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
    public var label: String { "\(name) v\(version)" }
}

/// A labelled span of a scan (µs on the video timeline).
public struct PlaneSpan: Sendable, Equatable {
    public var scanID: String
    public var span: Range<Microseconds>
    public var label: String

    public init(scanID: String, span: Range<Microseconds>, label: String) {
        self.scanID = scanID
        self.span = span
        self.label = label
    }
}

/// A gaze sample (µs on the video timeline; displayed pixels).
public struct GazeSample: Sendable, Equatable {
    public var scanID: String
    public var time: Microseconds
    public var x: Double, y: Double

    public init(scanID: String, time: Microseconds, x: Double, y: Double) {
        self.scanID = scanID
        self.time = time
        self.x = x
        self.y = y
    }
}

extension Catalog {
    /// Stores a label set in one transaction: the same content under the same name is the
    /// existing version; new content is the next version. Rows were validated by the caller.
    public func addLabelSet(name: String, kind: LabelSetRecord.Kind, source: String, contentHash: String,
                            planes: [PlaneSpan] = [], gaze: [GazeSample] = []) throws -> (LabelSetRecord, isNew: Bool) {
        try write { db in
            if let existing = try LabelSetRecord.filter(Column("name") == name && Column("content_hash") == contentHash).fetchOne(db) {
                return (existing, false)
            }
            let version = (try Int.fetchOne(db, sql: "SELECT MAX(version) FROM label_sets WHERE name = ?", arguments: [name]) ?? 0) + 1
            var set = LabelSetRecord(id: nil, name: name, kind: kind, version: version, contentHash: contentHash, source: source,
                                     rows: planes.count + gaze.count, createdAt: CatalogClock.now())
            try set.insert(db)
            let span = try db.makeStatement(sql: "INSERT INTO plane_labels (label_set_id, scan_id, start_us, end_us, label) VALUES (?, ?, ?, ?, ?)")
            for p in planes { try span.execute(arguments: [set.id, p.scanID, p.span.lowerBound, p.span.upperBound, p.label]) }
            let point = try db.makeStatement(sql: "INSERT INTO gaze_samples (label_set_id, scan_id, time_us, x, y) VALUES (?, ?, ?, ?, ?)")
            for g in gaze { try point.execute(arguments: [set.id, g.scanID, g.time, g.x, g.y]) }
            return (set, true)
        }
    }

    /// The newest version of the label set `name` of `kind`.
    public func latestLabelSet(named name: String, kind: LabelSetRecord.Kind) throws -> LabelSetRecord {
        let found = try read { db in
            try LabelSetRecord.filter(Column("name") == name && Column("kind") == kind.rawValue).order(Column("version").desc).fetchOne(db)
        }
        guard let found else {
            let known = try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT name FROM label_sets WHERE kind = ? ORDER BY name", arguments: [kind.rawValue]) }
            throw InputError(path: path, reason: "no \(kind.rawValue) label set named \(name) (sono-ingest labels first; known: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
        }
        return found
    }

    /// The label set `name` with this content (the version a dataset was planned from).
    public func labelSet(named name: String, contentHash: String) throws -> LabelSetRecord {
        guard let found = try read({ db in
            try LabelSetRecord.filter(Column("name") == name && Column("content_hash") == contentHash).fetchOne(db)
        }) else {
            throw InputError(path: path, reason: "the label set \(name) a dataset was planned from (content \(contentHash.prefix(12))) is not in the catalog")
        }
        return found
    }

    /// A label set's spans of one scan, in time order.
    public func planeSpans(labelSetID: Int64, scanID: String) throws -> [PlaneSpan] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT start_us, end_us, label FROM plane_labels WHERE label_set_id = ? AND scan_id = ? ORDER BY start_us",
                             arguments: [labelSetID, scanID]).map {
                PlaneSpan(scanID: scanID, span: ($0["start_us"] as Microseconds)..<($0["end_us"] as Microseconds), label: $0["label"])
            }
        }
    }

    /// A label set's gaze samples of one scan, in time order.
    public func gazeSamples(labelSetID: Int64, scanID: String) throws -> [GazeSample] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT time_us, x, y FROM gaze_samples WHERE label_set_id = ? AND scan_id = ? ORDER BY time_us, rowid",
                             arguments: [labelSetID, scanID]).map { GazeSample(scanID: scanID, time: $0["time_us"], x: $0["x"], y: $0["y"]) }
        }
    }

    /// Stores a labelled dataset's folds by scan (kept if already stored: folds never move).
    public func saveFolds(datasetID: Int64, _ folds: [String: Int]) throws {
        try write { db in
            for (scan, fold) in folds {
                try db.execute(sql: "INSERT OR IGNORE INTO folds (dataset_id, scan_id, fold) VALUES (?, ?, ?)", arguments: [datasetID, scan, fold])
            }
        }
    }

    /// Each scan's fold of a dataset.
    public func folds(datasetID: Int64) throws -> [String: Int] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT scan_id, fold FROM folds WHERE dataset_id = ?", arguments: [datasetID])
                .map { ($0["scan_id"] as String, $0["fold"] as Int) })
        }
    }
}
