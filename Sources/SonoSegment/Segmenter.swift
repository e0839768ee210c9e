import Foundation
import SonoAudio
import SonoCatalog
import SonoCore
import SonoDataset
import SonoSpectral

/// What one `sono-segment` run did.
public struct SegmentSummary: Codable, Sendable {
    public var dataset = ""
    public var version = 0
    public var recipeHash = ""
    public var scansPlanned: [String] = []
    public var scansAlreadyPlanned: [String] = []
    public var clips = 0
    public var speechSeconds = 0.0
    public var rejected: RejectCounts = [:]
    public var windowsWithPaddedAudio = 0
    public var failed: [String: String] = [:]
    public var seconds = 0.0

    public var report: String {
        var lines = ["segment \(dataset) v\(version) (recipe \(recipeHash.prefix(12))): \(clips) clips from \(scansPlanned.count) scans planned, \(scansAlreadyPlanned.count) already planned, \(failed.count) failed (\(String(format: "%.1f", seconds)) s)"]
        if !rejected.isEmpty {
            lines.append("  rejected windows: " + rejected.listing)
        }
        if windowsWithPaddedAudio > 0 { lines.append("  \(windowsWithPaddedAudio) clips reach past the end of their audio (zero-padded)") }
        lines.append(String(format: "  speech detected: %.1f s", speechSeconds))
        for (scan, why) in failed.sorted(by: { $0.key < $1.key }) { lines.append("  FAILED \(scan): \(why)") }
        return lines.joined(separator: "\n")
    }
}

/// `sono-segment`: plans a recipe's clips on every ingested scan.
///
/// The dataset version is found (or created) by the recipe's hash, so a changed recipe makes a
/// new version and never mixes clips with the old one. Each scan's plan is saved in its own
/// transaction; a rerun plans only scans not planned yet (new scans, or after a crash).
/// Speech is detected on the 16 kHz CNN14 front end (10 ms frames), whatever the dataset's
/// log-mel settings, so that detection does not change with them.
public struct Segmenter: Sendable {
    public var jobs: Int
    public var showProgress: Bool
    public static let speechFront = LogMelConfig.cnn14At16kHz

    public init(jobs: Int = 2, showProgress: Bool = true) {
        self.jobs = max(1, jobs)
        self.showProgress = showProgress
    }

    public func runStage(catalogPath: String, recipePath: String, datasetRoot: String?, arguments: [String]) throws -> SegmentSummary {
        let recipe = try DatasetRecipe.load(recipePath)
        let catalog = try Catalog(path: catalogPath)
        return try catalog.withRun(stage: "segment", arguments: arguments, isComplete: { $0.failed.isEmpty }) { runID in
            try segment(recipe: recipe, catalog: catalog, datasetRoot: datasetRoot, runID: runID)
        }
    }

    public func segment(recipe given: DatasetRecipe, catalog: Catalog, datasetRoot: String?, runID: Int64?) throws -> SegmentSummary {
        if given.isFrameDataset { return try FramePlanner(showProgress: showProgress).segment(recipe: given, catalog: catalog, datasetRoot: datasetRoot, runID: runID) }
        let recipe = given
        let started = Date()
        let dataset = try catalog.dataset(for: recipe, root: datasetRoot)
        guard let datasetID = dataset.id else { throw CatalogError(path: catalog.path, reason: "dataset without id") }
        var summary = SegmentSummary()
        summary.dataset = recipe.name
        summary.version = dataset.version
        summary.recipeHash = recipe.hash
        let planned = try catalog.plannedScans(datasetID: datasetID)
        let scans = try catalog.recordings().filter { $0.status.isUsable }
        summary.scansAlreadyPlanned = scans.map(\.scanID).filter { planned.contains($0) }
        let todo = scans.filter { !planned.contains($0.scanID) }
        let progress = ProgressReporter(label: "segment \(recipe.name)", total: todo.count, enabled: showProgress)
        // Plans are made in parallel and saved in scan order, so clip ids (which seed each
        // clip's still) do not depend on which scan finished first.
        let results = ParallelWork.map(todo, jobs: jobs, { _, recording -> (ScanPlan, ScanTimeline) in
            defer { progress.advance(note: recording.scanID) }
            let timeline = try Self.timeline(of: recording, speech: recipe.speech)
            return (ClipPlanner.plan(recipe, timeline), timeline)
        }, commitInOrder: { _, recording, planned -> (ScanPlan, Double) in
            let (plan, timeline) = planned
            let split = recipe.split(ofScan: recording.scanID)
            let clips = plan.windows.map {
                ClipRecord(datasetID: datasetID, scanID: recording.scanID, startMicros: $0.start, endMicros: $0.end,
                           speechRatio: min(1, max(0, $0.speechRatio)), split: split)
            }
            try catalog.savePlan(datasetID: datasetID, scanID: recording.scanID, clips: clips, rejected: plan.rejected,
                                 speech: timeline.speechSpans, runID: runID)
            return (plan, timeline.speech.speechSeconds)
        })
        progress.finish()
        for (recording, result) in zip(todo, results) {
            switch result {
            case .success(let (plan, speechSeconds)):
                summary.scansPlanned.append(recording.scanID)
                summary.clips += plan.windows.count
                summary.speechSeconds += speechSeconds
                summary.windowsWithPaddedAudio += plan.paddedAudio
                summary.rejected.add(plan.rejected)
            case .failure(let error as PathError):
                summary.failed[recording.scanID] = error.description
            case .failure(let error as CatalogError):
                throw error
            case .failure(let error):
                summary.failed[recording.scanID] = "\(recording.videoPath): \(error)"
            }
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Decodes a scan's audio on its video span and finds its speech.
    public static func timeline(of recording: RecordingRecord, speech config: SpeechActivityConfig) throws -> ScanTimeline {
        guard let probe = recording.probeResult, let videoEnd = probe.videoEnd else {
            throw InputError(path: recording.videoPath, reason: "no probed video span in the catalog (ingest it again)")
        }
        let start = probe.video.startTime
        let length = Int(TimeMath.sampleIndex(at: videoEnd - start, rate: speechFront.sampleRate))
        let audio = try ScanAudio(source: recording.source, origin: start, length: length, melConfig: speechFront)
        let activity = try audio.speechActivity(config)
        let audioEnd = start + TimeMath.micros(ofSample: Int64(audio.track.audioSpan?.upperBound ?? 0), rate: speechFront.sampleRate)
        return ScanTimeline(scanID: recording.scanID, videoStart: start, videoEnd: videoEnd, speech: activity, audioEnd: audioEnd)
    }
}
