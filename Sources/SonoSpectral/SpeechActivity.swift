import Foundation
import SonoCore

/// Settings of the speech activity detector; defaults suit a sonographer's speech over
/// ultrasound-room noise (machine hum, fans, clicks), 10 ms frames.
public struct SpeechActivityConfig: Hashable, Sendable, Codable {
    /// The speech band whose mel bins are scored (Hz).
    public var bandLow: Double = 250
    public var bandHigh: Double = 4000
    /// A frame is voiced when its mean band SNR over the noise floor exceeds this (dB).
    public var thresholdDB: Double = 4
    /// Length of the window whose minimum tracks the noise floor (s). Longer than any stretch
    /// of uninterrupted speech; shorter than changes of the room's noise.
    public var noiseWindowSeconds: Double = 8
    /// Minimum statistics underestimate the mean noise power: the floor is this × the minimum.
    public var noiseBias: Double = 2
    /// Frames averaged (in power) before scoring, to steady the estimate.
    public var smoothingFrames: Int = 5
    /// Voiced runs shorter than this are dropped (clicks, bumps) (s).
    public var minSpeechSeconds: Double = 0.12
    /// Pauses shorter than this are bridged (between words) (s).
    public var minPauseSeconds: Double = 0.3
    /// Each interval is extended by this after its last voiced frame (s)…
    public var hangoverSeconds: Double = 0.08
    /// …and before its first (s).
    public var leadSeconds: Double = 0.03

    public init() {}
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

/// Speech activity detection on the log-mel front end's own STFT.
///
/// Method (a minimum-statistics noise tracker with an SNR decision, after Martin 2001 and
/// Sohn et al. 1999, simplified):
/// 1. mel power spectrogram with the front end's settings (10 ms hop for CNN14);
/// 2. each mel bin inside the speech band (250–4000 Hz) is smoothed over 5 frames;
/// 3. its noise floor is the minimum over a sliding 8 s window (through 0.1 s block minima),
///    times a bias of 2 (minima underestimate the mean): stationary hum and fan noise become
///    floor, not speech;
/// 4. a frame's score is the mean over those bins of max(0, 10·log10(power / floor));
///    it is voiced when the score exceeds 4 dB;
/// 5. pauses under 0.3 s are bridged, voiced runs under 0.12 s (clicks) dropped, and each run
///    is extended 30 ms before and 80 ms after (hangover).
/// Every constant is a field of `SpeechActivityConfig`.
public final class SpeechActivityDetector: Sendable {
    public let config: SpeechActivityConfig
    public let front: LogMelSpectrogram

    public init(_ config: SpeechActivityConfig = SpeechActivityConfig(), melConfig: LogMelConfig = .cnn14) throws {
        self.config = config
        front = try LogMelSpectrogram(melConfig)
    }

    public func detect(_ samples: [Float], sampleRate: Int, source: String) throws -> SpeechActivity {
        let power = try samples.withUnsafeBufferPointer { try front.melPower($0, sampleRate: sampleRate, source: source) }
        let voiced = decide(frameScores(power))
        return SpeechActivity(sampleRate: sampleRate, totalSamples: Int64(samples.count),
                              intervals: intervals(voiced, totalSamples: Int64(samples.count)))
    }

    /// Mean band SNR (dB) per frame.
    func frameScores(_ power: LogMel) -> [Float] {
        let mc = front.config
        let melLow = MelFilterbank.hzToMel(mc.fMin), melHigh = MelFilterbank.hzToMel(mc.fMax)
        let bands = (0..<power.mels).filter { m in
            let centre = MelFilterbank.melToHz(melLow + (melHigh - melLow) * Double(m + 1) / Double(power.mels + 1))
            return centre >= config.bandLow && centre <= config.bandHigh
        }
        let frames = power.frames
        guard frames > 0, !bands.isEmpty else { return [Float](repeating: 0, count: frames) }
        let frameSeconds = Double(mc.hopLength) / Double(mc.sampleRate)
        let block = max(1, Int((0.1 / frameSeconds).rounded()))
        let windowBlocks = max(1, Int((config.noiseWindowSeconds / (Double(block) * frameSeconds)).rounded()))
        let half = config.smoothingFrames / 2
        var scores = [Float](repeating: 0, count: frames)
        var smoothed = [Float](repeating: 0, count: frames)
        let floorValue = Float(mc.amin)
        for m in bands {
            // Moving average over the smoothing window (edges use what exists).
            var running: Float = 0
            var count = 0
            var lo = 0, hi = 0
            for t in 0..<frames {
                while hi < min(frames, t + half + 1) { running += power[hi, m]; hi += 1; count += 1 }
                while lo < t - half { running -= power[lo, m]; lo += 1; count -= 1 }
                smoothed[t] = max(running / Float(count), floorValue)
            }
            // Block minima, then the minimum over the blocks around each frame.
            let blockCount = (frames + block - 1) / block
            var minima = [Float](repeating: .infinity, count: blockCount)
            for t in 0..<frames { minima[t / block] = min(minima[t / block], smoothed[t]) }
            var noise = [Float](repeating: 0, count: blockCount)
            for b in 0..<blockCount {
                let from = max(0, b - windowBlocks / 2), to = min(blockCount, b + windowBlocks / 2 + 1)
                var v = Float.infinity
                for k in from..<to { v = min(v, minima[k]) }
                noise[b] = v * Float(config.noiseBias)
            }
            for t in 0..<frames {
                let snr = 10 * log10f(smoothed[t] / noise[t / block])
                scores[t] += max(0, snr)
            }
        }
        let n = Float(bands.count)
        return scores.map { $0 / n }
    }

    /// Threshold, then bridge short pauses and drop short runs (in frames).
    func decide(_ scores: [Float]) -> [Bool] {
        let frameSeconds = Double(front.config.hopLength) / Double(front.config.sampleRate)
        var voiced = scores.map { Double($0) > config.thresholdDB }
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
