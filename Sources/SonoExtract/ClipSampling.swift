import SonoCore

/// Where a clip's frames and still are taken: the rules, in one place.
///
/// Frame k of F (k = 0…F−1) targets t_k = start + ⌊(2k+1)·L / 2F⌋: the centres of F equal
/// sub-intervals of the clip [start, start + L). The frame used is the one whose presentation
/// time is nearest to t_k (ties to the earlier frame), found by time, never by an assumed rate.
/// The still targets start + ⌊u·L⌋ with u uniform in [0, 1) from SeededGenerator(seed: the
/// dataset's seed, stream: the clip id): reproducible, and independent of other clips.
public enum ClipSampling {
    public static func frameTargets(start: Microseconds, length: Microseconds, frames: Int) -> [Microseconds] {
        (0..<frames).map { k in start + (Int64(2 * k + 1) * length) / Int64(2 * frames) }
    }

    public static func stillTarget(start: Microseconds, length: Microseconds, seed: UInt64, clipID: Int64) -> Microseconds {
        var rng = SeededGenerator(seed: seed, stream: UInt64(bitPattern: clipID))
        return start + Int64(rng.nextUnit() * Double(length))
    }

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

    public static func brightness(_ video: [UInt8]) -> Double {
        video.isEmpty ? 0 : Double(video.reduce(0) { $0 + Int($1) }) / Double(video.count)
    }
}
