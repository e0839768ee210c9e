import SonoCore
import SonoDataset
import SonoSpectral

/// A scan as the planner sees it: the video's own span and where speech is.
public struct ScanTimeline: Sendable {
    public var scanID: String
    /// Presentation time of the first frame and the end of the last one (µs).
    public var videoStart: Microseconds
    public var videoEnd: Microseconds
    /// Speech intervals in samples from `videoStart` at `speech.sampleRate`.
    public var speech: SpeechActivity
    /// Where decoded audio ends (µs); windows past it hold zero padding.
    public var audioEnd: Microseconds

    public init(scanID: String, videoStart: Microseconds, videoEnd: Microseconds, speech: SpeechActivity, audioEnd: Microseconds) {
        self.scanID = scanID
        self.videoStart = videoStart
        self.videoEnd = videoEnd
        self.speech = speech
        self.audioEnd = audioEnd
    }

    /// The speech intervals in µs on the video timeline.
    public var speechSpans: [Range<Microseconds>] {
        let rate = speech.sampleRate
        return speech.intervals.map {
            (videoStart + TimeMath.micros(ofSample: $0.lowerBound, rate: rate))..<(videoStart + TimeMath.micros(ofSample: $0.upperBound, rate: rate))
        }
    }

    /// Speech ratio of [start, end) (µs on the video timeline).
    public func speechRatio(_ start: Microseconds, _ end: Microseconds) -> Double {
        let rate = speech.sampleRate
        return speech.speechRatio(TimeMath.sampleIndex(at: start - videoStart, rate: rate)..<TimeMath.sampleIndex(at: end - videoStart, rate: rate))
    }
}

/// A window kept by the planner.
public struct PlannedWindow: Hashable, Sendable {
    public var start: Microseconds
    public var end: Microseconds
    public var speechRatio: Double
}

/// What planning one scan gave: the windows, and how many were rejected for which reason.
public struct ScanPlan: Sendable {
    public var windows: [PlannedWindow] = []
    public var rejected: RejectCounts = [:]
    /// Windows that reach past the end of the audio (their audio is zero-padded).
    public var paddedAudio = 0
}

/// Plans a recipe's clips on one scan. Pure and deterministic.
///
/// Grid modes put windows at videoStart + k·stride while the whole window fits in the video's
/// span. `speech_aligned` groups consecutive utterances that fit in one clip and centres the
/// clip on them (clamped to the video span, never overlapping the previous clip); an utterance
/// longer than a clip is tiled from its start, the one case where speech must be cut.
public enum ClipPlanner {
    public static func plan(_ recipe: DatasetRecipe, _ scan: ScanTimeline) -> ScanPlan {
        var plan = ScanPlan()
        let length = recipe.clipMicros
        guard scan.videoEnd - scan.videoStart >= length else {
            plan.rejected[.scanShorterThanClip] = 1
            return plan
        }
        var candidates: [(Microseconds, Microseconds)] = []
        switch recipe.selection {
        case .none, .minSpeechRatio:
            candidates = gridWindows(recipe, videoStart: scan.videoStart, videoEnd: scan.videoEnd)
        case .speechAligned:
            let (windows, noRoom) = alignedWindows(recipe, scan)
            candidates = windows
            if noRoom > 0 { plan.rejected[.noRoom, default: 0] += noRoom }
        }
        for (start, end) in candidates {
            let ratio = scan.speechRatio(start, end)
            if recipe.selection != .none && ratio < max(recipe.minSpeechRatio, recipe.selection == .speechAligned ? 1e-9 : 0) {
                plan.rejected[.lowSpeech, default: 0] += 1
                continue
            }
            if end > scan.audioEnd { plan.paddedAudio += 1 }
            plan.windows.append(PlannedWindow(start: start, end: end, speechRatio: ratio))
        }
        return plan
    }

    /// The grid modes' candidates: windows at videoStart + k·stride while the whole window fits
    /// (those not kept were rejected for too little speech; the report draws them).
    public static func gridWindows(_ recipe: DatasetRecipe, videoStart: Microseconds, videoEnd: Microseconds) -> [(Microseconds, Microseconds)] {
        let length = recipe.clipMicros
        var out: [(Microseconds, Microseconds)] = []
        var t = videoStart
        while t + length <= videoEnd {
            out.append((t, t + length))
            t += recipe.strideMicros
        }
        return out
    }

    /// The windows, and how many utterance groups found no room (the clip would have had to
    /// overlap the previous one or run past the video's end).
    static func alignedWindows(_ recipe: DatasetRecipe, _ scan: ScanTimeline) -> ([(Microseconds, Microseconds)], Int) {
        let length = recipe.clipMicros
        let utterances = scan.speechSpans.map { ($0.lowerBound, $0.upperBound) }
        var windows: [(Microseconds, Microseconds)] = []
        var lastEnd = scan.videoStart
        var i = 0
        var noRoom = 0
        func place(_ start: Microseconds) {
            let s = max(lastEnd, min(max(start, scan.videoStart), scan.videoEnd - length))
            guard s + length <= scan.videoEnd else { noRoom += 1; return }
            windows.append((s, s + length))
            lastEnd = s + length
        }
        while i < utterances.count {
            let (groupStart, firstEnd) = utterances[i]
            if firstEnd - groupStart > length {
                // Long utterance: tile it.
                var t = max(groupStart, lastEnd)
                while t < firstEnd && t + length <= scan.videoEnd {
                    place(t)
                    t += length
                }
                i += 1
                continue
            }
            var groupEnd = firstEnd
            var j = i + 1
            while j < utterances.count, utterances[j].1 - groupStart <= length {
                groupEnd = utterances[j].1
                j += 1
            }
            place(groupStart - (length - (groupEnd - groupStart)) / 2)
            i = j
        }
        return (windows, noRoom)
    }
}
