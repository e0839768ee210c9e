import SonoCore
import SonoMedia
import SonoSpectral

/// A scan's speech decoded once, for the stages that follow: the log-mel of any excerpt and the
/// speech intervals of the whole scan, on the video's timeline.
///
/// The log-mel of a sample range is defined as the log-mel of that excerpt alone, exactly as
/// librosa would compute it on the excerpt (its own reflect padding at both ends), so a clip's
/// spectrogram does not depend on where the scan was cut.
public final class ScanAudio: Sendable {
    public let source: RecordingSource
    public let track: AudioTrack
    public let front: LogMelSpectrogram

    /// Decodes the scan's audio at `melConfig.sampleRate`, sample 0 at `origin` (normally the
    /// first video frame), `length` samples long (zero-padded where audio is missing; nil: to
    /// the end of the audio).
    public init(source: RecordingSource, origin: Microseconds, length: Int?, melConfig: LogMelConfig = .cnn14) throws {
        self.source = source
        front = try LogMelSpectrogram(melConfig)
        track = try AudioDecoder(path: source.audioFile, offset: source.audioOffset, sampleRate: melConfig.sampleRate)
            .decodeTrack(origin: origin, length: length)
    }

    public var sampleRate: Int { track.sampleRate }

    /// Sample index (from the origin) of a time on the video timeline.
    public func sampleIndex(at time: Microseconds) -> Int64 {
        TimeMath.sampleIndex(at: time - track.origin, rate: track.sampleRate)
    }

    /// The log-mel of samples [range) of the track. Throws for a range outside the track.
    public func logMel(samples range: Range<Int>) throws -> LogMel {
        guard range.lowerBound >= 0, range.upperBound <= track.samples.count, !range.isEmpty else {
            throw SpectralError(path: source.audioFile, reason: "sample range \(range) is outside the decoded track (0..<\(track.samples.count))")
        }
        return try track.samples.withUnsafeBufferPointer {
            try front.compute(UnsafeBufferPointer(rebasing: $0[range]), sampleRate: track.sampleRate, source: source.audioFile)
        }
    }

    /// The log-mel of [start, end) on the video timeline (µs).
    public func logMel(from start: Microseconds, to end: Microseconds) throws -> LogMel {
        try logMel(samples: Int(sampleIndex(at: start))..<Int(sampleIndex(at: end)))
    }

    /// Speech intervals of the whole track (sample indices from the origin).
    public func speechActivity(_ config: SpeechActivityConfig = SpeechActivityConfig()) throws -> SpeechActivity {
        try SpeechActivityDetector(config, melConfig: front.config)
            .detect(track.samples, sampleRate: track.sampleRate, source: source.audioFile)
    }
}
