import Foundation
import SonoCatalog
import SonoCore
import SonoMedia
import SonoSegment
import SonoShards
import SonoSpectral

/// A dataset being extracted: its recipe, layout, and where its shards go.
struct DatasetJob: Sendable {
    var record: DatasetRecord
    var id: Int64
    var recipe: DatasetRecipe
    var layout: RecordLayout
    var root: URL
    var front: LogMelSpectrogram
}

/// Extracts every requested dataset's clips of one scan in ONE sequential decode pass.
///
/// Frames are decoded in order with one frame of lookahead, so each frame's "nearest-time
/// cell" is known; only frames whose cell holds a target are converted (once per output
/// size), and decoding stops after the last target. Audio is decoded alongside and freed as
/// clips complete, so memory stays flat in the scan's length. Each dataset's records go to
/// shards of this scan only (`<scan>-NNN.shard`); they are indexed by the caller in one
/// transaction with the clips' provenance, which is what makes a scan commit whole.
final class ScanExtraction {
    struct Options: Sendable {
        var decoderThreads = 2
        var skipLoopFilter = false
        var targetShardBytes = 256 << 20
    }

    /// A planned clip; its pixel buffers exist only between its first and last target, so
    /// memory holds the clips open at the current time, not all the scan's clips.
    private final class OpenClip {
        let clip: ClipRecord
        let clipID: Int64
        let job: Int
        let frames: Int
        let size: Int
        var video: [UInt8] = []
        var still: [UInt8] = []
        var frameIndices: [Int]
        var stillIndex = -1
        var remaining: Int
        var done = false
        init(clip: ClipRecord, job: Int, frames: Int, size: Int) {
            self.clip = clip
            clipID = clip.id ?? 0
            self.job = job
            self.frames = frames
            self.size = size
            frameIndices = [Int](repeating: -1, count: frames)
            remaining = frames + 1
        }

        func allocateIfNeeded() {
            guard video.isEmpty && !done else { return }
            video = [UInt8](repeating: 0, count: frames * size * size)
            still = [UInt8](repeating: 0, count: size * size)
        }
    }

    private struct Target: Comparable {
        var time: Microseconds
        var clip: Int
        var slot: Int  // 0..<frames: frame slot; frames: the still
        static func < (a: Target, b: Target) -> Bool { (a.time, a.clip, a.slot) < (b.time, b.clip, b.slot) }
    }

    let recording: RecordingRecord
    let jobs: [DatasetJob]
    let clipsByJob: [[ClipRecord]]
    let options: Options
    let progress: (Int) -> Void

    init(recording: RecordingRecord, jobs: [DatasetJob], clipsByJob: [[ClipRecord]], options: Options, progress: @escaping (Int) -> Void) {
        self.recording = recording
        self.jobs = jobs
        self.clipsByJob = clipsByJob
        self.options = options
        self.progress = progress
    }

