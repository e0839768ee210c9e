import Foundation
import SonoModels
import SonoTensor

/// Cross-modal retrieval over a whole split (not in-batch): for each query its own partner's
/// rank among all candidates by cosine similarity. Ties count half (rank = 1 + #greater +
/// #tied/2), so a collapsed embedding, where every score is equal, ranks at chance, not first.
public struct RetrievalScores: Codable, Equatable, Sendable {
    public var r1: Double, r5: Double, r10: Double
    public var medianRank: Double
    public var count: Int

    enum CodingKeys: String, CodingKey { case r1, r5, r10, medianRank = "median_rank", count }

    /// `queries` and `candidates`: row k of each is clip k, l2-normalised, [N, D] row-major.
    public init(queries: [Float], candidates: [Float], dimension d: Int) {
        let n = queries.count / max(d, 1)
        precondition(candidates.count == n * d, "queries and candidates differ in shape")
        var ranks = [Double](repeating: 0, count: n)
        let chunk = 256
        let candidatesT = GradientMode.withoutGradients { Tensor(shape: [n, d], data: candidates).transposed(0, 1) }
        var first = 0
        while first < n {
            let rows = min(chunk, n - first)
            // scores [rows, n] = queries[first..<first+rows] · candidatesᵀ, a chunk at a time.
            let block = Tensor(shape: [rows, d], data: Array(queries[(first * d)..<((first + rows) * d)]))
            let scores = GradientMode.withoutGradients { block.matmul(candidatesT) }.data
            for r in 0..<rows {
                let k = first + r
                let own = scores[r * n + k]
                var greater = 0, tied = 0
                for j in 0..<n where j != k {
                    let s = scores[r * n + j]
                    if s > own { greater += 1 } else if s == own { tied += 1 }
                }
                ranks[k] = 1 + Double(greater) + Double(tied) / 2
            }
            first += rows
        }
        count = n
        func recall(_ k: Double) -> Double { n == 0 ? 0 : Double(ranks.filter { $0 <= k }.count) / Double(n) }
        r1 = recall(1); r5 = recall(5); r10 = recall(10)
        let sorted = ranks.sorted()
        medianRank = n == 0 ? 0 : (n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2)
    }
}

/// One validation pass: retrieval video→audio and video→image in the MMCL latent and the MMSL
/// embedding over the whole split, and each loss term's mean over its batches.
public struct ValidationReport: Codable, Sendable {
    public var step: Int
    public var clips: Int
    /// "v2a_latent_r1", "v2i_similarity_median_rank", …: see `metricNames`.
    public var metrics: [String: Double]
    public var losses: LossTerms

    /// Every metric name; the higher the better except `*_median_rank` (see `isBetter`).
    public static let metricNames: [String] = ["v2a", "v2i"].flatMap { pair in
        ["latent", "similarity"].flatMap { space in ["r1", "r5", "r10", "median_rank"].map { "\(pair)_\(space)_\($0)" } }
    } + ["loss"]

    static func metrics(_ name: String, _ scores: RetrievalScores) -> [String: Double] {
        ["\(name)_r1": scores.r1, "\(name)_r5": scores.r5, "\(name)_r10": scores.r10, "\(name)_median_rank": scores.medianRank]
    }

    /// "step 900, 94 clips: v→i R@1 0.043 (4.0× chance), median rank 16 (chance 47.5); v→a …", in
    /// the MMCL latent: what a researcher reads first of a run.
    public var summary: String {
        let chance = Double(clips + 1) / 2
        let pairs = [("v→i", "v2i"), ("v→a", "v2a")].compactMap { label, key -> String? in
            guard let r1 = metrics["\(key)_latent_r1"], let rank = metrics["\(key)_latent_median_rank"] else { return nil }
            return String(format: "%@ R@1 %.3f (%.1f× chance), median rank %.1f (chance %.1f)", label, r1, r1 * Double(clips), rank, chance)
        }
        return "step \(step), \(clips) clips: " + (pairs.isEmpty ? "no retrieval" : pairs.joined(separator: "; "))
    }

    /// Whether `value` of `metric` beats `best` (lower is better for ranks and the loss).
    public static func isBetter(_ value: Double, than best: Double?, metric: String) -> Bool {
        guard let best else { return true }
        return metric.hasSuffix("median_rank") || metric == "loss" ? value < best : value > best
    }
}

/// Embeddings of every clip of a split, gathered batch by batch (a clip seen twice, as when
/// the last batch is padded, counts once).
struct EmbeddingTable {
    private(set) var clipIDs: [Int64] = []
    private var seen = Set<Int64>()
    /// Per space ("latent", "similarity") and modality (0 video, 1 audio, 2 image): rows.
    private(set) var rows: [String: [[Float]]] = [:]
    private(set) var dimension: [String: Int] = [:]
    private var lossTerms: [LossTerms] = []

    mutating func add(clipIDs ids: [Int64], latent: [Tensor?], similarity: [Tensor?], losses: LossTerms) {
        let fresh = ids.enumerated().filter { seen.insert($0.element).inserted }.map(\.offset)
        clipIDs += fresh.map { ids[$0] }
        for (space, tensors) in [("latent", latent), ("similarity", similarity)] {
            var modalities = rows[space] ?? Array(repeating: [], count: 3)
            for (m, t) in tensors.enumerated() {
                guard let t else { continue }
                let d = t.shape[1]
                dimension[space] = d
                for i in fresh { modalities[m] += t.data[(i * d)..<((i + 1) * d)] }
            }
            rows[space] = modalities
        }
        lossTerms.append(losses)
    }

    func report(step: Int) -> ValidationReport {
        var metrics: [String: Double] = [:]
        for space in ["latent", "similarity"] {
            guard let modalities = rows[space], let d = dimension[space] else { continue }
            if !modalities[0].isEmpty && modalities[1].count == modalities[0].count {
                metrics.merge(ValidationReport.metrics("v2a_\(space)", RetrievalScores(queries: modalities[0], candidates: modalities[1], dimension: d))) { a, _ in a }
            }
            if !modalities[0].isEmpty && modalities[2].count == modalities[0].count {
                metrics.merge(ValidationReport.metrics("v2i_\(space)", RetrievalScores(queries: modalities[0], candidates: modalities[2], dimension: d))) { a, _ in a }
            }
        }
        let losses = LossTerms.mean(of: lossTerms)
        metrics["loss"] = Double(losses.total)
        return ValidationReport(step: step, clips: clipIDs.count, metrics: metrics, losses: losses)
    }
}
