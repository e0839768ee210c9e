import Foundation
import SonoModels
import SonoTensor

/// What tells, during a run, whether the objective is learning or has found a trivial
/// solution (docs/training.md, "Diagnostics"):
/// - each loss term's gap to its trivial value: ln B for an InfoNCE term (every similarity
///   equal), 2·B·α for a VSE++ pair summed over the batch (2·α with `mean`);
/// - the spread of each latent over the batch: mean pairwise cosine (→ 1 when collapsed),
///   mean per-dimension standard deviation, and effective rank (exp of the entropy of the
///   normalised eigenvalues of the batch's Gram matrix; 1 when every row is the same);
/// - each encoder's gradient norm.
public struct TrainingDiagnostics: Codable, Sendable, Equatable {
    public struct Spread: Codable, Sendable, Equatable {
        public var meanCosine: Double
        public var meanStd: Double
        public var effectiveRank: Double

        enum CodingKeys: String, CodingKey { case meanCosine = "mean_cosine", meanStd = "mean_std", effectiveRank = "effective_rank" }
    }

    /// Term − trivial value, by the term's log name (negative: better than trivial).
    public var gapToTrivial: [String: Double] = [:]
    /// By latent: "v", "a", "i".
    public var spread: [String: Spread] = [:]
    /// By encoder and head group: "video", "image", "audio", "heads".
    public var gradientNorm: [String: Double] = [:]

    enum CodingKeys: String, CodingKey { case gapToTrivial = "gap_to_trivial", spread, gradientNorm = "gradient_norm" }

    /// The gaps of `terms` for batch size `b` under `objective`.
    static func gaps(_ terms: LossTerms, batch b: Int, objective: DualObjectiveConfig) -> [String: Double] {
        let nce = log(Double(b))
        let negatives = objective.maxViolation ? 1 : Double(b - 1)  // the hardest, or all (the warm-up)
        let rank = 2 * Double(b) * negatives * Double(objective.margin) / (objective.rankingReduction == .sum ? 1 : Double(b))
        var gaps: [String: Double] = [:]
        for (name, value) in terms.named {
            // InfoNCE terms against ln B, ranking terms against their all-equal value; no trivial value for the rest.
            guard let value, let trivial = name.hasPrefix("nce_") ? nce : name.hasPrefix("rank_") ? rank : nil else { continue }
            gaps[name] = Double(value) - trivial
        }
        return gaps
    }

    /// The spread of the rows of an [N, D] tensor.
    static func spread(_ z: Tensor) -> Spread {
        let n = z.shape[0], d = z.shape[1]
        var unit = z.data.map(Double.init)
        for i in 0..<n {
            let norm = max(1e-12, (0..<d).reduce(0.0) { $0 + unit[i * d + $1] * unit[i * d + $1] }.squareRoot())
            for j in 0..<d { unit[i * d + j] /= norm }
        }
        var gram = [Double](repeating: 0, count: n * n)
        for a in 0..<n { for b in a..<n {
            var dot = 0.0
            for j in 0..<d { dot += unit[a * d + j] * unit[b * d + j] }
            gram[a * n + b] = dot; gram[b * n + a] = dot
        } }
        var cosine = 0.0
        for a in 0..<n { for b in 0..<n where a != b { cosine += gram[a * n + b] } }
        cosine /= Double(max(1, n * (n - 1)))
        var std = 0.0
        for j in 0..<d {
            let column = (0..<n).map { Double(z.data[$0 * d + j]) }
            let mean = column.reduce(0, +) / Double(n)
            std += (column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, n - 1))).squareRoot()
        }
        let eigen = SymmetricEigen.values(gram, n: n).map { max(0, $0) }
        let total = eigen.reduce(0, +)
        let entropy = total > 0 ? -eigen.map { $0 / total }.filter { $0 > 0 }.map { $0 * log($0) }.reduce(0, +) : 0
        return Spread(meanCosine: cosine, meanStd: std / Double(d), effectiveRank: exp(entropy))
    }

    /// The L2 norm of the gradients of `parameters`.
    static func gradientNorm(_ parameters: [(String, Tensor)]) -> Double {
        var total = 0.0
        for (_, p) in parameters { for g in p.grad ?? [] { total += Double(g) * Double(g) } }
        return total.squareRoot()
    }
}

/// Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations (the batch's Gram matrix:
/// n is the batch size, so n³ per sweep is nothing).
enum SymmetricEigen {
    static func values(_ matrix: [Double], n: Int, sweeps: Int = 50) -> [Double] {
        var a = matrix
        for _ in 0..<sweeps {
            var off = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { off += a[p * n + q] * a[p * n + q] } }
            if off < 1e-22 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) where abs(a[p * n + q]) > 1e-300 {
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                }
            }
        }
        return (0..<n).map { a[$0 * n + $0] }
    }
}
