import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoMedia

/// Label manifests (`data-manifests/labels/*.csv`), checked against the ingested recordings:
/// - planes: `scan_id,start_s,end_s,label`: a labelled span per row, seconds from the scan's
///   first video frame, labels from the class list, spans of a scan not overlapping; or
///   `scan_id,frame_index,label`: single frames by their index in presentation order;
/// - gaze: `scan_id,time_s,x,y`: a gaze sample per row, in displayed pixels of the full frame.
/// Every problem (unknown scan, time outside the video, overlap, unknown label, point outside
/// the frame, malformed row) is an error naming the file and line; nothing is stored.
public enum LabelManifest {
    /// The video span and displayed size of each ingested scan.
    public struct ScanFacts: Sendable {
        public var start: Microseconds
        public var end: Microseconds
        public var width: Int
        public var height: Int
    }

    public static func scanFacts(_ recordings: [RecordingRecord]) -> [String: ScanFacts] {
        var facts: [String: ScanFacts] = [:]
        for r in recordings where r.status.isUsable {
            guard let p = r.probeResult, let end = p.videoEnd else { continue }
            facts[r.scanID] = ScanFacts(start: p.video.startTime, end: end, width: p.video.displayWidth, height: p.video.displayHeight)
        }
        return facts
    }

    public static func planes(_ path: String, scans: [String: ScanFacts], classes: ClassList,
                              frameTimes: (String) throws -> [Microseconds] = { _ in [] }) throws -> [PlaneSpan] {
        if try header(path) == frameColumns { return try framePlanes(path, scans: scans, classes: classes, frameTimes: frameTimes) }
        var spans: [(PlaneSpan, Int)] = []
        for (line, row) in try rows(path, columns: ["scan_id", "start_s", "end_s", "label"]) {
            func fail(_ why: String) -> InputError { InputError(path: path, reason: "line \(line): \(why)") }
            let facts = try scan(row[0], scans, fail)
            guard let start = Double(row[1]), let end = Double(row[2]), start.isFinite, end.isFinite else { throw fail("start_s and end_s must be numbers") }
            guard end > start else { throw fail("end_s \(row[2]) is not after start_s \(row[1])") }
            let s = facts.start + TimeMath.micros(seconds: start), e = facts.start + TimeMath.micros(seconds: end)
            guard start >= 0, e <= facts.end else {
                throw fail(String(format: "span %@…%@ s lies outside the video (0…%.3f s)", row[1], row[2], TimeMath.seconds(facts.end - facts.start)))
            }
            guard (try? classes.index(of: row[3])) != nil else { throw fail("unknown label '\(row[3])' (known: \(classes.ids.joined(separator: ", ")))") }
            spans.append((PlaneSpan(scanID: row[0], span: s..<e, label: row[3]), line))
        }
        return try nonOverlapping(spans, path: path)
    }

    static let frameColumns = ["scan_id", "frame_index", "label"]

    /// `scan_id,frame_index,label`: single labelled frames (index in presentation order), each
    /// stored as the 1 µs span at its presentation time (its one sample is that frame).
    static func framePlanes(_ path: String, scans: [String: ScanFacts], classes: ClassList,
                            frameTimes: (String) throws -> [Microseconds]) throws -> [PlaneSpan] {
        var times: [String: [Microseconds]] = [:]
        var spans: [(PlaneSpan, Int)] = []
        for (line, row) in try rows(path, columns: frameColumns) {
            func fail(_ why: String) -> InputError { InputError(path: path, reason: "line \(line): \(why)") }
            _ = try scan(row[0], scans, fail)
            guard let index = Int(row[1]), index >= 0 else { throw fail("frame_index must be a non-negative integer") }
            if times[row[0]] == nil { times[row[0]] = try frameTimes(row[0]) }
            let scanTimes = times[row[0]] ?? []
            guard index < scanTimes.count else { throw fail("frame \(index) is past the video's \(scanTimes.count) frames") }
            guard (try? classes.index(of: row[2])) != nil else { throw fail("unknown label '\(row[2])' (known: \(classes.ids.joined(separator: ", ")))") }
            spans.append((PlaneSpan(scanID: row[0], span: scanTimes[index]..<(scanTimes[index] + 1), label: row[2]), line))
        }
        return try nonOverlapping(spans, path: path)
    }

    private static func nonOverlapping(_ spans: [(PlaneSpan, Int)], path: String) throws -> [PlaneSpan] {
        let ordered = spans.sorted { ($0.0.scanID, $0.0.span.lowerBound) < ($1.0.scanID, $1.0.span.lowerBound) }
        for (a, b) in zip(ordered, ordered.dropFirst()) where a.0.scanID == b.0.scanID && b.0.span.lowerBound < a.0.span.upperBound {
            throw InputError(path: path, reason: "line \(b.1): \(a.0.span.count == 1 ? "frame labelled twice; first" : "span overlaps the one") on line \(a.1) (scan \(a.0.scanID))")
        }
        return ordered.map(\.0)
    }

