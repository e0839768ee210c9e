import Foundation
import SonoCatalog
import SonoCore
import SonoDataset

/// Plans a labelled frame dataset (`[frames]` recipes): samples from the labelled spans of a
/// plane label set, each a 1 µs clip row with its label; the scans' folds when the recipe asks.
/// No audio is decoded. The label (and gaze) sets' content hashes enter the recipe, so new
/// labels under the same name make a new dataset version.
struct FramePlanner {
    var showProgress: Bool

    func segment(recipe given: DatasetRecipe, catalog: Catalog, datasetRoot: String?, runID: Int64?) throws -> SegmentSummary {
        let started = Date()
        guard var frames = given.frames else { preconditionFailure("not a frame recipe") }
        var recipe = given
        let labels = try catalog.latestLabelSet(named: frames.labels, kind: .planes)
        frames.labelSetHash = labels.contentHash
        recipe.frames = frames
        if var saliency = recipe.saliency {
            saliency.gazeSetHash = try catalog.latestLabelSet(named: saliency.gaze, kind: .gaze).contentHash
            recipe.saliency = saliency
        }
        let dataset = try catalog.dataset(for: recipe, root: datasetRoot)
        guard let datasetID = dataset.id, let labelSetID = labels.id else { throw CatalogError(path: catalog.path, reason: "dataset without id") }
        var summary = SegmentSummary()
        summary.dataset = recipe.name
        summary.version = dataset.version
        summary.recipeHash = recipe.hash
        let planned = try catalog.plannedScans(datasetID: datasetID)
        let scans = try catalog.recordings().filter { $0.status.isUsable }.map(\.scanID).sorted()
        summary.scansAlreadyPlanned = scans.filter { planned.contains($0) }
        var labelled: [String] = []
        for scan in scans {
            let spans = try catalog.planeSpans(labelSetID: labelSetID, scanID: scan)
            if !spans.isEmpty { labelled.append(scan) }
            guard !planned.contains(scan) else { continue }
            let split = recipe.split(ofScan: scan)
            let clips = spans.flatMap { span in
                frames.times(in: span.span).map {
                    ClipRecord(datasetID: datasetID, scanID: scan, startMicros: $0, endMicros: $0 + 1, speechRatio: 0, split: split, label: span.label)
                }
            }
            try catalog.savePlan(datasetID: datasetID, scanID: scan, clips: clips, rejected: [:], runID: runID)
            summary.scansPlanned.append(scan)
            summary.clips += clips.count
        }
        if let rule = recipe.folds { try catalog.saveFolds(datasetID: datasetID, rule.folds(of: labelled)) }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }
}
