import Foundation
import SonoCore

/// Settings of the speech activity detector (method `SpeechActivityDetector.methodName`,
/// version `methodVersion`), 10 ms frames of the log-mel front end's STFT.
public struct SpeechActivityConfig: Hashable, Sendable, Codable {
    /// The band whose a-posteriori SNR is the frame's speech evidence (Hz).
    public var bandLow: Double = 250
    public var bandHigh: Double = 4000
    /// A frame may be speech when its band SNR (mean over FFT bins of power ÷ noise power,
    /// over `smoothingFrames`) exceeds this (dB). Noise alone sits at 0–2.5 dB.
    public var thresholdDB: Double = 3
    /// A voiced anchor frame needs at least this band SNR (dB)…
    public var anchorThresholdDB: Double = 4
    /// …and at least this harmonicity: the peak of the window-corrected normalised
    /// autocorrelation of the noise-whitened excess spectrum at pitch lags (0…1+; noise ≈ 0.4–0.7).
    public var harmonicityThreshold: Double = 0.75
    /// Band of the spectrum whose autocorrelation measures harmonicity (Hz).
    public var harmonicityBandLow: Double = 100
    public var harmonicityBandHigh: Double = 3000
    /// Pitch range searched (Hz).
    public var pitchLow: Double = 70
    public var pitchHigh: Double = 400
    /// A frame is speech only with at least `minAnchorFrames` voiced anchors within
    /// ± `anchorWindowSeconds` of it: noise that is loud but not voiced (Doppler, a fan
    /// switching on, clicks, level steps) is not speech.
    public var anchorWindowSeconds: Double = 0.2
    public var minAnchorFrames: Int = 4
    /// Background level: the `backgroundPercentile` of the band energy (0.1 s blocks) over
    /// ± `backgroundWindowSeconds` / 2. A voiced anchor must stand `anchorAboveBackgroundDB`
    /// above it and a speech frame `speechAboveBackgroundDB`: background music, whose notes are
    /// harmonic but whose level hardly moves, makes no anchors.
    public var backgroundPercentile: Double = 20
    public var backgroundWindowSeconds: Double = 10
    public var anchorAboveBackgroundDB: Double = 6
    public var speechAboveBackgroundDB: Double = 2
    /// Noise tracker (Gerkmann & Hendriks 2012): a-priori SNR of speech-present frames (dB)
    /// and the recursive smoothing of the noise power per frame.
    public var noisePriorSNRDB: Double = 15
    public var noiseSmoothing: Double = 0.8
    /// Frames averaged (the band SNR) before the decision, centred.
    public var smoothingFrames: Int = 3
    /// Speech runs shorter than this are dropped (clicks, bumps) (s).
    public var minSpeechSeconds: Double = 0.12
    /// Pauses shorter than this are bridged (between words) (s).
    public var minPauseSeconds: Double = 0.3
    /// Each interval is extended by this after its last speech frame (s)…
    public var hangoverSeconds: Double = 0.08
    /// …and before its first (s).
    public var leadSeconds: Double = 0.03

    public init() {}

