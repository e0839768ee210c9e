import SonoCore

/// One full decode pass over a recording: what came out, for `sono-inspect decode` and the
/// demo. It checks a recording end to end the way the extractor will read it.
public struct RecordingSummary: Sendable, Codable {
    public var frames: Int
    public var firstPTS: Microseconds?
    public var lastPTS: Microseconds?
    /// Mean gray level of all converted frames (0…255).
    public var meanGray: Double
    public var audioSeconds: Double
    public var audioRMS: Double
    public var audioPaddedAtEnd: Bool
    public var video: DecodeStats
    public var audio: AudioDecodeStats
    public var decodeSeconds: Double

    /// Frames per second of presentation time (frames ÷ span), nil with fewer than 2 frames.
    public var measuredFrameRate: Double? {
        guard let a = firstPTS, let b = lastPTS, frames > 1, b > a else { return nil }
        return Double(frames - 1) / TimeMath.seconds(b - a)
    }

    /// Decodes every frame to `conversion` and the audio at `sampleRate` over the video's span.
    public static func decode(_ source: RecordingSource, conversion: GrayConversion, sampleRate: Int,
                              threads: Int = 2) throws -> RecordingSummary {
        let clock = ContinuousClock()
        let started = clock.now
        let decoder = try VideoDecoder(path: source.videoPath, threads: threads)
        var pixels = [UInt8](repeating: 0, count: conversion.width * conversion.height)
        var first: Microseconds? = nil, last: Microseconds? = nil
        var graySum = 0.0
        while let frame = try decoder.nextFrame() {
            if first == nil { first = frame.pts }
            last = frame.pts
            try pixels.withUnsafeMutableBufferPointer { try decoder.convertCurrentFrame(conversion, into: $0) }
            graySum += Double(pixels.reduce(0) { $0 + Int($1) }) / Double(pixels.count)
        }
        let frames = decoder.stats.frames
        let origin = first ?? decoder.info.startTime
        let frameDuration = decoder.info.averageFrameRate.flatMap { Rational($0.den, $0.num).scale(1, toUnit: 1_000_000) } ?? 0
        let end = (last ?? origin) + frameDuration
        let length = Int(TimeMath.sampleIndex(at: end - origin, rate: sampleRate))
        let audio = try AudioDecoder(path: source.audioFile, offset: source.audioOffset, sampleRate: sampleRate)
            .decodeTrack(origin: origin, length: length)
        let energy = audio.samples.reduce(0.0) { $0 + Double($1) * Double($1) }
        return RecordingSummary(
            frames: frames, firstPTS: first, lastPTS: last,
            meanGray: frames > 0 ? graySum / Double(frames) : 0,
            audioSeconds: Double(audio.samples.count) / Double(sampleRate),
            audioRMS: audio.samples.isEmpty ? 0 : (energy / Double(audio.samples.count)).squareRoot(),
            audioPaddedAtEnd: audio.isPaddedAtEnd, video: decoder.stats, audio: audio.stats,
            decodeSeconds: (clock.now - started).inSeconds)
    }
}
