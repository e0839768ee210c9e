import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoMedia
import SonoShards
import SonoSpectral

/// A dataset being extracted: its recipe (the sampling rules), the record shapes stored in the
/// catalog (the one truth of what a record holds), and where its shards go.
struct DatasetJob: Sendable {
    /// What a record holds: a clip (frames, still, log-mel) or a labelled frame.
    enum Records: Sendable {
        case clips(ClipRecordShape)
        case frames(FrameRecordShape)
    }

    var record: DatasetRecord
    var id: Int64
    var recipe: DatasetRecipe
    var layout: RecordLayout
    var records: Records
    var root: URL
    var front: LogMelSpectrogram
    /// The gaze label set of a saliency dataset.
    var gazeSetID: Int64?

    /// Sampled frames per record (for a frame dataset those of its clip, 0 without one: only the
    /// still, its frame) and their side.
    var frames: Int {
        switch records {
        case .clips(let s): return s.frames
        case .frames(let s): return s.clipFrames ?? 0
        }
    }
    /// Whether records hold audio (clip datasets; a frame's clip is video only).
    var hasAudio: Bool { if case .clips = records { return true } else { return false } }
    var size: Int {
        switch records {
        case .clips(let s): return s.size
        case .frames(let s): return s.size
        }
    }
}

/// Extracts every requested dataset's clips of one scan in ONE sequential decode pass.
///
/// The steps, in order (`run`):
/// 1. **targets**: every clip's frame and still times, sorted (`ClipSampling`'s rules);
/// 2. **decode and collect**: frames are decoded in order with one frame of lookahead, so each
///    frame's "nearest-time cell" is known; only frames whose cell holds a target are converted
///    (once per output size), and decoding stops after the last target;
/// 3. **audio**: when a clip has all its frames, its audio is cut from a stream decoded
///    alongside, and samples no open clip needs are freed, so memory stays flat in the scan's
///    length;
/// 4. **checks**: the recipe's video checks (blank, frozen) on the sampled frames;
/// 5. **write**: the record goes to a shard of this scan only (`<scan>-NNN.shard`).
/// The shards are indexed by the caller in one transaction with the clips' provenance, which is
/// what makes a scan commit whole; on any error nothing of the scan stays on disk.
final class ScanExtraction {
    struct Options: Sendable {
        var decoderThreads = 2
        var skipLoopFilter = false
        var targetShardBytes = 256 << 20
        /// Decode only the packets the clips need (`DecodePlan`), where the stream allows it.
        var decode = ScanDecode.Mode.planned
    }

    let recording: RecordingRecord
    let jobs: [DatasetJob]
    let clipsByJob: [[ClipRecord]]
    /// The scan's gaze samples for each saliency job (empty otherwise).
    let gazeByJob: [[GazeSample]]
    let options: Options
    let progress: (Int) -> Void

    init(recording: RecordingRecord, jobs: [DatasetJob], clipsByJob: [[ClipRecord]], gazeByJob: [[GazeSample]], options: Options,
         progress: @escaping (Int) -> Void) {
        self.recording = recording
        self.jobs = jobs
        self.clipsByJob = clipsByJob
        self.gazeByJob = gazeByJob
        self.options = options
        self.progress = progress
    }

    func run() throws -> [ScanExtractionResult] {
        guard let probe = recording.probeResult else {
            throw InputError(path: recording.videoPath, reason: "no probed facts in the catalog (ingest it again)")
        }
        var fallback: String?
        if options.decode == .planned {
            switch try pass(probe, planned: true) {
            case .done(let results): return results
            case .decodeThrough(let why): fallback = why
            }
        }
        guard case .done(var results) = try pass(probe, planned: false) else { preconditionFailure("a full pass always ends") }
        for k in results.indices { results[k].decode.fallback = fallback }
        return results
    }