    /// Reads stored settings; a key a catalog made by another version lacks keeps its default.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bandLow = try c.decodeIfPresent(Double.self, forKey: .bandLow) ?? bandLow
        bandHigh = try c.decodeIfPresent(Double.self, forKey: .bandHigh) ?? bandHigh
        thresholdDB = try c.decodeIfPresent(Double.self, forKey: .thresholdDB) ?? thresholdDB
        anchorThresholdDB = try c.decodeIfPresent(Double.self, forKey: .anchorThresholdDB) ?? anchorThresholdDB
        harmonicityThreshold = try c.decodeIfPresent(Double.self, forKey: .harmonicityThreshold) ?? harmonicityThreshold
        harmonicityBandLow = try c.decodeIfPresent(Double.self, forKey: .harmonicityBandLow) ?? harmonicityBandLow
        harmonicityBandHigh = try c.decodeIfPresent(Double.self, forKey: .harmonicityBandHigh) ?? harmonicityBandHigh
        pitchLow = try c.decodeIfPresent(Double.self, forKey: .pitchLow) ?? pitchLow
        pitchHigh = try c.decodeIfPresent(Double.self, forKey: .pitchHigh) ?? pitchHigh
        anchorWindowSeconds = try c.decodeIfPresent(Double.self, forKey: .anchorWindowSeconds) ?? anchorWindowSeconds
        minAnchorFrames = try c.decodeIfPresent(Int.self, forKey: .minAnchorFrames) ?? minAnchorFrames
        backgroundPercentile = try c.decodeIfPresent(Double.self, forKey: .backgroundPercentile) ?? backgroundPercentile
        backgroundWindowSeconds = try c.decodeIfPresent(Double.self, forKey: .backgroundWindowSeconds) ?? backgroundWindowSeconds
        anchorAboveBackgroundDB = try c.decodeIfPresent(Double.self, forKey: .anchorAboveBackgroundDB) ?? anchorAboveBackgroundDB
        speechAboveBackgroundDB = try c.decodeIfPresent(Double.self, forKey: .speechAboveBackgroundDB) ?? speechAboveBackgroundDB
        noisePriorSNRDB = try c.decodeIfPresent(Double.self, forKey: .noisePriorSNRDB) ?? noisePriorSNRDB
        noiseSmoothing = try c.decodeIfPresent(Double.self, forKey: .noiseSmoothing) ?? noiseSmoothing
        smoothingFrames = try c.decodeIfPresent(Int.self, forKey: .smoothingFrames) ?? smoothingFrames
        minSpeechSeconds = try c.decodeIfPresent(Double.self, forKey: .minSpeechSeconds) ?? minSpeechSeconds
        minPauseSeconds = try c.decodeIfPresent(Double.self, forKey: .minPauseSeconds) ?? minPauseSeconds
        hangoverSeconds = try c.decodeIfPresent(Double.self, forKey: .hangoverSeconds) ?? hangoverSeconds
        leadSeconds = try c.decodeIfPresent(Double.self, forKey: .leadSeconds) ?? leadSeconds
    }

    /// "name/version" of the method these settings are for, for datasets to record.
    public var method: String { "\(SpeechActivityDetector.methodName)/\(SpeechActivityDetector.methodVersion)" }

    /// Throws unless every setting is usable; `source` names the caller's configuration.
    public func validate(source: String) throws {
        func fail(_ why: String) -> SpectralError { SpectralError(path: source, reason: "speech activity configuration: \(why)") }
        let finite = [bandLow, bandHigh, thresholdDB, anchorThresholdDB, harmonicityThreshold, harmonicityBandLow,
                      harmonicityBandHigh, pitchLow, pitchHigh, anchorWindowSeconds, noisePriorSNRDB, noiseSmoothing,
                      minSpeechSeconds, minPauseSeconds, hangoverSeconds, leadSeconds, backgroundPercentile,
                      backgroundWindowSeconds, anchorAboveBackgroundDB, speechAboveBackgroundDB]
        guard finite.allSatisfy(\.isFinite) else { throw fail("every setting must be finite") }
        guard bandLow >= 0, bandHigh > bandLow else { throw fail("need 0 ≤ band low < band high") }
        guard harmonicityBandLow >= 0, harmonicityBandHigh > harmonicityBandLow else { throw fail("need 0 ≤ harmonicity band low < high") }
        guard pitchLow > 0, pitchHigh > pitchLow else { throw fail("need 0 < pitch low < pitch high") }
        guard backgroundPercentile >= 0, backgroundPercentile <= 100, backgroundWindowSeconds > 0 else {
            throw fail("background percentile must be in 0…100 and its window positive")
        }
        guard noiseSmoothing >= 0, noiseSmoothing < 1 else { throw fail("noise smoothing must be in [0, 1)") }
        guard smoothingFrames >= 1, minAnchorFrames >= 0 else { throw fail("smoothing frames ≥ 1 and anchor frames ≥ 0") }
        guard anchorWindowSeconds >= 0, minSpeechSeconds >= 0, minPauseSeconds >= 0, hangoverSeconds >= 0, leadSeconds >= 0 else {
            throw fail("durations must not be negative")
        }
    }
}

