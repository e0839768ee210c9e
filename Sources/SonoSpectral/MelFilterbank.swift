import CSonoKernels
import Foundation

/// librosa's `filters.mel` with `htk=False, norm='slaney'`: triangles on the Slaney mel scale,
/// each scaled by 2 / (f[m+1] − f[m−1]) (area normalisation). Stored sparsely: each filter is
/// non-zero over a few consecutive FFT bins, so applying it costs ~2 multiply-adds per bin.
struct MelFilterbank: Sendable {
    struct Filter: Sendable {
        var firstBin: Int
        var weights: [Float]
    }

    let filters: [Filter]
    let bins: Int

    init(sampleRate: Int, fftSize: Int, melBins: Int, fMin: Double, fMax: Double) {
        let bins = fftSize / 2 + 1
        self.bins = bins
        let melMin = Self.hzToMel(fMin), melMax = Self.hzToMel(fMax)
        let points = (0..<(melBins + 2)).map { i -> Double in
            Self.melToHz(melMin + (melMax - melMin) * Double(i) / Double(melBins + 1))
        }
        let binHz = (0..<bins).map { Double($0) * Double(sampleRate) / 2 / Double(bins - 1) }
        var filters: [Filter] = []
        for m in 0..<melBins {
            let lo = points[m], mid = points[m + 1], hi = points[m + 2]
            let norm = 2.0 / (hi - lo)
            var first = -1
            var weights: [Float] = []
            for k in 0..<bins {
                let lower = (binHz[k] - lo) / (mid - lo)
                let upper = (hi - binHz[k]) / (hi - mid)
                let w = max(0, min(lower, upper))
                if w > 0 {
                    if first < 0 { first = k }
                    // librosa stores the triangle as float32, then scales it (float32 result).
                    weights.append(Float(Double(Float(w)) * norm))
                } else if first >= 0 {
                    break
                }
            }
            filters.append(Filter(firstBin: max(first, 0), weights: weights))
        }
        self.filters = filters
    }

    /// Slaney's scale (librosa `hz_to_mel`, htk=False): linear below 1 kHz, logarithmic above.
    static func hzToMel(_ f: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return f >= minLogHz ? minLogMel + log(f / minLogHz) / logStep : f / fSp
    }

    static func melToHz(_ m: Double) -> Double {
        let fSp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fSp, logStep = log(6.4) / 27
        return m >= minLogMel ? minLogHz * exp(logStep * (m - minLogMel)) : fSp * m
    }

    /// All filters' weights in one buffer, with where each starts: what the inner loop reads.
    final class Packed {
        let count: Int
        let weights: UnsafeMutablePointer<Float>
        let offsets: UnsafeMutablePointer<Int>
        let firstBins: UnsafeMutablePointer<Int>

        init(_ bank: MelFilterbank) {
            count = bank.filters.count
            let total = bank.filters.reduce(0) { $0 + $1.weights.count }
            weights = .allocate(capacity: max(total, 1))
            offsets = .allocate(capacity: count + 1)
            firstBins = .allocate(capacity: max(count, 1))
            var at = 0
            for (m, f) in bank.filters.enumerated() {
                offsets[m] = at
                firstBins[m] = f.firstBin
                for w in f.weights { weights[at] = w; at += 1 }
            }
            offsets[count] = at
        }

        deinit {
            weights.deallocate(); offsets.deallocate(); firstBins.deallocate()
        }

        /// mel[m] = Σ_k filter[m][k] · spectrum[k].
        @inline(__always)
        func apply(_ spectrum: UnsafePointer<Float>, into mel: UnsafeMutablePointer<Float>) {
            sono_mel_apply(spectrum, weights, offsets, firstBins, count, mel)
        }
    }
}
