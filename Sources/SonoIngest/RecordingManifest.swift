import Foundation
import SonoCore

/// One row of a recording manifest: a scan and where its media is.
public struct ManifestEntry: Hashable, Sendable {
    public var scanID: String
    public var source: RecordingSource
    /// 1-based line in the manifest, for messages.
    public var line: Int
}

/// A recording manifest (`data-manifests/*.csv`): a header row, then one scan per row.
///
/// Columns: `scan_id`, `video` (required); `audio`, `audio_offset_ms`, `crop` ("x,y,w,h",
/// quoted) (optional). Paths are relative to the manifest's folder. Every problem is reported
/// with the manifest's path and the line, and nothing is ingested from a manifest that has one.
public enum RecordingManifest {
    static let knownColumns: Set<String> = ["scan_id", "video", "audio", "audio_offset_ms", "crop"]

    public static func load(_ path: String) throws -> [ManifestEntry] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read manifest" : "no such manifest")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(path: path, reason: "manifest is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Parses manifest text; relative paths resolve against `path`'s folder.
    static func parse(_ text: String, path: String) throws -> [ManifestEntry] {
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        let rows = try CSV.parse(text, path: path)
        guard let (headerLine, header) = rows.first else { throw InputError(path: path, reason: "empty manifest (a header row is required)") }
        let columns = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for required in ["scan_id", "video"] where !columns.contains(required) {
            throw InputError(path: path, reason: "line \(headerLine): header lacks the required column '\(required)' (has: \(columns.joined(separator: ", ")))")
        }
        let unknown = columns.filter { !knownColumns.contains($0) }
        if !unknown.isEmpty {
            throw InputError(path: path, reason: "line \(headerLine): unknown column(s) \(unknown.joined(separator: ", ")); known: \(knownColumns.sorted().joined(separator: ", "))")
        }
        if Set(columns).count != columns.count {
            throw InputError(path: path, reason: "line \(headerLine): a column appears twice")
        }

        var entries: [ManifestEntry] = []
        var seen: [String: Int] = [:]
        for (line, fields) in rows.dropFirst() {
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            guard fields.count == columns.count else {
                throw InputError(path: path, reason: "line \(line): \(fields.count) fields, the header has \(columns.count)")
            }
            var row: [String: String] = [:]
            for (c, f) in zip(columns, fields) { row[c] = f.trimmingCharacters(in: .whitespaces) }
            func fail(_ why: String) -> InputError { InputError(path: path, reason: "line \(line): \(why)") }

            let scanID = row["scan_id"] ?? ""
            guard !scanID.isEmpty, scanID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw fail("scan_id '\(scanID)' must be non-empty letters, digits, '.', '_' or '-'")
            }
            if let first = seen[scanID] { throw fail("scan_id '\(scanID)' already used on line \(first)") }
            seen[scanID] = line
            guard let video = row["video"], !video.isEmpty else { throw fail("empty video path") }
            let audio = row["audio"].flatMap { $0.isEmpty ? nil : $0 }

            var offset: Microseconds = 0
            if let text = row["audio_offset_ms"], !text.isEmpty {
                guard let ms = Double(text), ms.isFinite, abs(ms) < 86_400_000 else {
                    throw fail("audio_offset_ms '\(text)' is not a number of milliseconds")
                }
                guard audio != nil else { throw fail("audio_offset_ms is set but there is no separate audio file") }
                offset = Microseconds((ms * 1000).rounded())
            }
            var crop: CropRect? = nil
            if let text = row["crop"], !text.isEmpty {
                guard let rect = CropRect(parsing: text), rect.x >= 0, rect.y >= 0, rect.width > 0, rect.height > 0 else {
                    throw fail("crop '\(text)' must be \"x,y,w,h\" with x,y ≥ 0 and w,h > 0")
                }
                crop = rect
            }
            func resolve(_ p: String) -> String {
                p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path
            }
            entries.append(ManifestEntry(
                scanID: scanID,
                source: RecordingSource(videoPath: resolve(video), audioPath: audio.map(resolve), audioOffset: offset, crop: crop),
                line: line))
        }
        return entries
    }
}

/// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines.
enum CSV {
    /// Rows with the 1-based line each starts on.
    static func parse(_ text: String, path: String) throws -> [(Int, [String])] {
        var rows: [(Int, [String])] = []
        var field = "", fields: [String] = []
        var inQuotes = false, line = 1, rowStart = 1, fieldWasQuoted = false
        var chars = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        func endRow() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) { rows.append((rowStart, fields)) }
            fields = []; field = ""; fieldWasQuoted = false
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.append("\""); i += 1 } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                inQuotes = true; fieldWasQuoted = true
            } else if c == "," {
                fields.append(field); field = ""; fieldWasQuoted = false
            } else if c == "\n" {
                endRow(); line += 1; rowStart = line
            } else {
                field.append(c)
            }
            i += 1
        }
        if inQuotes { throw InputError(path: path, reason: "line \(rowStart): unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        return rows
    }
}
