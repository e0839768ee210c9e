import Foundation
import SonoCore
import SonoSpectral

/// How a dataset is cut from the scans: clip length and stride, what each clip holds, which
/// windows are kept, the split, and the log-mel settings. Read from `data-manifests/recipes/*.toml`.
///
/// Its `hash` (SHA-256 of the canonical JSON of the parsed values, so comments and key order do
/// not matter) names a dataset version: a changed recipe makes a new version.
public struct DatasetRecipe: Codable, Hashable, Sendable {
    public enum SelectionMode: String, Codable, Sendable {
        /// Every window on the grid.
        case none
        /// Grid windows whose speech ratio reaches `minSpeechRatio`.
        case minSpeechRatio = "min_speech_ratio"
        /// Windows placed around utterances so that no utterance shorter than a clip is cut.
        case speechAligned = "speech_aligned"
    }

    public var name: String
    public var clipMicros: Microseconds
    public var strideMicros: Microseconds
    public var framesPerClip: Int = 14
    public var frameSize: Int = 128
    public var stillsPerClip: Int = 1
    public var selection: SelectionMode = .minSpeechRatio
    public var minSpeechRatio: Double = 0
    /// Mean absolute difference between consecutive sampled frames (gray levels) below which a
    /// clip is frozen; checked on the decoded frames at extraction.
    public var minVideoActivity: Double = 0
    /// Mean gray level of the sampled frames below which a clip is blank (probe lifted off).
    public var minBrightness: Double = 0
    /// Fractions of the scans in each split (see `split(ofScan:)`).
    public var trainFraction: Double = 0.8
    public var valFraction: Double = 0.1
    public var testFraction: Double = 0.1
    public var seed: UInt64 = 0
    public var logMel: LogMelConfig = .cnn14
    public var speech: SpeechActivityConfig = SpeechActivityConfig()
    /// The speech detector's method and version ("spp-noise-harmonicity/2"): in the recipe's
    /// hash, so a new detector makes new dataset versions.
    public var speechMethod: String?
    /// A labelled frame dataset's sampling (nil: a clip dataset). Optional fields are left out
    /// of the canonical JSON when nil, so clip recipes keep their hashes.
    public var frames: FrameSampling?
    public var saliency: SaliencyMaps?
    /// Cross-validation folds by scan (labelled datasets).
    public var folds: FoldRule?

    /// Log-mel frames of one clip (201 for 2 s, 601 for 6 s with CNN14 settings).
    public var melFrames: Int { logMel.frameCount(samples: clipSamples) }
    /// Audio samples of one clip at the log-mel rate.
    public var clipSamples: Int { Int(TimeMath.sampleIndex(at: clipMicros, rate: logMel.sampleRate)) }

    /// SHA-256 of the canonical JSON of the recipe.
    public var hash: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return SHA256.hex((try? encoder.encode(self)) ?? Data())
    }

    public var canonicalJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public func validate(path: String) throws {
        func fail(_ why: String) -> InputError { InputError(path: path, reason: why) }
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) }) else {
            throw fail("name must be non-empty letters, digits, '_' or '-'")
        }
        if frames != nil {
            guard let f = frames, f.rateHz > 0, f.rateHz <= 1000, f.maxPerSpan >= 1, !f.labels.isEmpty else {
                throw fail("frames: labels must name a label set, rate_hz must be in (0, 1000] and max_per_span ≥ 1")
            }
            if let clip = f.clip {
                guard (100_000...60_000_000).contains(clip.lengthMicros), (1...256).contains(clip.frames) else {
                    throw fail("frames: clip_s must be 0.1…60 s (give it with clip_frames) and clip_frames 1…256")
                }
            }
            if let s = saliency {
                guard !s.gaze.isEmpty, s.windowMicros > 0, s.sigmaPixels > 0, (4...1024).contains(s.mapSize) else {
                    throw fail("saliency: gaze must name a label set, window_s and sigma_px must be positive, map_size 4…1024")
                }
            }
        } else {
            guard saliency == nil else { throw fail("[saliency] needs [frames]: gaze maps are made for labelled frames") }
            guard clipMicros >= 320_000, clipMicros <= 600_000_000 else { throw fail("clips.length_s must be between 0.32 and 600 s (CNN14 needs ≥ 32 mel frames)") }
        }
        if let folds { guard (2...100).contains(folds.k) else { throw fail("folds.k must be 2…100") } }
        guard strideMicros > 0 else { throw fail("clips.stride_s must be positive") }
        guard (1...1024).contains(framesPerClip) else { throw fail("clips.frames must be 1…1024") }
        guard (8...1024).contains(frameSize) else { throw fail("clips.frame_size must be 8…1024") }
        guard stillsPerClip == 1 else { throw fail("clips.stills: only 1 still per clip is supported") }
        guard (0...1).contains(minSpeechRatio) else { throw fail("selection.min_speech_ratio must be in 0…1") }
        guard minVideoActivity >= 0, minBrightness >= 0 else { throw fail("video thresholds must be ≥ 0") }
        let fractions = [trainFraction, valFraction, testFraction]
        guard fractions.allSatisfy({ $0 >= 0 }), abs(fractions.reduce(0, +) - 1) < 1e-9 else {
            throw fail("split fractions must be ≥ 0 and add up to 1")
        }
        try logMel.validate(source: path)
        guard frames == nil else { return }
        let exact = Rational(Int64(logMel.sampleRate), 1_000_000).scale(clipMicros, toUnit: 1) ?? 0
        guard exact * 1_000_000 == clipMicros * Int64(logMel.sampleRate) else {
            throw fail("clips.length_s must be a whole number of audio samples at \(logMel.sampleRate) Hz")
        }
    }
}
