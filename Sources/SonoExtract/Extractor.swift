import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoShards
import SonoSpectral

/// A deterministic subset of the scans: those at positions ≡ index (mod count) in scan-id order.
public struct ScanPart: Sendable, Equatable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses "i/n" with 0 ≤ i < n.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, parts[0] >= 0, parts[0] < parts[1] else { return nil }
        self.init(index: parts[0], count: parts[1])
    }

    public func select<T>(_ items: [T], id: (T) -> String) -> [T] {
        items.sorted { id($0) < id($1) }.enumerated().filter { $0.offset % count == index }.map(\.element)
    }
}

/// What one `sono-extract` run did.
public struct ExtractSummary: Codable, Sendable {
    public struct DatasetCounts: Codable, Sendable {
        public var records = 0
        public var rejected: RejectCounts = [:]
        public var shards = 0
        public var bytes = 0
    }

    public var datasets: [String: DatasetCounts] = [:]
    public var scansExtracted: [String] = []
    public var scansAlreadyDone: [String] = []
    public var failed: [String: String] = [:]
    /// Under `--decode planned`: scans planned, and the packets decoded and in their streams.
    public var plannedScans = 0, packetsDecoded = 0, packetsTotal = 0
    /// Under `--decode planned`: scans decoded through instead, by why (`ScanDecode.fallback`).
    public var decodedThrough: [String: [String]] = [:]
    /// Scans extracted despite damage (corrupt packets, lost frames, audio gaps): what was met.
    public var damaged: [String: String] = [:]
    public var leftoversRemoved: [String] = []
    public var seconds = 0.0
    public var peakResidentMiB = 0.0

    public var report: String {
        var lines = ["extract: \(scansExtracted.count) scans extracted, \(scansAlreadyDone.count) already done, \(failed.count) failed (\(String(format: "%.1f", seconds)) s, peak RSS \(String(format: "%.0f", peakResidentMiB)) MiB)"]
        for (name, c) in datasets.sorted(by: { $0.key < $1.key }) {
            var line = "  \(name): \(c.records) records in \(c.shards) shards (\(String(format: "%.1f", Double(c.bytes) / 1_048_576)) MiB)"
            if !c.rejected.isEmpty { line += ", rejected " + c.rejected.listing }
            lines.append(line)
        }
        if plannedScans > 0 {
            lines.append(String(format: "  decode planned on %d scans: %d of %d packets decoded (%.0f %%)",
                                plannedScans, packetsDecoded, packetsTotal, 100 * Double(packetsDecoded) / Double(max(1, packetsTotal))))
        }
        for (why, scans) in decodedThrough.sorted(by: { $0.key < $1.key }) {
            let names = scans.sorted().prefix(3).joined(separator: ", ") + (scans.count > 3 ? ", …" : "")
            lines.append("  decoded through \(scans.count) scans (\(names)): \(why)")
        }
        if !leftoversRemoved.isEmpty { lines.append("  removed \(leftoversRemoved.count) leftover files of an interrupted run") }
        for (scan, what) in damaged.sorted(by: { $0.key < $1.key }) { lines.append("  DAMAGED \(scan): \(what) (recorded; the clips use the frames that decoded)") }
        for (scan, why) in failed.sorted(by: { $0.key < $1.key }) { lines.append("  FAILED \(scan): \(why)") }
        return lines.joined(separator: "\n")
    }
}

/// `sono-extract`: one decode pass per scan serves every planned clip of every requested dataset.
///
/// Resumable: a scan is committed whole (shards, record slots, clip provenance, one
/// transaction); a rerun skips committed scans, deletes what an interrupted run left (temporary
/// and unindexed shards) and redoes the rest, byte for byte as an uninterrupted run would.
public struct Extractor: Sendable {
    /// Scans in flight; nil: one per core.
    public var jobs: Int?
    /// Frame threads per scan; nil: the cores shared among the scans in flight
    /// (`defaultDecoderThreads`).
    public var decoderThreads: Int?
    public var skipLoopFilter = false
    /// `.planned`: decode only what the clips need where the stream's structure is read and no
    /// damage is met, otherwise every frame (`ScanDecode.fallback` says why); `.all`: every frame.
    public var decodeMode = ScanDecode.Mode.planned
    public var targetShardBytes = 256 << 20
    public var part: ScanPart?
    public var showProgress = true

    public init() {}

