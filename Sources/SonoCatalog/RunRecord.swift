import Foundation
import GRDB
import SonoCore

/// One execution of a stage: which, with what arguments, when, and what it did.
public struct RunRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "runs"

    public enum Status: String, Codable, Sendable {
        case running, succeeded, partial, failed
    }

    public var id: Int64?
    public var stage: String
    public var version: String
    public var arguments: String
    public var startedAt: String
    public var finishedAt: String?
    public var status: Status
    public var summary: String?

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    enum CodingKeys: String, CodingKey {
        case id, stage, version, arguments, status, summary
        case startedAt = "started_at", finishedAt = "finished_at"
    }
}

extension Catalog {
    /// Records the start of a stage run and returns its id.
    public func beginRun(stage: String, arguments: [String]) throws -> Int64 {
        let args = (try? String(decoding: JSONEncoder().encode(arguments), as: UTF8.self)) ?? "[]"
        var run = RunRecord(id: nil, stage: stage, version: SonoDualVersion.string, arguments: args,
                            startedAt: CatalogClock.now(), finishedAt: nil, status: .running, summary: nil)
        try write { db in try run.insert(db) }
        return run.id ?? 0
    }

    /// Records how a run ended, with its summary as JSON.
    public func finishRun<Summary: Encodable>(_ id: Int64, status: RunRecord.Status, summary: Summary) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = (try? String(decoding: encoder.encode(summary), as: UTF8.self)) ?? "{}"
        try write { db in
            try db.execute(sql: "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                           arguments: [CatalogClock.now(), status.rawValue, text, id])
        }
    }

    /// Runs a stage as a recorded run: begun, then closed as succeeded or partial (from the
    /// summary) or failed (with the error, which is rethrown).
    public func withRun<Summary: Encodable>(stage: String, arguments: [String], isComplete: (Summary) -> Bool,
                                            _ body: (Int64) throws -> Summary) throws -> Summary {
        let runID = try beginRun(stage: stage, arguments: arguments)
        do {
            let summary = try body(runID)
            try finishRun(runID, status: isComplete(summary) ? .succeeded : .partial, summary: summary)
            return summary
        } catch {
            try? finishRun(runID, status: .failed, summary: ["error": "\(error)"])
            throw error
        }
    }

    public func runs() throws -> [RunRecord] {
        try read { db in try RunRecord.order(Column("id")).fetchAll(db) }
    }
}