/// Where someone speaks in a stretch of audio: intervals of sample indices [start, end).
public struct SpeechActivity: Sendable, Equatable {
    public var sampleRate: Int
    public var totalSamples: Int64
    public var intervals: [Range<Int64>]

    public init(sampleRate: Int, totalSamples: Int64, intervals: [Range<Int64>]) {
        self.sampleRate = sampleRate
        self.totalSamples = totalSamples
        self.intervals = intervals
    }

    /// Fraction of the samples in `range` that lie inside speech intervals (0 for an empty range).
    public func speechRatio(_ range: Range<Int64>) -> Double {
        guard !range.isEmpty else { return 0 }
        var covered: Int64 = 0
        // Intervals are sorted and disjoint: binary search the first that may overlap.
        var lo = 0, hi = intervals.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if intervals[mid].upperBound <= range.lowerBound { lo = mid + 1 } else { hi = mid }
        }
        var i = lo
        while i < intervals.count, intervals[i].lowerBound < range.upperBound {
            covered += min(intervals[i].upperBound, range.upperBound) - max(intervals[i].lowerBound, range.lowerBound)
            i += 1
        }
        return Double(covered) / Double(range.count)
    }

    /// Seconds of speech in total.
    public var speechSeconds: Double { Double(intervals.reduce(0) { $0 + $1.count }) / Double(sampleRate) }
}

/// Frame-level agreement of detected speech with the truth (10 ms frames by default).
public struct SpeechActivityScore: Sendable, Codable {
    public var precision: Double
    public var recall: Double
    public var f1: Double

    /// Labels each frame of `frameSamples` samples speech when more than half of it is inside an
    /// interval, then counts agreement.
    public init(predicted: SpeechActivity, truth: [Range<Int64>], frameSamples: Int) {
        let reference = SpeechActivity(sampleRate: predicted.sampleRate, totalSamples: predicted.totalSamples, intervals: truth)
        var tp = 0, fp = 0, fn = 0
        var start: Int64 = 0
        let step = Int64(frameSamples)
        while start + step <= predicted.totalSamples {
            let frame = start..<(start + step)
            let p = predicted.speechRatio(frame) > 0.5, t = reference.speechRatio(frame) > 0.5
            if p && t { tp += 1 } else if p { fp += 1 } else if t { fn += 1 }
            start += step
        }
        precision = tp + fp == 0 ? 1 : Double(tp) / Double(tp + fp)
        recall = tp + fn == 0 ? 1 : Double(tp) / Double(tp + fn)
        f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }
}

/// Speech activity detection on the log-mel front end's own STFT (32 ms Hann, 10 ms hop).
///
/// Method (`methodName` "spp-noise-harmonicity", see docs/audio.md):
/// 1. noise power per FFT bin (100–4000 Hz) tracked by the speech-presence-probability MMSE
///    estimator of Gerkmann & Hendriks (2012): unbiased without a bias factor, so the noise
///    mean is right for any noise colour or bin width, and it follows level changes in seconds;
/// 2. band evidence: 10·log10 of the mean over bins of power ÷ noise (the a-posteriori SNR),
///    250–4000 Hz, over 3 frames; ≈ 0–2.5 dB on noise alone, of any kind;
/// 3. harmonicity: the noise-whitened excess spectrum max(0, power ÷ noise − 1), 100–3000 Hz,
///    is turned into an autocorrelation (DCT-I), normalised and corrected for the window
///    (Boersma 1993); its peak at pitch lags (70–400 Hz) is high for voiced speech, low for
///    noise, whooshes and clicks;
/// 4. background level: the 20th percentile of the band energy over ± 5 s (0.1 s blocks);
/// 5. a frame is speech when its evidence exceeds 3 dB, its band energy stands ≥ 2 dB above the
///    background and at least 4 voiced anchors (evidence ≥ 4 dB, harmonicity ≥ 0.75, ≥ 6 dB above
///    the background: not the steady notes of background music) lie within ± 0.2 s;
/// 6. pauses under 0.3 s are bridged, runs under 0.12 s dropped, each run extended 30 ms
///    before and 80 ms after.
/// Every constant is a field of `SpeechActivityConfig`. Deterministic; a 30-min scan takes a
/// few seconds in release.
public final class SpeechActivityDetector: Sendable {
    /// Stable identity of the method, for datasets to record beside the config.
    public static let methodName = "spp-noise-harmonicity"
    public static let methodVersion = "2"

