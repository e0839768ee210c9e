/// Why a window or a clip is not in a dataset. Stored as its raw value (catalog rows, the
/// `rejected` counts of plans and extractions).
public enum RejectReason: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable, Comparable {
    // At planning (sono-segment):
    /// The video is shorter than one clip.
    case scanShorterThanClip = "scan_shorter_than_clip"
    /// An utterance group found no room (`speech_aligned`): its clip would overlap the previous
    /// one or run past the video's end.
    case noRoom = "no_room"
    /// Less speech than the recipe asks for.
    case lowSpeech = "low_speech"
    // At extraction (sono-extract), from the decoded frames:
    /// Mean gray level below `min_brightness` (probe lifted off, screen dark).
    case blankVideo = "blank_video"
    /// Consecutive frames barely differ (`min_video_activity`): a frozen image.
    case frozenVideo = "frozen_video"

    public static func < (a: RejectReason, b: RejectReason) -> Bool { a.rawValue < b.rawValue }
}

/// Counts by reason; encodes as a JSON object keyed by the raw values.
public typealias RejectCounts = [RejectReason: Int]

extension Dictionary where Key == RejectReason, Value == Int {
    /// Keyed by raw value: what the catalog stores and reports print.
    public var byName: [String: Int] { Dictionary<String, Int>(uniqueKeysWithValues: map { ($0.key.rawValue, $0.value) }) }

    public mutating func add(_ other: RejectCounts) {
        for (reason, n) in other { self[reason, default: 0] += n }
    }

    /// "low_speech 3, no_room 1", in reason order, for reports.
    public var listing: String { sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ") }
}

/// The video checks of a clip, on the frames extraction sampled (inside the crop). Both are
/// means with the largest `uiShare` of the values left out, so that a few pixels of UI the
/// crop could not exclude (a counter or a cine bar in a corner of the sector's box, changing
/// every frame, bright on a blank screen) do not decide them; the sector's speckle changes
/// everywhere and is barely affected.
public enum ClipQuality {
    /// The share of the largest values left out of each mean.
    public static let uiShare = 0.03

    /// Mean absolute difference between consecutive frames (gray levels), the largest
    /// `uiShare` of each pair's differences left out: ~0 for a frozen screen.
    public static func activity(_ video: [UInt8], frames: Int) -> Double {
        guard frames > 1 else { return .infinity }
        let n = video.count / frames
        var total = 0.0
        var histogram = [Int](repeating: 0, count: 256)
        for f in 1..<frames {
            let a = (f - 1) * n, b = f * n
            for k in 0..<256 { histogram[k] = 0 }
            for i in 0..<n { histogram[abs(Int(video[b + i]) - Int(video[a + i]))] += 1 }
            total += trimmedMean(histogram, count: n)
        }
        return total / Double(frames - 1)
    }

    /// Mean gray level, the brightest `uiShare` of the pixels left out.
    public static func brightness(_ video: [UInt8]) -> Double {
        guard !video.isEmpty else { return 0 }
        var histogram = [Int](repeating: 0, count: 256)
        for v in video { histogram[Int(v)] += 1 }
        return trimmedMean(histogram, count: video.count)
    }

    /// The mean of the smallest (1 − uiShare) of `count` values given by their histogram.
    static func trimmedMean(_ histogram: [Int], count: Int) -> Double {
        var keep = count - Int(Double(count) * uiShare)
        let kept = keep
        var sum = 0
        for (value, n) in histogram.enumerated() where keep > 0 {
            let take = min(n, keep)
            sum += take * value
            keep -= take
        }
        return kept > 0 ? Double(sum) / Double(kept) : 0
    }
}

extension DatasetRecipe {
    /// Why the recipe rejects a clip with these sampled frames, or nil to keep it.
    public func videoRejection(_ video: [UInt8]) -> RejectReason? {
        if ClipQuality.brightness(video) < minBrightness { return .blankVideo }
        if ClipQuality.activity(video, frames: framesPerClip) < minVideoActivity { return .frozenVideo }
        return nil
    }
}
