import SonoCore
import SonoShards

/// A labelled frame dataset (standard planes, saliency): single frames sampled from the
/// labelled spans of a label set, instead of clips. Present in a recipe as `[frames]`.
///
/// In each labelled span [s, e) the samples are at s + (k + ½)/rate (k = 0, 1, …) while inside
/// the span; a span with more than `maxPerSpan` of them keeps `maxPerSpan`, evenly spread. A
/// frame is the one nearest its time (as for clips), with the crop, size and gray rule of
/// pretraining stills. Each sample is stored as a clip row of span [t, t + 1 µs) with its label.
public struct FrameSampling: Codable, Hashable, Sendable {
    /// The label set (kind planes) whose spans are sampled.
    public var labels: String
    public var rateHz: Double = 1
    public var maxPerSpan = 10
    /// The class list the labels use.
    public var classes: ClassList = .paper
    /// The label set's content hash, filled in at segmentation: new labels make a new version.
    public var labelSetHash: String?
    /// A clip around each frame as well, for the video encoder (nil: the frame alone). Left
    /// out of the canonical JSON when nil, so recipes without it keep their hashes.
    public var clip: FrameClip?

    public init(labels: String) { self.labels = labels }

    /// The sample times of one labelled span. A 1 µs span is a single labelled frame (a
    /// frame-index label): its one sample is that frame's time.
    public func times(in span: Range<Microseconds>) -> [Microseconds] {
        if span.count == 1 { return [span.lowerBound] }
        let step = 1e6 / rateHz
        var times: [Microseconds] = []
        var k = 0.0
        while true {
            let t = span.lowerBound + Microseconds(((k + 0.5) * step).rounded())
            guard t < span.upperBound else { break }
            times.append(t)
            k += 1
        }
        guard times.count > maxPerSpan, maxPerSpan > 0 else { return times }
        return (0..<maxPerSpan).map { times[($0 * 2 + 1) * times.count / (2 * maxPerSpan)] }
    }
}

/// The clip stored with each labelled frame: `frames` frames over `lengthMicros` centred on the
/// frame's time (`ClipSampling`'s frame rule), moved inside the video where the frame lies
/// closer than half a clip to an end, so that every clip is whole. `[frames] clip_s`, `clip_frames`.
public struct FrameClip: Codable, Hashable, Sendable {
    public var lengthMicros: Microseconds
    public var frames: Int

    public init(lengthMicros: Microseconds, frames: Int = 14) {
        self.lengthMicros = lengthMicros
        self.frames = frames
    }

    /// Where the clip around a frame at `time` starts, for a video spanning `videoStart..<videoEnd`
    /// (end nil: unknown, the clip is only kept after the start).
    public func start(around time: Microseconds, videoStart: Microseconds, videoEnd: Microseconds?) -> Microseconds {
        var start = time - lengthMicros / 2
        if let videoEnd { start = min(start, videoEnd - lengthMicros) }
        return max(start, videoStart)
    }

    /// The frame targets of the clip around `time`.
    public func frameTargets(around time: Microseconds, videoStart: Microseconds, videoEnd: Microseconds?) -> [Microseconds] {
        ClipSampling.frameTargets(start: start(around: time, videoStart: videoStart, videoEnd: videoEnd), length: lengthMicros, frames: frames)
    }
}

/// Saliency targets for a frame dataset: the gaze of a label set (kind gaze) within a window
/// around each frame, as a Gaussian-blurred, sum-normalised map and a binary fixation map, at
/// `mapSize`² over the frame's crop. Present in a recipe as `[saliency]`.
public struct SaliencyMaps: Codable, Hashable, Sendable {
    public var gaze: String
    /// Gaze samples within ± window/2 of the frame's time count.
    public var windowMicros: Microseconds = 500_000
    /// Blur σ in pixels of the displayed frame.
    public var sigmaPixels: Double = 20
    public var mapSize = 64
    /// The gaze set's content hash, filled in at segmentation.
    public var gazeSetHash: String?