    public let config: SpeechActivityConfig
    public let front: LogMelSpectrogram
    private let autocorrelation: CosinePlan
    /// Hann window autocorrelation, normalised to 1 at lag 0, for lags 0…maxLag.
    private let windowCorrelation: [Float]

    public init(_ config: SpeechActivityConfig = SpeechActivityConfig(), melConfig: LogMelConfig = .cnn14) throws {
        try config.validate(source: "SpeechActivityConfig")
        self.config = config
        front = try LogMelSpectrogram(melConfig)
        let n = melConfig.fftSize
        autocorrelation = try CosinePlan(size: n / 2 + 1)
        let w = front.analysisWindow
        let maxLag = min(n / 2, Int((Double(melConfig.sampleRate) / config.pitchLow).rounded(.up)))
        var wc = [Float](repeating: 0, count: maxLag + 1)
        for lag in 0...maxLag {
            var sum = 0.0
            for i in 0..<(n - lag) { sum += Double(w[i]) * Double(w[i + lag]) }
            wc[lag] = Float(sum)
        }
        let zero = wc[0] > 0 ? wc[0] : 1
        windowCorrelation = wc.map { $0 / zero }
    }

    public func detect(_ samples: [Float], sampleRate: Int, source: String) throws -> SpeechActivity {
        let (evidence, harmonicity, level) = try samples.withUnsafeBufferPointer {
            try frameFeatures($0, sampleRate: sampleRate, source: source)
        }
        let voiced = decide(evidence: evidence, harmonicity: harmonicity, aboveBackground: aboveBackground(level))
        return SpeechActivity(sampleRate: sampleRate, totalSamples: Int64(samples.count),
                              intervals: intervals(voiced, totalSamples: Int64(samples.count)))
    }

