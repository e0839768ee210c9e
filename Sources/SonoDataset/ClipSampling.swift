import SonoCore

/// Where a clip's frames, still and audio are taken: the rules, in one place.
///
/// Frame k of F (k = 0…F−1) targets t_k = start + ⌊(2k+1)·L / 2F⌋: the centres of F equal
/// sub-intervals of the clip [start, start + L). The frame used is the one whose presentation
/// time is nearest to t_k (ties to the earlier frame), found by time, never by an assumed rate.
/// The still targets start + ⌊u·L⌋ with u uniform in [0, 1) from SeededGenerator(seed: the
/// dataset's seed, stream: the clip id): reproducible, and independent of other clips.
/// The audio is the `clipSamples` samples from the clip's start on the video timeline.
public enum ClipSampling {
    public static func frameTargets(start: Microseconds, length: Microseconds, frames: Int) -> [Microseconds] {
        (0..<frames).map { k in start + (Int64(2 * k + 1) * length) / Int64(2 * frames) }
    }

    public static func stillTarget(start: Microseconds, length: Microseconds, seed: UInt64, clipID: Int64) -> Microseconds {
        var rng = SeededGenerator(seed: seed, stream: UInt64(bitPattern: clipID))
        return start + Int64(rng.nextUnit() * Double(length))
    }
}

extension DatasetRecipe {
    /// The frame targets of a clip starting at `start` (the clip's length is the recipe's).
    public func frameTargets(clipStart start: Microseconds) -> [Microseconds] {
        ClipSampling.frameTargets(start: start, length: clipMicros, frames: framesPerClip)
    }

    /// The still's target of clip `clipID` starting at `start`.
    public func stillTarget(clipStart start: Microseconds, clipID: Int64) -> Microseconds {
        ClipSampling.stillTarget(start: start, length: clipMicros, seed: seed, clipID: clipID)
    }

    /// The clip's audio at the log-mel rate, in samples from `videoStart`.
    public func audioSamples(clipStart start: Microseconds, videoStart: Microseconds) -> Range<Int64> {
        let first = TimeMath.sampleIndex(at: start - videoStart, rate: logMel.sampleRate)
        return first..<(first + Int64(clipSamples))
    }
}
