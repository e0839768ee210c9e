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

    // Conditions for detector tests on audio unlike the detector's own tuning material (issue 11).
    // The defaults reproduce the original samples byte for byte.

    /// Background noise kinds, mixed at equal RMS (hum 8 dB below the rest) to `snrDB`.
    /// `[.white]` with `hum` is the original background.
    public var noise: [NoiseKind] = [.white]
    /// Level of the speech (RMS over the spoken parts), dBFS, before `levelChangeDB`.
    public var speechDBFS: Double = -20
    /// Each utterance's level is drawn uniformly within ± this around `speechDBFS` (dB).
    public var speechJitterDB: Double = 0
    /// The whole mix's gain wanders between knots drawn in ±this (dB), ramping over 1–3 s,
    /// knots 20–60 s apart (a quarter of the recording apart in short ones); then the mix is
    /// scaled so its peak stays below full scale.
    public var levelChangeDB: Double = 0
    /// When positive, about one pause in six lasts this long (± 50 %) (s): minutes of silence.
    public var longSilenceSeconds: Double = 0
    /// No speech at all (noise only).
    public var noSpeech: Bool = false
    /// The espeak-ng voices, rates, pitches and phrases.
    public var voices: VoiceSet = .standard
    /// When set, a second talker (other voices, sparser) speaks this many dB below the first;
    /// their utterances are speech in the truth too (talker 2).
    public var secondTalkerDB: Double? = nil
    /// Audio codec and bit rate of the written file.
    public var audioCodec: AudioCodec = .aac
    public var audioKilobitsPerSecond: Int = 128
    /// The sector's shape and place and the screen's changing UI (nil: the original screen).
    public var screen: ScreenLayout? = nil

    public enum NoiseKind: String, Hashable, Sendable, Codable, CaseIterable {
        /// Gaussian white noise.
        case white
        /// 1/f noise (Kellet's filter).
        case pink
        /// 1/f² noise (leaky integrator, corner 20 Hz).
        case brown
        /// A fan: low-passed pink rumble, blade-pass tone with harmonics, slow ±2 dB wobble.
        case fan
        /// Room tone: brown and pink with a slow (20–60 s) ±3 dB drift.
        case room
        /// 50 or 60 Hz mains hum with harmonics up to the 9th.
        case hum
        /// Ultrasound-machine pulsed Doppler: noise through a resonance swept by a fetal heart
        /// beat (120–160 bpm), on for stretches of 10–60 s.
        case doppler
        /// Instrumental background music: melody and bass of harmonic notes with envelopes.
        case music
    }

    public enum VoiceSet: String, Hashable, Sendable, Codable, CaseIterable {
        /// `-v en`, 150–189 wpm, pitch 35–64: what the detector was first tuned on.
        case standard
        /// Other accents and voice variants, slow (100–134) or fast (205–259) rates, pitch 10–94,
        /// other phrases.
        case foreign
    }

    public enum AudioCodec: String, Hashable, Sendable, Codable, CaseIterable { case aac, mp3 }

    public init() {}

    /// The checks every sample generator makes before it writes anything: each names the
    /// value (as `sono-sample` spells its option) and its range.
    func validate(directory: String) throws {
        func fail(_ reason: String) -> InputError { InputError(path: directory, reason: reason) }
        guard seconds.isFinite, seconds > 0, seconds <= 14_400 else { throw fail("seconds must be in (0, 14400] (got \(seconds))") }
        guard (64...4096).contains(width), (64...4096).contains(height), width % 2 == 0, height % 2 == 0 else {
            throw fail("size \(width)x\(height) must be even and within 64x64…4096x4096")
        }
        guard (1...240).contains(framesPerSecond) else { throw fail("fps must be in 1…240 (got \(framesPerSecond))") }
        guard (8000...192_000).contains(sampleRate) else { throw fail("sample-rate must be in 8000…192000 Hz (got \(sampleRate))") }
        guard (1...8).contains(channels) else { throw fail("channels must be in 1…8 (got \(channels))") }
        guard snrDB.isFinite, speechDBFS.isFinite, speechDBFS < 0, levelChangeDB >= 0, levelChangeDB <= 40,
              speechJitterDB >= 0, longSilenceSeconds >= 0, (16...512).contains(audioKilobitsPerSecond), !noise.isEmpty else {
            throw fail("sample audio options out of range (speech dBFS < 0, level change 0…40 dB, bit rate 16…512 kb/s, at least one noise kind)")
        }
        try screen?.validate(source: directory)
    }

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
    /// 1 for the main talker, 2 for the second (quieter) one; nil means 1.
    public var talker: Int? = nil
}

/// The truth about a sample recording, written beside it as JSON.
public struct SampleAnnotation: Hashable, Sendable, Codable {
    public var spec: SampleSpec
    public var video: String
    public var utterances: [Utterance]
    /// The sector's bounding box in displayed pixels (what sector detection should find).
    public var sector: CropRect? = nil

    /// The true speech intervals in sample indices at `rate`: every talker's, sorted and merged
    /// where they overlap.
    public func speechIntervals(rate: Int) -> [Range<Int64>] {
        let spans = utterances
            .map { TimeMath.sampleIndex(at: $0.startMicros, rate: rate)..<TimeMath.sampleIndex(at: $0.endMicros, rate: rate) }
            .sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int64>] = []
        for s in spans where !s.isEmpty {
            if let last = merged.last, s.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, s.upperBound)
            } else {
                merged.append(s)
            }
        }
        return merged
    }
}
