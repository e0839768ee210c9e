import Foundation

/// The saliency metrics as the MIT saliency benchmark's MATLAB code defines them
/// (cvzoya/saliency, code_forMetrics: KLdiv.m, similarity.m, NSS.m, CC.m), on maps of the same
/// size (row-major). `prediction` is the model's map, `density` the ground-truth (blurred gaze)
/// map, `fixations` the binary fixation map. eps is MATLAB's eps.
public enum SaliencyMetrics {
    public static let eps = 2.2204e-16

    /// KLdiv.m: both maps sum-normalised (when not all zero); Σ Q · log(eps + Q / (P + eps)).
    /// Lower is better.
    public static func kld(prediction p: [Double], density q: [Double]) -> Double {
        let p = sumNormalised(p), q = sumNormalised(q)
        return zip(p, q).reduce(0) { $0 + $1.1 * log(eps + $1.1 / ($1.0 + eps)) }
    }

    /// similarity.m: each map min-max normalised to [0, 1], then divided by its sum; Σ min.
    /// Range [0, 1], higher is better.
    public static func sim(prediction p: [Double], density q: [Double]) -> Double {
        let p = sumNormalised(minMax(p)), q = sumNormalised(minMax(q))
        return zip(p, q).reduce(0) { $0 + min($1.0, $1.1) }
    }

    /// NSS.m: the prediction z-scored with the sample standard deviation (N − 1), averaged at
    /// the fixations. Higher is better; NaN without fixations.
    public static func nss(prediction p: [Double], fixations: [UInt8]) -> Double {
        let z = zScored(p)
        let at = zip(z, fixations).filter { $0.1 != 0 }.map(\.0)
        return at.isEmpty ? .nan : at.reduce(0, +) / Double(at.count)
    }

    /// CC.m: Pearson correlation of the two maps (corr2 of the z-scored maps).
    public static func cc(prediction p: [Double], density q: [Double]) -> Double {
        let a = zScored(p), b = zScored(q)
        let ab = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        let aa = a.reduce(0) { $0 + $1 * $1 }, bb = b.reduce(0) { $0 + $1 * $1 }
        return ab / (aa * bb).squareRoot()
    }

    static func sumNormalised(_ x: [Double]) -> [Double] {
        let s = x.reduce(0, +)
        return s != 0 ? x.map { $0 / s } : x
    }

    static func minMax(_ x: [Double]) -> [Double] {
        guard let lo = x.min(), let hi = x.max(), hi > lo else { return x.map { _ in 0 } }
        return x.map { ($0 - lo) / (hi - lo) }
    }

    static func zScored(_ x: [Double]) -> [Double] {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let sd = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(1, n - 1)).squareRoot()
        return x.map { ($0 - mean) / sd }
    }
}
