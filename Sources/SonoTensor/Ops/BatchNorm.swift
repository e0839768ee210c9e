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

    /// BN(x), or ReLU(BN(x) + residual) with `residual` and `relu` (either alone too): the
    /// fused form of a residual block's tail, identical in value and gradient to the separate ops.
    public func callAsFunction(_ x: Tensor, adding residual: Tensor? = nil, relu: Bool = false) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == channels, "batch norm of \(channels) channels on \(x.shape)")
        let n = x.shape[0], c = channels, inner = x.shape.dropFirst(2).reduce(1, *)
        let m = n * inner
        var mean = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
        if training {
            precondition(m > 1, "batch norm in training needs more than one value per channel")
            var batchVariance = [Double](repeating: 0, count: c)
            x.data.withUnsafeBufferPointer { xp in
                mean.withUnsafeMutableBufferPointer { mp in invStd.withUnsafeMutableBufferPointer { sp in
                    batchVariance.withUnsafeMutableBufferPointer { vp in
                        Engine.parallelFor(c) { ch in
                            var s: Double = 0
                            for i in 0..<n { let base = (i * c + ch) * inner; for k in 0..<inner { s += Double(xp[base + k]) } }
                            let mu = s / Double(m)
                            var v: Double = 0
                            for i in 0..<n { let base = (i * c + ch) * inner; for k in 0..<inner { let d = Double(xp[base + k]) - mu; v += d * d } }
                            mp[ch] = Float(mu)
                            sp[ch] = Float(1 / (v / Double(m) + Double(epsilon)).squareRoot())
                            vp[ch] = v
                        }
                    }
                } }
            }
            for ch in 0..<c {
                runningMean[ch] = (1 - momentum) * runningMean[ch] + momentum * mean[ch]
                runningVar[ch] = (1 - momentum) * runningVar[ch] + momentum * Float(batchVariance[ch] / Double(m - 1))
            }
        } else {
            for ch in 0..<c { mean[ch] = runningMean[ch]; invStd[ch] = 1 / (runningVar[ch] + epsilon).squareRoot() }
        }
        // x̂ is recomputed in backward from x (kept anyway as the input): one activation-sized
        // array less per batch norm. With `relu` and `residual` fused, the normalised output,
        // the sum and the rectified value share one array, as PyTorch's in-place `+=` and
        // ReLU do, so a conv–BN–(add)–ReLU block keeps what PyTorch keeps.
        if let residual { precondition(residual.shape == x.shape, "residual \(residual.shape) for batch norm of \(x.shape)") }
        let training = self.training, weight = self.weight, bias = self.bias
        var out = [Float](repeating: 0, count: x.count)
        x.data.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in
            let residualData = residual?.data ?? []
            residualData.withUnsafeBufferPointer { rp in
                Engine.parallelFor(c) { ch in
                    let g = weight.data[ch], b = bias.data[ch], mu = mean[ch], s = invStd[ch]
                    for i in 0..<n {
                        let base = (i * c + ch) * inner
                        for k in 0..<inner {
                            var y = g * ((xp[base + k] - mu) * s) + b
                            if !rp.isEmpty { y = y + rp[base + k] }
                            op[base + k] = relu ? Swift.max(y, 0) : y
                        }
                    }
                }
            }
        } }
        let inputs = [x, weight, bias] + (residual.map { [$0] } ?? [])
        let rectified = relu ? out : []
        return Tensor.result("batchnorm", shape: x.shape, data: out, inputs: inputs) { upstream in
            var g = upstream
            if relu {
                g.withUnsafeMutableBufferPointer { gp in rectified.withUnsafeBufferPointer { yp in
                    for k in 0..<gp.count where yp[k] <= 0 { gp[k] = 0 }
                } }
            }
            residual?.accumulate(g)
            var sumG = [Float](repeating: 0, count: c), sumGX = [Float](repeating: 0, count: c)
            var dx = [Float](repeating: 0, count: x.requiresGrad ? x.count : 0)
            x.data.withUnsafeBufferPointer { xp in g.withUnsafeBufferPointer { gp in
                sumG.withUnsafeMutableBufferPointer { sg in sumGX.withUnsafeMutableBufferPointer { sgx in dx.withUnsafeMutableBufferPointer { dp in
                    Engine.parallelFor(c) { ch in
                        let mu = mean[ch], s = invStd[ch]
                        for i in 0..<n {
                            let base = (i * c + ch) * inner
                            var a: Float = 0, b: Float = 0
                            for k in 0..<inner { a += gp[base + k]; b += gp[base + k] * ((xp[base + k] - mu) * s) }
                            sg[ch] += a; sgx[ch] += b
                        }
                        guard !dp.isEmpty else { return }
                        let scale = weight.data[ch] * s, fm = Float(m), sumGc = sg[ch], sumGXc = sgx[ch]
                        for i in 0..<n {
                            let base = (i * c + ch) * inner
                            if training {
                                for k in 0..<inner {
                                    dp[base + k] = scale / fm * (fm * gp[base + k] - sumGc - ((xp[base + k] - mu) * s) * sumGXc)
                                }
                            } else {
                                for k in 0..<inner { dp[base + k] = scale * gp[base + k] }
                            }
                        }
                    }
                } } }
            } }
            if x.requiresGrad { x.accumulate(dx) }
            weight.accumulate(sumGX)
            bias.accumulate(sumG)
        }
    }
}