    /// How one pass over the scan ended.
    private enum PassEnd {
        case done([ScanExtractionResult])
        /// The planned pass gave up (the stream's structure not read, or damage met): nothing of
        /// it is kept, and the scan is decoded through, for this reason.
        case decodeThrough(String)
    }

    /// Steps 1–5 with fresh clips and writers: a planned pass that gives up leaves nothing.
    private func pass(_ probe: ProbeResult, planned: Bool) throws -> PassEnd {
        let output = ScanOutput(jobs: jobs)
        do {
            try output.openWriters(scanID: recording.scanID, targetBytes: options.targetShardBytes)
            let targets = TargetList(jobs: jobs, clipsByJob: clipsByJob, videoStart: probe.video.startTime, videoEnd: probe.videoEnd)
            let audio = try ClipAudio(jobs: jobs, source: recording.source, videoStart: probe.video.startTime)
            let region = recording.source.crop ?? CropRect(x: 0, y: 0, width: probe.video.displayWidth, height: probe.video.displayHeight)
            func finish(_ clip: OpenClip) throws {
                let job = jobs[clip.job]
                var reason: RejectReason? = nil
                switch job.records {
                case .clips:
                    reason = job.recipe.videoRejection(clip.video)
                    if reason == nil { try output.write(clip, logMel: try audio.logMel(of: clip, job: job)) }
                case .frames(let shape):
                    try output.writeFrame(clip, job: job, maps: shape.mapSize.map { size in
                        saliencyTarget(clip, job: job, region: region, mapSize: size)
                    })
                }
                output.record(clip, rejectedFor: reason)
                clip.release()
                audio.discard(before: targets.earliestUnfinishedStart())
            }
            let decoded: (ScanDamage, ScanDecode)
            if planned {
                switch try decodePlanned(targets, probe: probe, audio: audio, complete: finish) {
                case .decoded(let damage, let decode): decoded = (damage, decode)
                case .decodeThrough(let why):
                    output.discard()
                    return .decodeThrough(why)
                }
            } else {
                decoded = try decodeAndCollect(targets, audio: audio, complete: finish)
            }
            return .done(try output.finish(damage: decoded.0, decode: decoded.1))
        } catch {
            output.discard()
            throw error
        }
    }

    /// The gaze map of a frame sample: the gaze within the recipe's window around its time.
    private func saliencyTarget(_ clip: OpenClip, job: DatasetJob, region: CropRect, mapSize: Int) -> GazeMap {
        guard let saliency = job.recipe.saliency else { preconditionFailure("a gaze map without [saliency]") }
        let t = clip.clip.startMicros, half = saliency.windowMicros / 2
        let points = gazeByJob[clip.job].filter { abs($0.time - t) <= half }.map { (x: $0.x, y: $0.y) }
        return GazeMap(points: points, region: region, mapSize: mapSize, sigmaPixels: saliency.sigmaPixels)
    }

    /// The video has fewer frames than the plan (made from the ingest-time probe) needs.
    private func endsBefore(_ target: Microseconds, frames: Int) -> MediaError {
        MediaError(.truncated, path: recording.source.videoPath,
                   reason: "video ends after \(frames) frames, before \(String(format: "%.3f", TimeMath.seconds(target))) s where a planned clip needs a frame (file shorter than when it was ingested?)")
    }

    /// What the planned pass did, or why the scan must be decoded through.
    private enum PlannedEnd {
        case decoded(ScanDamage, ScanDecode)
        case decodeThrough(String)
    }

