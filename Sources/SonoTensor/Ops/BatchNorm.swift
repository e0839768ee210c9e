/// Batch normalisation over dimension 1 of [N, C, …] (BatchNorm1d/2d/3d alike).
///
/// Training: statistics over N and the spatial axes; running mean and (unbiased) variance are
/// updated with `momentum` as PyTorch does. Evaluation: the running statistics.
/// Backward (training): dx = γ·invstd/M · (M·g − Σg − x̂·Σ(g·x̂)), dγ = Σ g·x̂, dβ = Σ g.
public final class BatchNorm: @unchecked Sendable {
    public let channels: Int
    public var momentum: Float
    public var epsilon: Float
    public let weight: Tensor
    public let bias: Tensor
    public var runningMean: [Float]
    public var runningVar: [Float]
    public var training = true

    public init(channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        weight = Tensor(filled: 1, shape: [channels], requiresGrad: true)
        bias = Tensor(zeros: [channels], requiresGrad: true)
        runningMean = [Float](repeating: 0, count: channels)
        runningVar = [Float](repeating: 1, count: channels)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == channels, "batch norm of \(channels) channels on \(x.shape)")
        let n = x.shape[0], c = channels, inner = x.shape.dropFirst(2).reduce(1, *)
        let m = n * inner
        var mean = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
        if training {
            precondition(m > 1, "batch norm in training needs more than one value per channel")
            for ch in 0..<c {
                var s: Double = 0
                for i in 0..<n { let base = (i * c + ch) * inner; for k in 0..<inner { s += Double(x.data[base + k]) } }
                let mu = s / Double(m)
                var v: Double = 0
                for i in 0..<n { let base = (i * c + ch) * inner; for k in 0..<inner { let d = Double(x.data[base + k]) - mu; v += d * d } }
                let biased = v / Double(m)
                mean[ch] = Float(mu)
                invStd[ch] = Float(1 / (biased + Double(epsilon)).squareRoot())
                runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * Float(mu)
                runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * Float(v / Double(m - 1))
            }
        } else {
            for ch in 0..<c { mean[ch] = runningMean[ch]; invStd[ch] = 1 / (runningVar[ch] + epsilon).squareRoot() }
        }
        var xhat = [Float](repeating: 0, count: x.count)
        var out = [Float](repeating: 0, count: x.count)
        for i in 0..<n { for ch in 0..<c {
            let base = (i * c + ch) * inner, g = weight.data[ch], b = bias.data[ch]
            for k in 0..<inner {
                let h = (x.data[base + k] - mean[ch]) * invStd[ch]
                xhat[base + k] = h
                out[base + k] = g * h + b
            }
        } }
        let training = self.training, weight = self.weight, bias = self.bias
        return Tensor.result("batchnorm", shape: x.shape, data: out, inputs: [x, weight, bias]) { g in
            var sumG = [Float](repeating: 0, count: c), sumGX = [Float](repeating: 0, count: c)
            for i in 0..<n { for ch in 0..<c {
                let base = (i * c + ch) * inner
                var a: Float = 0, b: Float = 0
                for k in 0..<inner { a += g[base + k]; b += g[base + k] * xhat[base + k] }
                sumG[ch] += a; sumGX[ch] += b
            } }
            if x.requiresGrad {
                var dx = [Float](repeating: 0, count: x.count)
                for i in 0..<n { for ch in 0..<c {
                    let base = (i * c + ch) * inner, scale = weight.data[ch] * invStd[ch]
                    if training {
                        let fm = Float(m)
                        for k in 0..<inner {
                            dx[base + k] = scale / fm * (fm * g[base + k] - sumG[ch] - xhat[base + k] * sumGX[ch])
                        }
                    } else {
                        for k in 0..<inner { dx[base + k] = scale * g[base + k] }
                    }
                } }
                x.accumulate(dx)
            }
            weight.accumulate(sumGX)
            bias.accumulate(sumG)
        }
    }
}
