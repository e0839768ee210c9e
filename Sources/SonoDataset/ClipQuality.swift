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

/// The video checks of a clip, on the frames extraction sampled.
public enum ClipQuality {
    /// Mean absolute difference between consecutive frames (gray levels): ~0 for a frozen screen.
    public static func activity(_ video: [UInt8], frames: Int) -> Double {
        guard frames > 1 else { return .infinity }
        let n = video.count / frames
        var total = 0
        for f in 1..<frames {
            let a = (f - 1) * n, b = f * n
            for i in 0..<n { total += abs(Int(video[b + i]) - Int(video[a + i])) }
        }
        return Double(total) / Double(n * (frames - 1))
    }

    /// Mean gray level.
    public static func brightness(_ video: [UInt8]) -> Double {
        video.isEmpty ? 0 : Double(video.reduce(0) { $0 + Int($1) }) / Double(video.count)
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