    /// Step 2 with a decode plan: every target's frame resolved from the packets' timestamps
    /// (the full pass's choice, `FrameCell.resolve`), then only the packets those frames need
    /// decoded; each frame fills its targets in presentation order, as the full pass does.
    ///
    /// The plan is only as good as the stream's structure, so it is checked, not assumed: a
    /// stream it cannot read (`DecodePlan.Unplannable`), duplicate timestamps, or any damage the
    /// decoder meets on the way (a rejected packet, a concealed frame, a needed frame that does
    /// not come out) ends the pass with `.decodeThrough`, and the caller decodes everything.
    private func decodePlanned(_ targets: TargetList, probe: ProbeResult, audio: ClipAudio, complete: (OpenClip) throws -> Void) throws -> PlannedEnd {
        let source = recording.source
        let packets: [PacketInfo]
        do { packets = try DecodePlan.packets(path: source.videoPath) } catch let why as DecodePlan.Unplannable { return .decodeThrough("\(why)") }
        let broken = packets.filter { !$0.isIntact }.count
        guard broken == 0 else { return .decodeThrough("damage met: \(broken) packets whose structure does not read as whole") }
        let frames = packets.map(\.pts).sorted()
        guard Set(frames).count == frames.count else { return .decodeThrough("packet timestamps repeat") }
        let resolved = FrameCell.resolve(targets.targets.map(\.time), frames: frames, nominal: probe.video.nominalFrameDuration)
        var byFrame: [Microseconds: [Int]] = [:]
        for (k, r) in resolved.enumerated() {
            guard let r else { throw endsBefore(targets.targets[k].time, frames: frames.count) }
            byFrame[frames[r], default: []].append(k)
        }
        let index = Dictionary(uniqueKeysWithValues: frames.enumerated().map { ($0.element, $0.offset) })
        let plan = DecodePlan(packets: packets, needed: Set(byFrame.keys))
        let decoder = try VideoDecoder(path: source.videoPath, threads: options.decoderThreads, skipLoopFilter: options.skipLoopFilter, plan: plan)
        var left = byFrame.count
        var converted: [GrayConversion: [UInt8]] = [:]
        func damageMet() -> String? {
            let s = decoder.stats
            if s.corruptPackets > 0 { return "damage met: \(s.corruptPackets) packets rejected by the decoder" }
            if s.concealedFrames > 0 { return "damage met: \(s.concealedFrames) frames decoded with errors concealed" }
            return nil
        }
        while left > 0, let frame = try decoder.nextFrame() {
            if let why = damageMet() { return .decodeThrough(why) }
            guard let list = byFrame[frame.pts] else { continue }
            left -= 1
            progress(1)
            converted.removeAll(keepingCapacity: true)
            for k in list {
                let target = targets.targets[k]
                let clip = targets.clips[target.clip]
                clip.allocateIfNeeded()
                let conversion = GrayConversion(size: clip.size, crop: source.crop)
                if converted[conversion] == nil {
                    var pixels = [UInt8](repeating: 0, count: clip.frameBytes)
                    try pixels.withUnsafeMutableBufferPointer { try decoder.convertCurrentFrame(conversion, into: $0) }
                    converted[conversion] = pixels
                }
                clip.place(converted[conversion] ?? [], slot: target.slot, frame: FrameTiming(index: index[frame.pts] ?? frame.index, pts: frame.pts))
                if clip.remaining == 0 { try complete(clip) }
            }
        }
        if let why = damageMet() { return .decodeThrough(why) }
        if let error = decoder.stats.readError {
            throw MediaError(.truncated, path: source.videoPath, reason: "read error after frame \(decoder.stats.frames): \(error)")
        }
        guard left == 0 else { return .decodeThrough("damage met: \(left) needed frames did not come out of the planned decode") }
        var damage = ScanDamage()
        damage.missingTimestamps = decoder.stats.missingTimestamps
        let a = audio.stats
        damage.audioCorruptPackets = a.corruptPackets
        damage.audioGaps = a.gapsFilled
        return .decoded(damage, ScanDecode(mode: .planned, packetsDecoded: decoder.packetsSent, packetsTotal: packets.count))
    }

