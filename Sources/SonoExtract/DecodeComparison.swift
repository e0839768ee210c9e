import Foundation
import SonoCatalog
import SonoCore

/// The proof that a planned decode changes nothing (issue 18): each scan of the given datasets
/// is extracted twice in one process, every frame and then planned, into a temporary folder,
/// and the two are compared byte for byte: every shard file (records, index, header) and every
/// clip's provenance (frame indices and times, still) and rejection. Nothing is written to the
/// catalog or to the datasets' folders.
public struct DecodeComparison: Sendable {
    /// One scan compared.
    public struct ScanReport: Sendable {
        public var scanID: String
        public var records: Int
        /// How the planned extraction decoded (it may have decoded through, and says why).
        public var planned: ScanDecode
        /// Packets the full pass decoded.
        public var fullPackets: Int
        /// What differed, in words; empty: identical.
        public var differences: [String]
        public var identical: Bool { differences.isEmpty }

        public var line: String {
            let how: String
            if planned.mode == .planned, let total = planned.packetsTotal {
                how = String(format: "planned, %d of %d packets decoded (%.0f %%; the full pass %d)", planned.packetsDecoded, total,
                             100 * Double(planned.packetsDecoded) / Double(max(1, total)), fullPackets)
            } else {
                how = "decoded through (\(planned.fallback ?? "asked"))"
            }
            let verdict = identical ? "identical" : "DIFFERENT: " + differences.prefix(5).joined(separator: "; ")
            return "\(scanID): \(records) records, \(how): \(verdict)"
        }
    }

    public var decoderThreads = 2
    /// Only these scans (all usable scans the datasets plan when nil).
    public var scans: Set<String>?

    public init() {}

    public func run(catalogPath: String, datasetNames: [String]) throws -> [ScanReport] {
        let catalog = try Catalog(path: catalogPath)
        let jobs = try Extractor().datasetJobs(catalog, names: datasetNames, out: nil)
        let planned = try jobs.map { try catalog.plannedScans(datasetID: $0.id) }
        var recordings = try catalog.recordings().filter { r in r.status.isUsable && planned.contains { $0.contains(r.scanID) } }
        if let scans {
            let known = Set(recordings.map(\.scanID))
            if let missing = scans.subtracting(known).sorted().first {
                throw InputError(path: catalogPath, reason: "scan \(missing) is not a usable scan planned by \(datasetNames.joined(separator: ", "))")
            }
            recordings = recordings.filter { scans.contains($0.scanID) }
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sono-compare-decode-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var reports: [ScanReport] = []
        for recording in recordings {
            let mine = jobs.indices.filter { planned[$0].contains(recording.scanID) }
            let clips = try mine.map { try catalog.clips(datasetID: jobs[$0].id, scanID: recording.scanID) }
            let gaze = try mine.map { j in try jobs[j].gazeSetID.map { try catalog.gazeSamples(labelSetID: $0, scanID: recording.scanID) } ?? [] }
            func extract(_ mode: ScanDecode.Mode) throws -> [ScanExtractionResult] {
                let scanJobs = try mine.map { j -> DatasetJob in
                    var job = jobs[j]
                    job.root = scratch.appendingPathComponent(mode.rawValue).appendingPathComponent(job.record.name)
                    try FileManager.default.createDirectory(at: job.root, withIntermediateDirectories: true)
                    return job
                }
                var options = ScanExtraction.Options()
                options.decoderThreads = decoderThreads
                options.decode = mode
                return try ScanExtraction(recording: recording, jobs: scanJobs, clipsByJob: clips, gazeByJob: gaze, options: options) { _ in }.run()
            }
            let full = try extract(.all), plan = try extract(.planned)
            var report = ScanReport(scanID: recording.scanID, records: full.reduce(0) { $0 + $1.shards.reduce(0) { $0 + $1.recordCount } },
                                    planned: plan.first?.decode ?? ScanDecode(mode: .all, packetsDecoded: 0, packetsTotal: nil),
                                    fullPackets: full.first?.decode.packetsDecoded ?? 0, differences: [])
            for (k, (a, b)) in zip(full, plan).enumerated() {
                let name = jobs[mine[k]].record.name
                report.differences += Self.differences(a, b, dataset: name)
            }
            reports.append(report)
            for list in [full, plan] { for r in list { for s in r.shards { unlink(s.path) } } }
        }
        return reports
    }

    /// What differs between two extractions of one scan for one dataset.
    static func differences(_ a: ScanExtractionResult, _ b: ScanExtractionResult, dataset: String) -> [String] {
        var out: [String] = []
        if a.clips.count != b.clips.count { out.append("\(dataset): \(a.clips.count) against \(b.clips.count) clips") }
        for (x, y) in zip(a.clips, b.clips) {
            if x.clipID != y.clipID || x.frameIndices != y.frameIndices || x.frameTimes != y.frameTimes || x.stillIndex != y.stillIndex
                || x.stillTime != y.stillTime || x.rejectReason != y.rejectReason {
                out.append("\(dataset): clip \(x.clipID)'s provenance or rejection")
            }
        }
        if a.shards.count != b.shards.count { out.append("\(dataset): \(a.shards.count) against \(b.shards.count) shards") }
        for (x, y) in zip(a.shards, b.shards) {
            let name = (x.path as NSString).lastPathComponent
            guard let dx = FileManager.default.contents(atPath: x.path), let dy = FileManager.default.contents(atPath: y.path) else {
                out.append("\(dataset): shard \(name) unreadable")
                continue
            }
            if dx != dy {
                let n = min(dx.count, dy.count)
                let at = (0..<n).first { dx[$0] != dy[$0] } ?? n
                out.append("\(dataset): shard \(name) differs from byte \(at) (\(dx.count) against \(dy.count) bytes)")
            }
        }
        return out
    }
}