    public init(gaze: String) { self.gaze = gaze }
}

/// k folds by scan, seeded: the folds of a labelled dataset's cross-validation.
public struct FoldRule: Codable, Hashable, Sendable {
    public var k = 5
    public var seed: UInt64 = 0

    public init(k: Int = 5, seed: UInt64 = 0) {
        self.k = k
        self.seed = seed
    }

    /// Each scan's fold: scans in seeded-hash order dealt round-robin, so folds differ in size
    /// by at most one scan and a scan is in exactly one fold.
    public func folds(of scans: [String]) -> [String: Int] {
        func key(_ scan: String) -> UInt64 {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in scan.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            var g = SeededGenerator(seed: seed, stream: h)
            return g.next()
        }
        let ordered = Set(scans).sorted { (key($0), $0) < (key($1), $1) }
        return Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($0.element, $0.offset % max(1, k)) })
    }
}

/// The fields of a frame record, beside `clip_id`: the frame, its class index, and for saliency
/// datasets the gaze map and the fixation map.
public enum FrameField: String, CaseIterable, Sendable {
    /// u8 [size, size]
    case frame
    /// i64 [1]: index in the dataset's class list.
    case label
    /// f32 [m, m]: blurred gaze, summing to 1 (all zeros when no gaze fell in the window).
    case gazeMap = "gaze_map"
    /// u8 [m, m]: 1 where a gaze sample fell.
    case fixations
}

/// The shapes of a frame record.
public struct FrameRecordShape: Hashable, Sendable {
    public var size: Int
    /// Gaze and fixation maps' side; nil without saliency.
    public var mapSize: Int?
    /// Frames of the clip around the frame (`ClipField.video`, u8 [n, size, size]); nil: none stored.
    public var clipFrames: Int?

    public init(size: Int, mapSize: Int? = nil, clipFrames: Int? = nil) {
        self.size = size
        self.mapSize = mapSize
        self.clipFrames = clipFrames
    }

    public var layout: RecordLayout {
        var fields: [(String, FieldType, [Int])] = [
            (RecordLayout.clipIDFieldName, .i64, [1]), (FrameField.frame.rawValue, .u8, [size, size]), (FrameField.label.rawValue, .i64, [1]),
        ]
        if let m = mapSize { fields += [(FrameField.gazeMap.rawValue, .f32, [m, m]), (FrameField.fixations.rawValue, .u8, [m, m])] }
        if let n = clipFrames { fields.append((ClipField.video.rawValue, .u8, [n, size, size])) }
        return RecordLayout(fields)
    }

    public init?(layout: RecordLayout) {
        guard let frame = layout.field(FrameField.frame.rawValue), frame.type == .u8, frame.shape.count == 2,
              layout.field(FrameField.label.rawValue) != nil else { return nil }
        self.init(size: frame.shape[0], mapSize: layout.field(FrameField.gazeMap.rawValue)?.shape.first,
                  clipFrames: layout.field(ClipField.video.rawValue)?.shape.first)
        guard self.layout == layout else { return nil }
    }
}

extension DatasetRecipe {
    /// Whether the recipe makes single labelled frames rather than clips.
    public var isFrameDataset: Bool { frames != nil }

    public var frameShape: FrameRecordShape { FrameRecordShape(size: frameSize, mapSize: saliency?.mapSize, clipFrames: frames?.clip?.frames) }

    /// The layout of this recipe's records.
    public var recordLayout: RecordLayout { isFrameDataset ? frameShape.layout : recordShape.layout }
}

extension FrameSampling {
    /// This sampling with the settings of `earlier` (keys read before `labels`) kept.
    func merged(_ earlier: FrameSampling?) -> FrameSampling {
        guard let earlier else { return self }
        var m = earlier
        m.labels = labels
        return m
    }
}

extension SaliencyMaps {
    func merged(_ earlier: SaliencyMaps?) -> SaliencyMaps {
        guard let earlier else { return self }
        var m = earlier
        m.gaze = gaze
        return m
    }
}