    /// Step 2: the one pass over the video, filling each clip's frames and still; `complete`
    /// runs as soon as a clip has them all. Returns what decoding met (video and, for the
    /// clips' audio, audio damage) and the packets it decoded.
    private func decodeAndCollect(_ targets: TargetList, audio: ClipAudio, complete: (OpenClip) throws -> Void) throws -> (ScanDamage, ScanDecode) {
        let source = recording.source
        let decoder = try VideoDecoder(path: source.videoPath, threads: options.decoderThreads, skipLoopFilter: options.skipLoopFilter)
        var next = 0
        var frames = 0
        var converted: [GrayConversion: [UInt8]] = [:]
        while next < targets.targets.count, let cell = try decoder.nextCell() {
            frames += 1
            if frames % 256 == 0 { progress(256) }
            converted.removeAll(keepingCapacity: true)
            while next < targets.targets.count && targets.targets[next].time < cell.end {
                let target = targets.targets[next]
                next += 1
                let clip = targets.clips[target.clip]
                clip.allocateIfNeeded()
                let conversion = GrayConversion(size: clip.size, crop: source.crop)
                let image: [UInt8]
                if let done = converted[conversion] {
                    image = done
                } else {
                    var pixels = [UInt8](repeating: 0, count: clip.frameBytes)
                    try pixels.withUnsafeMutableBufferPointer { try decoder.convertCellFrame(conversion, into: $0) }
                    converted[conversion] = pixels
                    image = pixels
                }
                clip.place(image, slot: target.slot, frame: cell.timing)
                if clip.remaining == 0 { try complete(clip) }
            }
        }
        progress(frames % 256)
        if let error = decoder.stats.readError {
            throw MediaError(.truncated, path: source.videoPath, reason: "read error after frame \(decoder.stats.frames): \(error)")
        }
        if next < targets.targets.count { throw endsBefore(targets.targets[next].time, frames: decoder.stats.frames) }
        var damage = ScanDamage()
        let v = decoder.stats
        damage.videoCorruptPackets = v.corruptPackets
        damage.timestampGaps = v.timestampGaps
        damage.framesLost = v.framesLost
        if !v.damagedSpans.isEmpty { damage.videoSpans = v.damagedSpans }
        damage.missingTimestamps = v.missingTimestamps
        let a = audio.stats
        damage.audioCorruptPackets = a.corruptPackets
        damage.audioGaps = a.gapsFilled
        return (damage, ScanDecode(mode: .all, packetsDecoded: decoder.packetsSent, packetsTotal: nil))
    }
}

/// A planned clip being filled; its pixel buffers exist only between its first and last
/// target, so memory holds the clips open at the current time, not all the scan's clips.
private final class OpenClip {
    let clip: ClipRecord
    let clipID: Int64
    let job: Int
    /// Sampled frames (0: the still only) and their side.
    let frames: Int, size: Int
    var video: [UInt8] = []
    var still: [UInt8] = []
    var frameIndices: [Int]
    var stillIndex = -1
    var frameTimes: [Microseconds]
    var stillTime: Microseconds = 0
    /// Targets still to fill: the frames and the still.
    var remaining: Int
    var done = false

    init(clip: ClipRecord, job: Int, frames: Int, size: Int) {
        self.clip = clip
        clipID = clip.id ?? 0
        self.job = job
        self.frames = frames
        self.size = size
        frameIndices = [Int](repeating: -1, count: frames)
        frameTimes = [Microseconds](repeating: 0, count: frames)
        remaining = frames + 1
    }

    var frameBytes: Int { size * size }

    func allocateIfNeeded() {
        guard still.isEmpty && !done else { return }
        video = [UInt8](repeating: 0, count: frames * frameBytes)
        still = [UInt8](repeating: 0, count: frameBytes)
    }

    /// Puts a converted frame in frame slot `slot` (0..<frames) or, at `slot == frames`, as the still.
    func place(_ image: [UInt8], slot: Int, frame: FrameTiming) {
        if slot < frames {
            let n = frameBytes
            video.replaceSubrange((slot * n)..<((slot + 1) * n), with: image)
            frameIndices[slot] = frame.index
            frameTimes[slot] = frame.pts
        } else {
            still = image
            stillIndex = frame.index
            stillTime = frame.pts
        }
        remaining -= 1
    }

