import Foundation
import SonoCore

/// What a sample recording looks and sounds like. Same spec ⇒ same file content.
public struct SampleSpec: Hashable, Sendable, Codable {
    public var name: String = "sample_scan"
    public var seconds: Double = 60
    public var width: Int = 1008
    public var height: Int = 784
    public var framesPerSecond: Int = 30
    public var sampleRate: Int = 48000
    public var channels: Int = 2
    /// Speech RMS (over the spoken parts) ÷ background noise RMS, in dB.
    public var snrDB: Double = 20
    /// Adds 50 Hz mains hum with harmonics to the background, at the noise level.
    public var hum: Bool = false
    /// Adds short broadband clicks (probe knocks, keyboard) at this rate.
    public var clicksPerMinute: Double = 0
    public var seed: UInt64 = 1
    /// x264 constant rate factor: 23 gives bit rates like real screen captures.
    public var crf: Int = 23

    public init() {}

    public var frameCount: Int { Int((seconds * Double(framesPerSecond)).rounded()) }
    public var sampleCount: Int { Int((seconds * Double(sampleRate)).rounded()) }
}

/// One spoken comment in a sample recording: its text and where its voice is.
public struct Utterance: Hashable, Sendable, Codable {
    public var text: String
    /// Voiced span [start, end) on the recording's timeline, in µs (leading and trailing
    /// synthesiser silence excluded).
    public var startMicros: Microseconds
    public var endMicros: Microseconds
}

/// The truth about a sample recording, written beside it as JSON.
public struct SampleAnnotation: Hashable, Sendable, Codable {
    public var spec: SampleSpec
    public var video: String
    public var utterances: [Utterance]

    /// The true speech intervals in sample indices at `rate`.
    public func speechIntervals(rate: Int) -> [Range<Int64>] {
        utterances.map { TimeMath.sampleIndex(at: $0.startMicros, rate: rate)..<TimeMath.sampleIndex(at: $0.endMicros, rate: rate) }
    }
}