    /// Per frame: the band evidence (dB, smoothed), the harmonicity and the band energy.
    func frameFeatures(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int, source: String) throws -> ([Float], [Float], [Float]) {
        let mc = front.config
        let n = mc.fftSize, bins = n / 2 + 1
        let binHz = Double(mc.sampleRate) / Double(n)
        func bin(_ hz: Double) -> Int { max(1, min(bins - 1, Int((hz / binHz).rounded()))) }
        let bandLo = bin(config.bandLow), bandHi = bin(config.bandHigh)
        let harmLo = bin(config.harmonicityBandLow), harmHi = bin(config.harmonicityBandHigh)
        let lo = min(bandLo, harmLo), hi = max(bandHi, harmHi)  // tracked bins lo…hi
        let width = hi - lo + 1
        let lagLo = max(1, Int((Double(mc.sampleRate) / config.pitchHigh).rounded()))
        let lagHi = min(windowCorrelation.count - 1, Int((Double(mc.sampleRate) / config.pitchLow).rounded()))
        let frames = mc.frameCount(samples: samples.count)
        var evidence = [Float](repeating: 0, count: frames)
        var harmonicity = [Float](repeating: 0, count: frames)
        var level = [Float](repeating: 0, count: frames)
        guard frames > 0, lagLo <= lagHi else { return (evidence, harmonicity, level) }

        // Initial noise: the mean of the first 20 frames (an overestimate corrects itself within
        // a few frames; the tracker never needs a bias factor).
        var noise = [Float](repeating: 0, count: width)
        let initFrames = min(frames, 20)
        try front.forEachPowerSpectrum(samples, sampleRate: sampleRate, source: source) { t, power in
            guard t < initFrames else { return }
            for k in 0..<width { noise[k] += power[lo + k] / Float(initFrames) }
        }
        let xi = Float(pow(10, config.noisePriorSNRDB / 10))
        let xiRatio = xi / (1 + xi), onePlusXi = 1 + xi
        let alpha = Float(config.noiseSmoothing)
        var smoothedPresence = [Float](repeating: 0, count: width)
        let floorPower: Float = 1e-20
        let spectrum = UnsafeMutablePointer<Float>.allocate(capacity: bins)
        let lags = UnsafeMutablePointer<Float>.allocate(capacity: bins)
        defer { spectrum.deallocate(); lags.deallocate() }
        let work = autocorrelation.makeWorkspace()
        var rawEvidence = [Float](repeating: 0, count: frames)
        let bandCount = Float(bandHi - bandLo + 1)

        try front.forEachPowerSpectrum(samples, sampleRate: sampleRate, source: source) { t, power in
            var sum: Float = 0, energy: Float = 0
            for k in 0..<bins { spectrum[k] = 0 }
            for k in 0..<width {
                let y = power[lo + k]
                let gamma = y / max(noise[k], floorPower)
                let bk = lo + k
                if bk >= bandLo && bk <= bandHi { sum += gamma; energy += y }
                if bk >= harmLo && bk <= harmHi { spectrum[bk] = max(0, gamma - 1) }
                // Speech presence probability with a fixed a-priori SNR, stagnation guarded.
                var p = 1 / (1 + onePlusXi * expf(-min(gamma * xiRatio, 80)))
                smoothedPresence[k] = 0.9 * smoothedPresence[k] + 0.1 * p
                if smoothedPresence[k] > 0.99 { p = min(p, 0.99) }
                noise[k] = alpha * noise[k] + (1 - alpha) * ((1 - p) * y + p * noise[k])
            }
            rawEvidence[t] = sum / bandCount
            level[t] = energy
            autocorrelation.transform(spectrum, into: lags, workspace: work)
            let zero = lags[0]
            guard zero > 0 else { harmonicity[t] = 0; return }
            var best: Float = -1
            for lag in lagLo...lagHi {
                best = max(best, lags[lag] / (zero * windowCorrelation[lag]))
            }
            harmonicity[t] = best
        }
        // Centred moving average of the band SNR, then decibels.
        let half = config.smoothingFrames / 2
        var running: Float = 0
        var count = 0, from = 0, to = 0
        for t in 0..<frames {
            while to < min(frames, t + half + 1) { running += rawEvidence[to]; to += 1; count += 1 }
            while from < t - half { running -= rawEvidence[from]; from += 1; count -= 1 }
            evidence[t] = 10 * log10f(max(running / Float(max(count, 1)), 1e-12))
        }
        return (evidence, harmonicity, level)
    }

    /// dB of each frame's band energy above the background level (a running percentile of
    /// 0.1 s block means over the background window, centred).
    func aboveBackground(_ level: [Float]) -> [Float] {
        let frames = level.count
        guard frames > 0 else { return [] }
        let frameSeconds = Double(front.config.hopLength) / Double(front.config.sampleRate)
        let block = max(1, Int((0.1 / frameSeconds).rounded()))
        let blocks = (frames + block - 1) / block
        var blockDB = [Float](repeating: 0, count: blocks)
        for b in 0..<blocks {
            let from = b * block, to = min(frames, from + block)
            var sum: Float = 0
            for t in from..<to { sum += level[t] }
            blockDB[b] = 10 * log10f(max(sum / Float(to - from), 1e-20))
        }
        let half = max(1, Int((config.backgroundWindowSeconds / 2 / (Double(block) * frameSeconds)).rounded()))
        var background = [Float](repeating: 0, count: blocks)
        var window: [Float] = []
        window.reserveCapacity(2 * half + 1)
        for b in 0..<blocks {
            window.removeAll(keepingCapacity: true)
            window.append(contentsOf: blockDB[max(0, b - half)..<min(blocks, b + half)])
            window.sort()
            let rank = Int((Double(window.count - 1) * config.backgroundPercentile / 100).rounded())
            background[b] = window[max(0, min(window.count - 1, rank))]
        }
        return (0..<frames).map { t in 10 * log10f(max(level[t], 1e-20)) - background[t / block] }
    }

