import Foundation
import SonoCatalog
import SonoCore
import SonoMedia

/// What one ingest run did, printed at the end and stored with the run.
public struct IngestSummary: Codable, Sendable {
    public struct Failure: Codable, Sendable, Equatable {
        public var scanID: String
        public var kind: String
        public var message: String
    }

    public var added: [String] = []
    public var updated: [String] = []
    public var unchanged: [String] = []
    public var failed: [Failure] = []
    /// Scans readable in part (cut short), with what was lost; their readable span is used.
    public var partial: [Failure] = []
    /// Scans whose detected crop is doubtful or missing (low confidence, no moving sector):
    /// worth a look, or a crop in the manifest.
    public var cropWarnings: [String] = []
    public var seconds: Double = 0

    public var allSucceeded: Bool { failed.isEmpty }

    /// Human-readable lines for the end of a run.
    public var report: String {
        var lines = ["ingest: \(added.count) added, \(updated.count) updated, \(unchanged.count) unchanged, \(failed.count) failed (\(String(format: "%.1f", seconds)) s)"]
        for f in failed { lines.append("  FAILED \(f.scanID): \(f.message)") }
        for p in partial { lines.append("  PARTIAL \(p.scanID): \(p.message)") }
        for w in cropWarnings { lines.append("  CROP \(w)") }
        return lines.joined(separator: "\n")
    }
}

/// Probes every recording of a manifest into the catalog.
///
/// Each scan is probed and saved on its own (a crash loses only scans in flight); unchanged
/// files (same fingerprint, same manifest row) are skipped; a file that cannot be read is saved
/// as failed with its reason and the others go on.
public struct Ingestor: Sendable {
    public var jobs: Int
    public var showProgress: Bool
    /// Detect the live sector (`SectorCrop`) when the manifest gives no crop.
    public var autoCrop: Bool

    public init(jobs: Int = 2, showProgress: Bool = true, autoCrop: Bool = true) {
        self.jobs = max(1, jobs)
        self.showProgress = showProgress
        self.autoCrop = autoCrop
    }

    public func ingest(manifest: [ManifestEntry], into catalog: Catalog, runID: Int64?) throws -> IngestSummary {
        let started = Date()
        let progress = ProgressReporter(label: "ingest", total: manifest.count, enabled: showProgress)
        let existing = try Dictionary(uniqueKeysWithValues: catalog.recordings().map { ($0.scanID, $0) })
        let results = ParallelWork.map(manifest, jobs: jobs) { _, entry in
            defer { progress.advance(note: entry.scanID) }
            return try ingestOne(entry, previous: existing[entry.scanID], catalog: catalog, runID: runID)
        }
        progress.finish()
        // A catalog write failure is fatal for the run; bad recordings are outcomes, not errors.
        let outcomes = try results.map { try $0.get() }

        var summary = IngestSummary()
        for (entry, outcome) in zip(manifest, outcomes) {
            switch outcome {
            case .added(let notes), .updated(let notes):
                if case .added = outcome { summary.added.append(entry.scanID) } else { summary.updated.append(entry.scanID) }
                if let crop = notes.crop { summary.cropWarnings.append("\(entry.scanID): \(crop)") }
                if let lost = notes.partial { summary.partial.append(.init(scanID: entry.scanID, kind: "truncated", message: lost)) }
            case .unchanged: summary.unchanged.append(entry.scanID)
            case .failed(let kind, let message):
                summary.failed.append(.init(scanID: entry.scanID, kind: kind, message: message))
            }
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// What a saved recording's summary lines say: a doubtful detected crop, what a partial one lost.
    struct Notes: Sendable { var crop: String?, partial: String? }
    enum Outcome: Sendable { case added(Notes), updated(Notes), unchanged, failed(kind: String, message: String) }

    func ingestOne(_ entry: ManifestEntry, previous: RecordingRecord?, catalog: Catalog, runID: Int64?) throws -> Outcome {
        let source = entry.source
        var videoPrint: String? = nil, audioPrint: String? = nil
        do {
            videoPrint = try FileFingerprint(path: source.videoPath).text
            if let audio = source.audioPath { audioPrint = try FileFingerprint(path: audio).text }
        } catch let error as InputError {
            let row = RecordingRecord.failed(scanID: entry.scanID, source: source, errorKind: MediaError.Kind.notFound.rawValue,
                                             error: error.description, videoFingerprint: videoPrint, audioFingerprint: audioPrint, runID: runID)
            try catalog.save(row)
            return .failed(kind: MediaError.Kind.notFound.rawValue, message: error.description)
        }
        if let previous, previous.status.isUsable, previous.manifestSource == source,
           (previous.cropSource == .auto) == (autoCrop && source.crop == nil),
           previous.videoFingerprint == videoPrint, previous.audioFingerprint == audioPrint {
            return .unchanged
        }
        do {
            let probe = try MediaProbe.probe(source)
            let detecting = autoCrop && source.crop == nil
            let detection = detecting ? try SectorCrop.detect(path: source.videoPath, threads: 1) : nil
            let row = RecordingRecord.ingested(scanID: entry.scanID, source: source, probe: probe,
                                               detectedCrop: detection.map { .init(crop: $0.crop, method: $0.method, confidence: $0.confidence, fill: $0.fill) },
                                               videoFingerprint: videoPrint ?? "", audioFingerprint: audioPrint, runID: runID)
            try catalog.save(row)
            var note: String? = nil
            if detecting, let d = detection, !d.isConfident {
                note = String(format: "detected crop %@ is doubtful (%.0f %% of the moving pixels, filling %.0f %% of it): check it, or give the crop in the manifest",
                              d.crop.description, 100 * d.confidence, 100 * d.fill)
            } else if detecting, detection == nil {
                note = "no moving sector found: whole frames are used (give the crop in the manifest to choose one)"
            }
            let notes = Notes(crop: note, partial: row.status == .partial ? row.error : nil)
            return previous == nil ? .added(notes) : .updated(notes)
        } catch let error as MediaError {
            let row = RecordingRecord.failed(scanID: entry.scanID, source: source, errorKind: error.kind.rawValue,
                                             error: error.description, videoFingerprint: videoPrint, audioFingerprint: audioPrint, runID: runID)
            try catalog.save(row)
            return .failed(kind: error.kind.rawValue, message: error.description)
        }
    }
}

extension Ingestor {
    /// The `sono-ingest` stage: loads the manifest, records the run, ingests, and closes the run
    /// as succeeded or partial. Manifest errors throw before anything is written.
    public func runStage(catalogPath: String, manifestPath: String, arguments: [String]) throws -> IngestSummary {
        let entries = try RecordingManifest.load(manifestPath)
        let catalog = try Catalog(path: catalogPath)
        return try catalog.withRun(stage: "ingest", arguments: arguments, isComplete: { $0.allSucceeded }) { runID in
            try ingest(manifest: entries, into: catalog, runID: runID)
        }
    }
}
