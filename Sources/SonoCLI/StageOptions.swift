import Foundation
import ArgumentParser
import SonoDataset

/// `--catalog`, for commands that read or write the catalog and nothing else in common.
public struct CatalogOption: ParsableArguments {
    @Option(name: .customLong("catalog"), help: "Catalog (SQLite) path.") public var path: String
    public init() {}

    /// Commands that read a catalog never create one: a mistyped path is an error, not an empty catalog.
    public func validate() throws {
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("--catalog \(path): no such catalog") }
    }
}

/// What every pipeline stage takes: the catalog, its parallelism and its progress display.
public struct StageOptions: ParsableArguments {
    @Option(help: "Catalog (SQLite) path; created if missing.") public var catalog: String
    @Option(help: "Work items (scans, recordings) processed in parallel; default: the stage's own.") public var jobs: Int?
    @Flag(help: "No progress display.") public var quiet = false

    public init() {}

    public func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    /// `--jobs`, or the stage's default.
    public func jobs(default stageDefault: Int) -> Int { jobs ?? stageDefault }
}

extension Split: ExpressibleByArgument {}

/// The comma-separated lists of names the commands take ("large, medium" → ["large", "medium"]).
public enum CommaList {
    public static func items(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    }
}

/// `--datasets a,b`: datasets by name (their latest versions), for the commands that read several.
public struct DatasetNamesOption: ParsableArguments {
    @Option(name: .customLong("datasets"), help: "Comma-separated dataset names (latest versions), e.g. large,medium.") public var text: String
    public init() {}

    public var names: [String] { CommaList.items(text) }

    public func validate() throws {
        guard !names.isEmpty else { throw ValidationError("--datasets needs at least one name") }
    }
}