    /// Speech where the evidence clears the threshold near enough voiced anchors (in frames).
    func decide(evidence: [Float], harmonicity: [Float], aboveBackground: [Float]) -> [Bool] {
        let frames = evidence.count
        let frameSeconds = Double(front.config.hopLength) / Double(front.config.sampleRate)
        let window = Int((config.anchorWindowSeconds / frameSeconds).rounded())
        var anchors = [Int](repeating: 0, count: frames + 1)  // prefix counts
        for t in 0..<frames {
            let anchor = Double(evidence[t]) > config.anchorThresholdDB && Double(harmonicity[t]) > config.harmonicityThreshold
                && Double(aboveBackground[t]) >= config.anchorAboveBackgroundDB
            anchors[t + 1] = anchors[t] + (anchor ? 1 : 0)
        }
        var voiced = [Bool](repeating: false, count: frames)
        for t in 0..<frames where Double(evidence[t]) > config.thresholdDB && Double(aboveBackground[t]) >= config.speechAboveBackgroundDB {
            let near = anchors[min(frames, t + window + 1)] - anchors[max(0, t - window)]
            voiced[t] = near >= config.minAnchorFrames
        }
        return bridgeAndDrop(voiced)
    }

    /// Bridge short pauses and drop short runs (in frames).
    func bridgeAndDrop(_ frames: [Bool]) -> [Bool] {
        let frameSeconds = Double(front.config.hopLength) / Double(front.config.sampleRate)
        var voiced = frames
        let minPause = Int((config.minPauseSeconds / frameSeconds).rounded())
        let minSpeech = Int((config.minSpeechSeconds / frameSeconds).rounded())
        // Bridge pauses between voiced frames.
        var lastVoiced: Int? = nil
        for t in voiced.indices where voiced[t] {
            if let l = lastVoiced, t - l - 1 > 0, t - l - 1 < minPause { for k in (l + 1)..<t { voiced[k] = true } }
            lastVoiced = t
        }
        // Drop short runs.
        var t = 0
        while t < voiced.count {
            guard voiced[t] else { t += 1; continue }
            var e = t
            while e < voiced.count && voiced[e] { e += 1 }
            if e - t < minSpeech { for k in t..<e { voiced[k] = false } }
            t = e
        }
        return voiced
    }

    /// Voiced frames → sample intervals, extended by lead and hangover, merged, clamped.
    func intervals(_ voiced: [Bool], totalSamples: Int64) -> [Range<Int64>] {
        let mc = front.config
        let hop = Int64(mc.hopLength)
        let centreOffset: Int64 = mc.center ? 0 : Int64(mc.fftSize / 2)
        let lead = Int64((config.leadSeconds * Double(mc.sampleRate)).rounded())
        let hang = Int64((config.hangoverSeconds * Double(mc.sampleRate)).rounded())
        var result: [Range<Int64>] = []
        var t = 0
        while t < voiced.count {
            guard voiced[t] else { t += 1; continue }
            var e = t
            while e < voiced.count && voiced[e] { e += 1 }
            // Frame k covers [k·hop − hop/2, k·hop + hop/2) around its centre.
            let start = max(0, Int64(t) * hop + centreOffset - hop / 2 - lead)
            let end = min(totalSamples, Int64(e - 1) * hop + centreOffset + hop / 2 + hang)
            if start < end {
                if let last = result.last, last.upperBound >= start {
                    result[result.count - 1] = last.lowerBound..<max(last.upperBound, end)
                } else {
                    result.append(start..<end)
                }
            }
            t = e
        }
        return result
    }
}
