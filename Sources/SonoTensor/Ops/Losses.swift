import Foundation

/// Log-softmax, cross-entropy, binary cross-entropy, KL divergence, L2 normalisation, dropout.
public enum Reduction: Sendable, Equatable { case mean, sum, batchMean }

extension Tensor {
    /// log softmax over the last axis of [N, C].
    public func logSoftmax() -> Tensor {
        precondition(rank == 2, "logSoftmax on [N, C]")
        let (n, c) = (shape[0], shape[1])
        var out = [Float](repeating: 0, count: count)
        for i in 0..<n {
            let row = data[(i * c)..<((i + 1) * c)]
            let m = row.max() ?? 0
            var s: Double = 0
            for v in row { s += exp(Double(v - m)) }
            let lse = m + Float(log(s))
            for j in 0..<c { out[i * c + j] = data[i * c + j] - lse }
        }
        return Tensor.result("log_softmax", shape: shape, data: out, inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for i in 0..<n {
                var s: Float = 0
                for j in 0..<c { s += g[i * c + j] }
                for j in 0..<c { dx[i * c + j] = g[i * c + j] - expf(out[i * c + j]) * s }
            }
            accumulate(dx)
        }
    }

    /// Mean cross-entropy of logits [N, C] against class indices; with `classWeights` ([C]) the
    /// weighted mean, Σ w_tᵢ·(−log pᵢ,tᵢ) / Σ w_tᵢ, as PyTorch's `cross_entropy(weight=)`.
    public func crossEntropy(targets: [Int], classWeights: [Float]? = nil) -> Tensor {
        precondition(rank == 2 && targets.count == shape[0], "cross-entropy: \(targets.count) targets for \(shape)")
        let c = shape[1]
        precondition(classWeights.map { $0.count == c } ?? true, "cross-entropy: \(classWeights?.count ?? 0) class weights for \(c) classes")
        let logp = logSoftmax()
        let w = targets.map { classWeights?[$0] ?? 1 }
        let total = w.reduce(0, +)
        let picked = Tensor.result("nll", shape: [1],
                                   data: [-targets.enumerated().reduce(Float(0)) { $0 + w[$1.offset] * logp.data[$1.offset * c + $1.element] } / total],
                                   inputs: [logp]) { g in
            var d = [Float](repeating: 0, count: logp.count)
            for (i, t) in targets.enumerated() { d[i * c + t] = -g[0] * w[i] / total }
            logp.accumulate(d)
        }
        return picked
    }

    /// Mean binary cross-entropy of probabilities (logs clamped at −100, as PyTorch does).
    public func binaryCrossEntropy(targets: Tensor) -> Tensor {
        precondition(shape == targets.shape, "BCE shapes")
        let n = Float(count)
        var loss: Float = 0
        for i in 0..<count {
            let p = data[i], y = targets.data[i]
            loss -= y * Swift.max(logf(p), -100) + (1 - y) * Swift.max(logf(1 - p), -100)
        }
        return Tensor.result("bce", shape: [1], data: [loss / n], inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for i in 0..<count {
                let p = data[i], y = targets.data[i]
                dx[i] = g[0] / n * (p - y) / Swift.max(p * (1 - p), 1e-12)
            }
            accumulate(dx)
        }
    }

    /// Mean binary cross-entropy of logits, computed stably (= BCE(sigmoid(x))).
    public func binaryCrossEntropyWithLogits(targets: Tensor) -> Tensor {
        precondition(shape == targets.shape, "BCE shapes")
        let n = Float(count)
        var loss: Float = 0
        for i in 0..<count {
            let x = data[i], y = targets.data[i]
            loss += Swift.max(x, 0) - x * y + log1pf(expf(-abs(x)))
        }
        return Tensor.result("bce_logits", shape: [1], data: [loss / n], inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for i in 0..<count { dx[i] = g[0] / n * (1 / (1 + expf(-data[i])) - targets.data[i]) }
            accumulate(dx)
        }
    }

    /// PyTorch's `kl_div(input=self (log-probabilities), target)`: Σ target · (log target − input),
    /// terms with target = 0 count 0; reduced by `reduction` (batchMean divides by N = shape[0]).
    public func klDivergence(target: Tensor, reduction: Reduction = .batchMean) -> Tensor {
        precondition(shape == target.shape, "KL shapes")
        var total: Float = 0
        for i in 0..<count where target.data[i] > 0 { total += target.data[i] * (logf(target.data[i]) - data[i]) }
        let divisor: Float = reduction == .sum ? 1 : reduction == .mean ? Float(count) : Float(shape[0])
        return Tensor.result("kl_div", shape: [1], data: [total / divisor], inputs: [self]) { [self] g in
            accumulate(target.data.map { -$0 * g[0] / divisor })
        }
    }

