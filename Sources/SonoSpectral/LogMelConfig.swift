/// Parameters of a log-mel spectrogram. Defaults are the PANNs CNN14 front end
/// (torchlibrosa / librosa): 32 kHz, n_fft = window = 1024 periodic Hann, hop 320, centred
/// frames with reflect padding, power 2, 64 Slaney mel bins (Slaney norm) over 50–14000 Hz,
/// 10·log10(max(S, 1e-10)) with ref 1 and no top_db. See docs/audio.md.
public struct LogMelConfig: Hashable, Sendable, Codable {
    public var sampleRate: Int = 32000
    public var fftSize: Int = 1024
    public var windowLength: Int = 1024
    public var hopLength: Int = 320
    public var melBins: Int = 64
    public var fMin: Double = 50
    public var fMax: Double = 14000
    /// Frames centred on t·hop, the signal reflect-padded by fftSize/2 on both sides.
    public var center: Bool = true
    /// 2 for power, 1 for magnitude.
    public var power: Double = 2
    public var amin: Double = 1e-10
    public var reference: Double = 1
    /// Clip to (max − topDB) when set; PANNs uses none.
    public var topDB: Double? = nil
    /// Arithmetic of the FFT. Single precision errs by up to ~0.15 dB in mel bins 100 dB or
    /// more below the frame's peak (as any float32 FFT does, e.g. scipy's); double precision
    /// matches librosa to 1e-4 dB there and is still far faster than librosa. See docs/audio.md.
    public var fftPrecision: FFTPrecision = .double

    public enum FFTPrecision: String, Hashable, Sendable, Codable { case single, double }

    public init() {}

    /// CNN14 as pretrained on AudioSet at 32 kHz (Cnn14_mAP=0.431).
    public static let cnn14 = LogMelConfig()

    /// The 16 kHz CNN14 variant (Cnn14_16k): 512 / 160 / 8000 Hz.
    public static var cnn14At16kHz: LogMelConfig {
        var c = LogMelConfig()
        c.sampleRate = 16000; c.fftSize = 512; c.windowLength = 512; c.hopLength = 160; c.fMax = 8000
        return c
    }

    /// Number of frames for `samples` input samples: 1 + ⌊L / hop⌋ when centred
    /// (1 s at 32 kHz → 101), else 1 + ⌊(L − n_fft) / hop⌋ (0 when shorter than n_fft).
    public func frameCount(samples: Int) -> Int {
        if center { return 1 + samples / hopLength }
        return samples < fftSize ? 0 : 1 + (samples - fftSize) / hopLength
    }

    /// Throws unless every parameter is usable; `source` names the caller's configuration.
    public func validate(source: String) throws {
        func fail(_ why: String) -> SpectralError { SpectralError(path: source, reason: "log-mel configuration: \(why)") }
        guard sampleRate > 0 else { throw fail("sample rate must be positive") }
        guard fftSize >= 16, fftSize <= 1 << 16 else { throw fail("fft size \(fftSize) out of range 16…65536") }
        guard windowLength > 0, windowLength <= fftSize else { throw fail("window length must be in 1…fft size") }
        guard hopLength > 0 else { throw fail("hop must be positive") }
        guard melBins > 0, melBins <= fftSize / 2 + 1 else { throw fail("mel bins must be in 1…fft size/2+1") }
        guard fMin >= 0, fMax > fMin, fMax <= Double(sampleRate) / 2 else {
            throw fail("need 0 ≤ fmin < fmax ≤ sample rate / 2 (got \(fMin)…\(fMax) at \(sampleRate) Hz)")
        }
        guard power > 0, amin > 0, reference > 0 else { throw fail("power, amin and ref must be positive") }
    }
}