    /// The cores divided among the scans in flight, at least one thread each: N scans on N
    /// cores with one frame thread each beat one scan at a time with N (benchmarks/extract_jobs.sh,
    /// docs/media.md: 0.82× the time on 2 cores), since a scan's demuxing, conversion and audio
    /// are serial; a lone scan keeps every core as frame threads.
    public static func defaultDecoderThreads(scansInFlight: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        max(1, cores / max(1, scansInFlight))
    }

    /// With `part`, the work goes to `out` and to a copy of the catalog there
    /// (`out/catalog.part-i-of-n.sqlite`), to be joined with `merge`.
    public func runStage(catalogPath: String, datasetNames: [String], out: String?, arguments: [String]) throws -> ExtractSummary {
        var catalog = try Catalog(path: catalogPath)
        if let part {
            guard let out else { throw InputError(path: catalogPath, reason: "--part needs --out: each part writes to its own folder") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            catalog = try catalog.partCatalog(at: Self.partCatalogPath(out: out, part: part))
        }
        return try catalog.withRun(stage: "extract", arguments: arguments, isComplete: { $0.failed.isEmpty }) { runID in
            try extract(catalog: catalog, datasetNames: datasetNames, out: out, runID: runID)
        }
    }

    public static func partCatalogPath(out: String, part: ScanPart) -> String {
        URL(fileURLWithPath: out).appendingPathComponent("catalog.part-\(part.index)-of-\(part.count).sqlite").path
    }

    /// The latest version of each named dataset, with its recipe, stored layout and shard folder.
    func datasetJobs(_ catalog: Catalog, names: [String], out: String?) throws -> [DatasetJob] {
        try names.map { name in
            let record = try catalog.latestDataset(named: name)
            guard let id = record.id, let recipe = record.parsedRecipe else {
                throw InputError(path: catalog.path, reason: "dataset \(record.label) has an unreadable recipe")
            }
            guard let layout = record.layout else {
                throw InputError(path: catalog.path, reason: "dataset \(record.label) has an unreadable record layout")
            }
            let records: DatasetJob.Records
            if recipe.isFrameDataset, let shape = FrameRecordShape(layout: layout), shape == recipe.frameShape {
                records = .frames(shape)
            } else if !recipe.isFrameDataset, let shape = ClipRecordShape(layout: layout), shape == recipe.recordShape {
                records = .clips(shape)
            } else {
                throw InputError(path: catalog.path, reason: "dataset \(record.label): the stored record layout does not match its recipe")
            }
            let gazeSetID = try recipe.saliency.map { s in try catalog.labelSet(named: s.gaze, contentHash: s.gazeSetHash ?? "").id } ?? nil
            var root = catalog.rootURL(of: record)
            if let out {
                let wanted = URL(fileURLWithPath: out).appendingPathComponent(DatasetNaming.folder(name: record.name, version: record.version))
                if wanted.standardizedFileURL.path != root.standardizedFileURL.path {
                    // A part's catalog is its own: its shards always go to its folder.
                    let hasShards = try !catalog.shards(datasetID: id).isEmpty
                    guard part != nil || !hasShards else {
                        throw InputError(path: out, reason: "dataset \(record.label) already has shards in \(root.path); extract it there (--out \(root.deletingLastPathComponent().path))")
                    }
                    try catalog.setRoot(catalog.storedRoot(for: wanted), datasetID: id)
                    root = wanted
                }
            }
            return DatasetJob(record: record, id: id, recipe: recipe, layout: layout, records: records, root: root,
                              front: try LogMelSpectrogram(recipe.logMel), gazeSetID: gazeSetID)
        }
    }

    public func extract(catalog: Catalog, datasetNames: [String], out: String?, runID: Int64?) throws -> ExtractSummary {
        let started = Date()
        var summary = ExtractSummary()
        let jobsList = try datasetJobs(catalog, names: datasetNames, out: out)
        // What an interrupted run left behind goes first.
        for job in jobsList {
            summary.leftoversRemoved += try ShardStore.removeLeftovers(root: job.root, indexed: catalog.indexedShardPaths(datasetID: job.id))
        }
        var recordings = try catalog.recordings().filter { $0.status.isUsable }
        if let part { recordings = part.select(recordings) { $0.scanID } }

        // Per scan, the datasets that still need it.
        struct Work: Sendable { var recording: RecordingRecord; var jobs: [DatasetJob]; var clips: [[ClipRecord]]; var gaze: [[GazeSample]] }
        var work: [Work] = []
        let done = try jobsList.map { try catalog.extractionStatus(datasetID: $0.id) }
        let planned = try jobsList.map { try catalog.plannedScans(datasetID: $0.id) }
        for recording in recordings {
            var w = Work(recording: recording, jobs: [], clips: [], gaze: [])
            for (j, job) in jobsList.enumerated() where planned[j].contains(recording.scanID) && done[j][recording.scanID] != .extracted {
                w.jobs.append(job)
                w.clips.append(try catalog.clips(datasetID: job.id, scanID: recording.scanID))
                w.gaze.append(try job.gazeSetID.map { try catalog.gazeSamples(labelSetID: $0, scanID: recording.scanID) } ?? [])
            }
            if w.jobs.isEmpty {
                if jobsList.indices.contains(where: { planned[$0].contains(recording.scanID) }) { summary.scansAlreadyDone.append(recording.scanID) }
            } else {
                work.append(w)
            }
        }
        let totalFrames = work.reduce(0) { total, w in
            let p = w.recording.probeResult
            let fps = p?.video.averageFrameRate?.doubleValue ?? 30
            return total + Int((p?.video.frameCount).map(Double.init) ?? (Double(p?.video.duration ?? 0) / 1e6 * fps))
        }
        let progress = ProgressReporter(label: "extract", total: totalFrames, enabled: showProgress)
        let jobs = jobs ?? ProcessInfo.processInfo.activeProcessorCount
        let threads = decoderThreads ?? Self.defaultDecoderThreads(scansInFlight: min(jobs, max(1, work.count)))
        let options = ScanExtraction.Options(decoderThreads: threads, skipLoopFilter: skipLoopFilter, targetShardBytes: targetShardBytes, decode: decodeMode)
        // Scans are extracted in parallel and committed in scan order (shard and record ids
        // then do not depend on which scan finished first).
        let results = ParallelWork.map(work, jobs: jobs, { _, w -> [ScanExtractionResult] in
            let scan = ScanExtraction(recording: w.recording, jobs: w.jobs, clipsByJob: w.clips, gazeByJob: w.gaze, options: options) {
                progress.advance(by: $0, note: w.recording.scanID)
            }
            do {
                return try scan.run()
            } catch let error as PathError {
                try catalog.failExtraction(scanID: w.recording.scanID, datasetIDs: w.jobs.map(\.id), error: error.description, runID: runID)
                throw error
            }
        }, commitInOrder: { _, w, results -> [ScanExtractionResult] in
            do {
                CrashPoint.hit("extract-before-commit")
                try catalog.commitExtraction(scanID: w.recording.scanID, results: results, runID: runID)
                return results
            } catch let error as PathError {
                try catalog.failExtraction(scanID: w.recording.scanID, datasetIDs: w.jobs.map(\.id), error: error.description, runID: runID)
                throw error
            }
        })
        progress.finish()
        for (w, result) in zip(work, results) {
            switch result {
            case .success(let perDataset):
                summary.scansExtracted.append(w.recording.scanID)
                if let damage = perDataset.first?.damage, !damage.isEmpty { summary.damaged[w.recording.scanID] = damage.description }
                if let d = perDataset.first?.decode {
                    if d.mode == .planned {
                        summary.plannedScans += 1
                        summary.packetsDecoded += d.packetsDecoded
                        summary.packetsTotal += d.packetsTotal ?? d.packetsDecoded
                    } else if let why = d.fallback {
                        summary.decodedThrough[why, default: []].append(w.recording.scanID)
                    }
                }
                for (job, r) in zip(w.jobs, perDataset) {
                    var c = summary.datasets[job.record.name] ?? .init()
                    c.records += r.shards.reduce(0) { $0 + $1.recordCount }
                    c.shards += r.shards.count
                    c.bytes += r.shards.reduce(0) { $0 + $1.size }
                    c.rejected.add(r.rejected)
                    summary.datasets[job.record.name] = c
                }
            case .failure(let error as CatalogError):
                throw error
            case .failure(let error as PathError):
                summary.failed[w.recording.scanID] = error.description
            case .failure(let error):
                summary.failed[w.recording.scanID] = "\(w.recording.videoPath): \(error)"
            }
        }
        summary.seconds = Date().timeIntervalSince(started)
        summary.peakResidentMiB = Double(ResourceUsage.peakResidentBytes) / 1_048_576
        return summary
    }
}