    /// The header row, lower-cased and trimmed.
    private static func header(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return [] }
        return try CSV.parse(text, path: path).first?.1.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? []
    }

    public static func gaze(_ path: String, scans: [String: ScanFacts]) throws -> [GazeSample] {
        try rows(path, columns: ["scan_id", "time_s", "x", "y"]).map { line, row in
            func fail(_ why: String) -> InputError { InputError(path: path, reason: "line \(line): \(why)") }
            let facts = try scan(row[0], scans, fail)
            guard let t = Double(row[1]), let x = Double(row[2]), let y = Double(row[3]), t.isFinite, x.isFinite, y.isFinite else {
                throw fail("time_s, x and y must be numbers")
            }
            let time = facts.start + TimeMath.micros(seconds: t)
            guard t >= 0, time <= facts.end else { throw fail(String(format: "time %@ s lies outside the video (0…%.3f s)", row[1], TimeMath.seconds(facts.end - facts.start))) }
            guard x >= 0, y >= 0, x < Double(facts.width), y < Double(facts.height) else {
                throw fail("point (\(row[2]), \(row[3])) lies outside the \(facts.width)×\(facts.height) frame")
            }
            return GazeSample(scanID: row[0], time: time, x: x, y: y)
        }
    }

    /// A SHA-256 of the rows as parsed (so formatting and row order do not make a new version).
    public static func contentHash(planes: [PlaneSpan] = [], gaze: [GazeSample] = []) -> String {
        var text = planes.map { "\($0.scanID),\($0.span.lowerBound),\($0.span.upperBound),\($0.label)" }
        text += gaze.map { "\($0.scanID),\($0.time),\($0.x),\($0.y)" }.sorted()
        return SHA256.hex(Array(text.joined(separator: "\n").utf8))
    }

    private static func scan(_ id: String, _ scans: [String: ScanFacts], _ fail: (String) -> InputError) throws -> ScanFacts {
        guard let facts = scans[id] else { throw fail("unknown scan '\(id)' (not an ingested recording)") }
        return facts
    }

    /// The data rows (line, fields in `columns` order); the header must be exactly `columns`.
    private static func rows(_ path: String, columns: [String]) throws -> [(Int, [String])] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw InputError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read label manifest (not UTF-8 text?)" : "no such label manifest")
        }
        let rows = try CSV.parse(text, path: path)
        guard let (headerLine, header) = rows.first else { throw InputError(path: path, reason: "empty label manifest (a header row is required)") }
        let found = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard found == columns else {
            throw InputError(path: path, reason: "line \(headerLine): header must be \(columns.joined(separator: ",")) (found \(found.joined(separator: ",")))")
        }
        return try rows.dropFirst().compactMap { line, fields in
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { return nil }
            guard fields.count == columns.count else {
                throw InputError(path: path, reason: "line \(line): \(fields.count) fields, the header has \(columns.count)")
            }
            return (line, fields.map { $0.trimmingCharacters(in: .whitespaces) })
        }
    }
}

/// `sono-ingest labels`: a label manifest into the catalog, as a new label set version.
public struct LabelIngestor: Sendable {
    public init() {}

    public func ingest(catalogPath: String, manifest: String, kind: LabelSetRecord.Kind, name: String?, classes: ClassList = .paper) throws -> String {
        let catalog = try Catalog(path: catalogPath)
        let recordings = try catalog.recordings()
        let scans = LabelManifest.scanFacts(recordings)
        let videos = Dictionary(uniqueKeysWithValues: recordings.map { ($0.scanID, $0.videoPath) })
        let setName = name ?? URL(fileURLWithPath: manifest).deletingPathExtension().lastPathComponent
        let (set, isNew): (LabelSetRecord, Bool)
        switch kind {
        case .planes:
            let spans = try LabelManifest.planes(manifest, scans: scans, classes: classes) { scan in
                try MediaProbe.framePresentationTimes(path: videos[scan] ?? "")
            }
            (set, isNew) = try catalog.addLabelSet(name: setName, kind: .planes, source: manifest,
                                                   contentHash: LabelManifest.contentHash(planes: spans), planes: spans)
        case .gaze:
            let samples = try LabelManifest.gaze(manifest, scans: scans)
            (set, isNew) = try catalog.addLabelSet(name: setName, kind: .gaze, source: manifest,
                                                   contentHash: LabelManifest.contentHash(gaze: samples), gaze: samples)
        }
        return "labels \(set.label) (\(set.kind.rawValue)): \(set.rows) rows from \(manifest)\(isNew ? "" : " (already stored, unchanged)")"
    }
}
