import Foundation
import GRDB
import SonoCore

/// The SQLite catalog (WAL mode) that every stage reads and writes: recordings, runs, and
/// (as stages land) datasets, clips, shards and records. Users may query it directly.
public final class Catalog: Sendable {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the catalog at `path` and applies pending migrations.
    public init(path: String) throws {
        self.path = path
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var config = Configuration()
            config.foreignKeysEnabled = true
            config.busyMode = .timeout(30)
            pool = try DatabasePool(path: path, configuration: config)
            try CatalogMigrations.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw CatalogError(path: path, reason: "cannot open catalog: \(error.message ?? "\(error)")")
        } catch {
            throw CatalogError(path: path, reason: "cannot open catalog: \(error)")
        }
    }

    /// The schema as SQLite stores it (tables and indices, in name order), for `schemas/`.
    public func schemaSQL() throws -> String {
        try read { db in
            let rows = try String.fetchAll(db, sql: """
                SELECT sql FROM sqlite_master
                WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                ORDER BY type DESC, name
                """)
            return rows.map { $0 + ";\n" }.joined(separator: "\n")
        }
    }

    /// Runs `body` in a read transaction. Internal: SQL stays in this module.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw CatalogError(path: path, wrapping: error) }
    }

    /// Runs `body` in a write transaction.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw CatalogError(path: path, wrapping: error) }
    }
}

/// A catalog that cannot be opened, read or written.
public struct CatalogError: PathError {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    init(path: String, wrapping error: Error) {
        if let e = error as? CatalogError { self = e; return }
        if let db = error as? DatabaseError {
            self.init(path: path, reason: "SQLite error \(db.resultCode.rawValue): \(db.message ?? "")")
        } else {
            self.init(path: path, reason: "\(error)")
        }
    }
}

/// ISO 8601 timestamps for the catalog's text time columns.
enum CatalogClock {
    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}

extension Catalog {
    /// The linked SQLite's version, e.g. "3.40.1".
    public static var sqliteVersion: String {
        (try? DatabaseQueue().read { db in try String.fetchOne(db, sql: "SELECT sqlite_version()") } ?? "unknown") ?? "unknown"
    }
}