    func run() throws -> [ScanExtractionResult] {
        guard let probe = recording.probeResult else {
            throw InputError(path: recording.videoPath, reason: "no probed facts in the catalog (ingest it again)")
        }
        let source = recording.source
        let videoStart = probe.video.startTime
        var sealed = [[SealedShard]](repeating: [], count: jobs.count)
        var writers: [ShardWriter] = []
        var outcomes = [[ScanExtractionResult.ClipOutcome]](repeating: [], count: jobs.count)
        var rejected = [[String: Int]](repeating: [:], count: jobs.count)
        do {
            for (j, job) in jobs.enumerated() {
                let scan = recording.scanID
                writers.append(try ShardWriter(root: job.root, datasetID: job.id, datasetName: job.record.name, layout: job.layout,
                                               targetBytes: options.targetShardBytes,
                                               name: { String(format: "%@-%03d.shard", scan, $0) },
                                               onSeal: { sealed[j].append($0) }))
            }

            // Open clips in start order, their targets in time order.
            var open: [OpenClip] = []
            var targets: [Target] = []
            for (j, job) in jobs.enumerated() {
                let r = job.recipe
                for clip in clipsByJob[j] {
                    let c = OpenClip(clip: clip, job: j, frames: r.framesPerClip, size: r.frameSize)
                    let index = open.count
                    open.append(c)
                    let length = clip.endMicros - clip.startMicros
                    for (k, t) in ClipSampling.frameTargets(start: clip.startMicros, length: length, frames: r.framesPerClip).enumerated() {
                        targets.append(Target(time: t, clip: index, slot: k))
                    }
                    let still = ClipSampling.stillTarget(start: clip.startMicros, length: length, seed: r.seed, clipID: c.clipID)
                    targets.append(Target(time: still, clip: index, slot: r.framesPerClip))
                }
            }
            targets.sort()
            let byStart = open.indices.sorted { (open[$0].clip.startMicros, $0) < (open[$1].clip.startMicros, $1) }
            var firstUnfinished = 0

            // One audio stream per sample rate the datasets need.
            var audio: [Int: AudioSampleStream] = [:]
            for job in jobs where audio[job.recipe.logMel.sampleRate] == nil {
                let decoder = try AudioDecoder(path: source.audioFile, offset: source.audioOffset, sampleRate: job.recipe.logMel.sampleRate)
                audio[job.recipe.logMel.sampleRate] = AudioSampleStream(decoder: decoder, origin: videoStart)
            }

            func finish(_ c: OpenClip) throws {
                let job = jobs[c.job]
                let r = job.recipe
                c.done = true
                var reason: String? = nil
                if ClipSampling.brightness(c.video) < r.minBrightness {
                    reason = "blank_video"
                } else if ClipSampling.activity(c.video, frames: r.framesPerClip) < r.minVideoActivity {
                    reason = "frozen_video"
                }
                if let reason {
                    rejected[c.job][reason, default: 0] += 1
                } else {
                    guard let stream = audio[r.logMel.sampleRate] else { return }
                    let first = TimeMath.sampleIndex(at: c.clip.startMicros - videoStart, rate: r.logMel.sampleRate)
                    let samples = try stream.samples(first..<(first + Int64(r.clipSamples)))
                    let mel = try job.front.compute(samples, sampleRate: r.logMel.sampleRate, source: source.audioFile)
                    try writers[c.job].append(clipID: c.clipID) { b in
                        b.setU8("video", c.video)
                        b.setU8("still", c.still)
                        b.setF16("logmel", bits: mel.float16Bits)
                    }
                }
                outcomes[c.job].append(.init(clipID: c.clipID, frameIndices: c.frameIndices, stillIndex: c.stillIndex, rejectReason: reason))
                c.video = []
                c.still = []
                // Free audio no unfinished clip needs.
                while firstUnfinished < byStart.count && open[byStart[firstUnfinished]].done { firstUnfinished += 1 }
                if firstUnfinished < byStart.count {
                    let earliest = open[byStart[firstUnfinished]].clip.startMicros
                    for (rate, stream) in audio { stream.discard(before: TimeMath.sampleIndex(at: earliest - videoStart, rate: rate)) }
                }
            }

            // The pass.
            let decoder = try VideoDecoder(path: source.videoPath, threads: options.decoderThreads, skipLoopFilter: options.skipLoopFilter)
            var next = 0
            var frames = 0
            var converted: [GrayConversion: [UInt8]] = [:]
            while next < targets.count, let cell = try decoder.nextCell() {
                frames += 1
                if frames % 256 == 0 { progress(256) }
                converted.removeAll(keepingCapacity: true)
                while next < targets.count && targets[next].time < cell.end {
                    let target = targets[next]
                    next += 1
                    let c = open[target.clip]
                    c.allocateIfNeeded()
                    let r = jobs[c.job].recipe
                    let conversion = GrayConversion(size: r.frameSize, crop: source.crop)
                    let image: [UInt8]
                    if let done = converted[conversion] {
                        image = done
                    } else {
                        var pixels = [UInt8](repeating: 0, count: r.frameSize * r.frameSize)
                        try pixels.withUnsafeMutableBufferPointer { try decoder.convertCellFrame(conversion, into: $0) }
                        converted[conversion] = pixels
                        image = pixels
                    }
                    if target.slot < r.framesPerClip {
                        let n = r.frameSize * r.frameSize
                        c.video.replaceSubrange((target.slot * n)..<((target.slot + 1) * n), with: image)
                        c.frameIndices[target.slot] = cell.timing.index
                    } else {
                        c.still = image
                        c.stillIndex = cell.timing.index
                    }
                    c.remaining -= 1
                    if c.remaining == 0 { try finish(c) }
                }
            }
            progress(frames % 256)
            if let error = decoder.stats.readError {
                throw MediaError(.truncated, path: source.videoPath, reason: "read error after frame \(decoder.stats.frames): \(error)")
            }
            if next < targets.count {
                let last = decoder.stats.frames
                throw MediaError(.truncated, path: source.videoPath,
                                 reason: "video ends after \(last) frames, before \(String(format: "%.3f", TimeMath.seconds(targets[next].time))) s where a planned clip needs a frame (file shorter than when it was ingested?)")
            }
            for w in writers { try w.finish() }
            return jobs.indices.map { j in
                ScanExtractionResult(datasetID: jobs[j].id, shards: sealed[j], clips: outcomes[j], rejected: rejected[j])
            }
        } catch {
            // Nothing of a failed scan stays on disk: its sealed shards were never indexed.
            for list in sealed { for s in list { unlink(s.path) } }
            throw error
        }
    }
}