    /// Frees the pixels once the record is written (or the clip rejected).
    func release() {
        done = true
        video = []
        still = []
    }
}

/// Step 1: every clip of every dataset with its targets in time order.
private final class TargetList {
    struct Target: Comparable {
        var time: Microseconds
        var clip: Int
        /// 0..<frames: a frame slot; frames: the still.
        var slot: Int
        static func < (a: Target, b: Target) -> Bool { (a.time, a.clip, a.slot) < (b.time, b.clip, b.slot) }
    }

    private(set) var clips: [OpenClip] = []
    private(set) var targets: [Target] = []
    /// Clip indices by start time: the audio before the first unfinished one can go.
    private let byStart: [Int]
    private var firstUnfinished = 0

    /// `videoStart`, `videoEnd`: the video's span, inside which a labelled frame's clip is kept.
    init(jobs: [DatasetJob], clipsByJob: [[ClipRecord]], videoStart: Microseconds, videoEnd: Microseconds?) {
        for (j, job) in jobs.enumerated() {
            let recipe = job.recipe
            for clip in clipsByJob[j] {
                let open = OpenClip(clip: clip, job: j, frames: job.frames, size: job.size)
                let index = clips.count
                clips.append(open)
                let frameTimes = recipe.frames?.clip.map { $0.frameTargets(around: clip.startMicros, videoStart: videoStart, videoEnd: videoEnd) }
                    ?? recipe.frameTargets(clipStart: clip.startMicros)
                for (k, t) in frameTimes.enumerated() where k < job.frames {
                    targets.append(Target(time: t, clip: index, slot: k))
                }
                targets.append(Target(time: recipe.stillTarget(clipStart: clip.startMicros, clipID: open.clipID), clip: index, slot: job.frames))
            }
        }
        targets.sort()
        let clips = self.clips
        byStart = clips.indices.sorted { (clips[$0].clip.startMicros, $0) < (clips[$1].clip.startMicros, $1) }
    }

    /// Start of the earliest clip not yet finished (nil when all are).
    func earliestUnfinishedStart() -> Microseconds? {
        while firstUnfinished < byStart.count && clips[byStart[firstUnfinished]].done { firstUnfinished += 1 }
        return firstUnfinished < byStart.count ? clips[byStart[firstUnfinished]].clip.startMicros : nil
    }
}

/// Step 3: one audio stream per sample rate the datasets need, decoded alongside the video.
private final class ClipAudio {
    private var streams: [Int: AudioSampleStream] = [:]
    private let source: RecordingSource
    private let videoStart: Microseconds

    init(jobs: [DatasetJob], source: RecordingSource, videoStart: Microseconds) throws {
        self.source = source
        self.videoStart = videoStart
        for job in jobs where job.hasAudio && streams[job.recipe.logMel.sampleRate] == nil {
            let rate = job.recipe.logMel.sampleRate
            let decoder = try AudioDecoder(path: source.audioFile, offset: source.audioOffset, sampleRate: rate)
            streams[rate] = AudioSampleStream(decoder: decoder, origin: videoStart)
        }
    }

    /// The log-mel of the clip's audio, as the dataset's recipe cuts it.
    func logMel(of clip: OpenClip, job: DatasetJob) throws -> LogMel {
        let recipe = job.recipe
        guard let stream = streams[recipe.logMel.sampleRate] else {
            preconditionFailure("no audio stream at \(recipe.logMel.sampleRate) Hz")
        }
        let samples = try stream.samples(recipe.audioSamples(clipStart: clip.clip.startMicros, videoStart: videoStart))
        return try job.front.compute(samples, sampleRate: recipe.logMel.sampleRate, source: source.audioFile)
    }

