import CFFTW3f
import CSonoKernels
import Foundation
import SonoCore

/// A log-mel spectrogram: `frames × mels` Float32, row-major (one row per 10 ms frame with the
/// CNN14 settings), as CNN14 takes it (B, 1, T, 64).
public struct LogMel: Sendable, Equatable {
    public var frames: Int
    public var mels: Int
    public var values: [Float]

    public subscript(frame: Int, mel: Int) -> Float { values[frame * mels + mel] }

    /// The values as IEEE half precision, for shards (max error ≈ 0.016 dB at ±100 dB).
    public var float16Bits: [UInt16] {
        #if arch(x86_64) || arch(arm64)
        return values.map { Float16($0).bitPattern }
        #else
        return values.map { _ in 0 }
        #endif
    }
}

/// Computes log-mel spectrograms with FFTW (real-to-complex, double precision by default; see
/// `LogMelConfig.fftPrecision`).
///
/// The plan is made once, here, under a lock (FFTW's planner is not thread-safe); `compute`
/// uses FFTW's new-array execute on buffers of its own, so one instance serves many threads.
public final class LogMelSpectrogram: @unchecked Sendable {
    public let config: LogMelConfig
    private let fft: PowerSpectrumPlan
    private let window: [Float]
    private let packedFilters: MelFilterbank.Packed

    public init(_ config: LogMelConfig = .cnn14) throws {
        try config.validate(source: "LogMelConfig")
        self.config = config
        let n = config.fftSize
        // Periodic Hann of the window length, zero-padded to n_fft in the centre (librosa pad_center).
        var w = [Float](repeating: 0, count: n)
        let left = (n - config.windowLength) / 2
        for i in 0..<config.windowLength {
            w[left + i] = Float(0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(config.windowLength)))
        }
        window = w
        packedFilters = MelFilterbank.Packed(MelFilterbank(sampleRate: config.sampleRate, fftSize: n, melBins: config.melBins,
                                                           fMin: config.fMin, fMax: config.fMax))
        fft = try PowerSpectrumPlan(size: n, precision: config.fftPrecision)
    }

    /// The log-mel of `samples` (mono, at `config.sampleRate`), as librosa computes it on
    /// exactly this excerpt. `source` names the audio in errors.
    public func compute(_ samples: [Float], sampleRate: Int, source: String) throws -> LogMel {
        try samples.withUnsafeBufferPointer { try compute($0, sampleRate: sampleRate, source: source) }
    }

    public func compute(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int, source: String) throws -> LogMel {
        var mel = try melPower(samples, sampleRate: sampleRate, source: source)
        toDecibels(&mel.values)
        return mel
    }

    /// The mel power spectrogram (before the log), for speech activity detection.
    public func melPower(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int, source: String) throws -> LogMel {
        let frames = config.frameCount(samples: samples.count), mels = config.melBins
        var out = [Float](repeating: 0, count: frames * mels)
        try out.withUnsafeMutableBufferPointer { outBuffer in
            guard let base = outBuffer.baseAddress else { return try checkInput(samples, sampleRate: sampleRate, source: source) }
            try forEachPowerSpectrum(samples, sampleRate: sampleRate, source: source) { t, power in
                packedFilters.apply(power, into: base + t * mels)
            }
        }
        return LogMel(frames: frames, mels: mels, values: out)
    }

    /// Calls `body(t, power)` with the power spectrum |X_k|², k = 0…n_fft/2, of every frame in
    /// order, framed exactly as `melPower` frames (for the speech activity detector).
    func forEachPowerSpectrum(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int, source: String,
                              _ body: (Int, UnsafePointer<Float>) -> Void) throws {
        try checkInput(samples, sampleRate: sampleRate, source: source)
        let n = config.fftSize, hop = config.hopLength, bins = n / 2 + 1
        let frames = config.frameCount(samples: samples.count)
        guard frames > 0, let base = samples.baseAddress else { return }
        let work = fft.makeWorkspace()
        let frame = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let power = UnsafeMutablePointer<Float>.allocate(capacity: bins)
        defer { frame.deallocate(); power.deallocate() }
        let length = samples.count
        let offset = config.center ? n / 2 : 0
        let exponent = config.power == 2 ? nil : Float(config.power / 2)
        window.withUnsafeBufferPointer { win in
            guard let w = win.baseAddress else { return }
            for t in 0..<frames {
                let start = t * hop - offset
                let source: UnsafePointer<Float>
                if start >= 0 && start + n <= length {
                    source = base + start
                } else {
                    for i in 0..<n { frame[i] = base[Self.reflectIndex(start + i, length)] }
                    source = UnsafePointer(frame)
                }
                fft.power(source, window: w, workspace: work, into: power)
                if let exponent { for k in 0..<bins { power[k] = powf(power[k], exponent) } }
                body(t, UnsafePointer(power))
            }
        }
    }

    /// The analysis window (periodic Hann of the window length, centred in n_fft).
    var analysisWindow: [Float] { window }

    /// librosa `power_to_db`: 10·log10(max(S, amin)) − 10·log10(max(amin, ref)), then top_db.
    public func toDecibels(_ values: inout [Float]) {
        let amin = Float(config.amin)
        let refDB = Float(10 * log10(max(config.amin, config.reference)))
        values.withUnsafeMutableBufferPointer { sono_power_to_db($0.baseAddress!, $0.count, amin, refDB) }
        if let topDB = config.topDB, let peak = values.max() {
            let floor = peak - Float(topDB)
            for i in values.indices where values[i] < floor { values[i] = floor }
        }
    }

    /// numpy's `pad(mode='reflect')` index: mirror about the ends without repeating the edge,
    /// periodically (period 2(L−1)) when the pad is longer than the signal.
    @inline(__always)
    static func reflectIndex(_ i: Int, _ length: Int) -> Int {
        if length == 1 { return 0 }
        let period = 2 * (length - 1)
        var m = i % period
        if m < 0 { m += period }
        return m < length ? m : period - m
    }

    private func checkInput(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int, source: String) throws {
        guard sampleRate == config.sampleRate else {
            throw SpectralError(path: source, reason: "audio is at \(sampleRate) Hz but the log-mel expects \(config.sampleRate) Hz (resample when decoding)")
        }
        guard !samples.isEmpty else { throw SpectralError(path: source, reason: "empty audio (0 samples)") }
        if sono_all_finite(samples.baseAddress!, samples.count) == 0, let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw SpectralError(path: source, reason: "non-finite sample (\(samples[bad])) at index \(bad) (\(String(format: "%.3f", Double(bad) / Double(sampleRate))) s)")
        }
    }
}