    /// x / max(‖x‖₂, ε) along dimension 1 of [N, D] (PyTorch's F.normalize).
    public func l2Normalized(epsilon: Float = 1e-12) -> Tensor {
        precondition(rank == 2, "l2Normalized on [N, D]")
        let (n, d) = (shape[0], shape[1])
        var norms = [Float](repeating: 0, count: n)
        var out = data
        for i in 0..<n {
            var s: Float = 0
            for j in 0..<d { s += data[i * d + j] * data[i * d + j] }
            norms[i] = Swift.max(s.squareRoot(), epsilon)
            for j in 0..<d { out[i * d + j] /= norms[i] }
        }
        return Tensor.result("l2norm", shape: shape, data: out, inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for i in 0..<n {
                var dot: Float = 0
                for j in 0..<d { dot += g[i * d + j] * out[i * d + j] }
                let clamped = norms[i] == epsilon
                for j in 0..<d {
                    dx[i * d + j] = clamped ? g[i * d + j] / norms[i] : (g[i * d + j] - out[i * d + j] * dot) / norms[i]
                }
            }
            accumulate(dx)
        }
    }

    /// Inverted dropout: zeroes each value with probability p and scales the rest by 1/(1−p).
    public func dropout(_ p: Float, training: Bool, seed: UInt64) -> Tensor {
        guard training, p > 0 else { return self }
        precondition(p < 1, "dropout probability must be < 1")
        var rng = SplitMix(seed: seed)
        let keep = (0..<count).map { _ in Float(rng.unit()) >= p ? 1 / (1 - p) : 0 }
        return Tensor.result("dropout", shape: shape, data: Swift.zip(data, keep).map { $0 * $1 }, inputs: [self]) { [self] g in
            accumulate(Swift.zip(g, keep).map { $0 * $1 })
        }
    }
}

extension Tensor {
    /// VSE++'s max-violation triplet ranking loss on a score matrix S [N, N] (S[k, j] = s(x_k, y_j),
    /// positives on the diagonal): Σ_k max_{j≠k} [α − S_kk + S_kj]₊ + max_{j≠k} [α − S_kk + S_jk]₊
    /// (fartashf/vsepp ContrastiveLoss with max_violation). `.mean` divides by N; `.sum` is VSE++'s.
    public func maxViolationRankingLoss(margin: Float, reduction: Reduction = .sum) -> Tensor {
        precondition(rank == 2 && shape[0] == shape[1] && shape[0] > 1, "ranking loss needs a square score matrix, got \(shape)")
        let n = shape[0]
        var total: Float = 0
        var rowArg = [Int](repeating: -1, count: n), colArg = [Int](repeating: -1, count: n)
        var rowCost = [Float](repeating: 0, count: n), colCost = [Float](repeating: 0, count: n)
        for k in 0..<n {
            let d = data[k * n + k]
            for j in 0..<n where j != k {
                let a = margin - d + data[k * n + j]   // y_j ranked against x_k's positive
                if a > rowCost[k] { rowCost[k] = a; rowArg[k] = j }
                let b = margin - d + data[j * n + k]   // x_j ranked against y_k's positive
                if b > colCost[k] { colCost[k] = b; colArg[k] = j }
            }
            total += rowCost[k] + colCost[k]
        }
        let divisor: Float = reduction == .sum ? 1 : Float(n)
        return Tensor.result("vse_max_violation", shape: [1], data: [total / divisor], inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            let scale = g[0] / divisor
            for k in 0..<n {
                if rowArg[k] >= 0 { dx[k * n + rowArg[k]] += scale; dx[k * n + k] -= scale }
                if colArg[k] >= 0 { dx[colArg[k] * n + k] += scale; dx[k * n + k] -= scale }
            }
            accumulate(dx)
        }
    }

    /// VSE++'s ranking loss without max violation (fartashf/vsepp ContrastiveLoss,
    /// max_violation=False): Σ_k Σ_{j≠k} [α − S_kk + S_kj]₊ + [α − S_kk + S_jk]₊, every negative
    /// counted; `.mean` divides by N (not by N(N−1)), as for the max-violation form.
    public func sumViolationRankingLoss(margin: Float, reduction: Reduction = .sum) -> Tensor {
        precondition(rank == 2 && shape[0] == shape[1] && shape[0] > 1, "ranking loss needs a square score matrix, got \(shape)")
        let n = shape[0]
        var total: Float = 0
        var row = [Bool](repeating: false, count: count), col = [Bool](repeating: false, count: count)
        for k in 0..<n {
            let d = data[k * n + k]
            for j in 0..<n where j != k {
                let a = margin - d + data[k * n + j]
                if a > 0 { total += a; row[k * n + j] = true }
                let b = margin - d + data[j * n + k]
                if b > 0 { total += b; col[j * n + k] = true }
            }
        }
        let divisor: Float = reduction == .sum ? 1 : Float(n)
        return Tensor.result("vse_sum_violation", shape: [1], data: [total / divisor], inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            let scale = g[0] / divisor
            for k in 0..<n {
                for j in 0..<n where j != k {
                    if row[k * n + j] { dx[k * n + j] += scale; dx[k * n + k] -= scale }
                    if col[j * n + k] { dx[j * n + k] += scale; dx[k * n + k] -= scale }
                }
            }
            accumulate(dx)
        }
    }
}