    /// The audio streams' damage so far, summed: corrupt packets and zero-filled gaps.
    var stats: (corruptPackets: Int, gapsFilled: Int) {
        streams.values.reduce((0, 0)) { ($0.0 + $1.stats.corruptPackets, $0.1 + $1.stats.gapsFilled) }
    }

    /// Frees decoded audio before `start` (µs on the video timeline): no open clip needs it.
    func discard(before start: Microseconds?) {
        guard let start else { return }
        for (rate, stream) in streams { stream.discard(before: TimeMath.sampleIndex(at: start - videoStart, rate: rate)) }
    }
}

/// Step 5: each dataset's shard writer for this scan, and what it sealed and decided.
private final class ScanOutput {
    private let jobs: [DatasetJob]
    private var writers: [ShardWriter] = []
    private var sealed: [[SealedShard]]
    private var outcomes: [[ScanExtractionResult.ClipOutcome]]
    private var rejected: [RejectCounts]

    init(jobs: [DatasetJob]) {
        self.jobs = jobs
        sealed = Array(repeating: [], count: jobs.count)
        outcomes = Array(repeating: [], count: jobs.count)
        rejected = Array(repeating: [:], count: jobs.count)
    }

    func openWriters(scanID: String, targetBytes: Int) throws {
        for (j, job) in jobs.enumerated() {
            writers.append(try ShardWriter(root: job.root, datasetID: job.id, datasetName: job.record.name, layout: job.layout,
                                           targetBytes: targetBytes,
                                           name: { String(format: "%@-%03d.shard", scanID, $0) },
                                           onSeal: { [unowned self] in self.sealed[j].append($0) }))
        }
    }

    func write(_ clip: OpenClip, logMel: LogMel) throws {
        try writers[clip.job].append(clipID: clip.clipID) { b in
            b.setU8(.video, clip.video)
            b.setU8(.still, clip.still)
            b.setF16(.logmel, bits: logMel.float16Bits)
        }
    }

    /// A labelled frame: the frame (the still), its class index and, for saliency, the maps.
    func writeFrame(_ clip: OpenClip, job: DatasetJob, maps: GazeMap?) throws {
        guard let frames = job.recipe.frames, let label = clip.clip.label, let index = try? frames.classes.index(of: label) else {
            throw InputError(path: job.record.name, reason: "clip \(clip.clipID) has no known label")
        }
        try writers[clip.job].append(clipID: clip.clipID) { b in
            b.setU8(FrameField.frame.rawValue, clip.still)
            b.setI64(FrameField.label.rawValue, [Int64(index)])
            if clip.frames > 0 { b.setU8(.video, clip.video) }
            if let maps {
                b.setF32(FrameField.gazeMap.rawValue, maps.density)
                b.setU8(FrameField.fixations.rawValue, maps.fixations)
            }
        }
    }

    /// The clip's provenance (frames used, still) and, if rejected, why.
    func record(_ clip: OpenClip, rejectedFor reason: RejectReason?) {
        if let reason { rejected[clip.job][reason, default: 0] += 1 }
        outcomes[clip.job].append(.init(clipID: clip.clipID, frameIndices: clip.frameIndices, stillIndex: clip.stillIndex,
                                        frameTimes: clip.frameTimes, stillTime: clip.stillTime, rejectReason: reason))
    }

    /// Seals the last shards; the results, for the caller's one commit transaction.
    func finish(damage: ScanDamage, decode: ScanDecode) throws -> [ScanExtractionResult] {
        for w in writers { try w.finish() }
        return jobs.indices.map { j in
            ScanExtractionResult(datasetID: jobs[j].id, shards: sealed[j], clips: outcomes[j], rejected: rejected[j], damage: damage, decode: decode)
        }
    }

    /// Nothing of a failed pass stays on disk: its sealed shards were never indexed, and the
    /// writers let go of their unsealed ones (a pass that follows reuses the names).
    func discard() {
        writers.removeAll()
        for list in sealed { for s in list { unlink(s.path) } }
    }
}
