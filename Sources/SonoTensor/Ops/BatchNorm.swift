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
                            let x0 = xp.baseAddress!
                            var s: Double = 0
                            for i in 0..<n { s += ChannelRun.sum(x0 + (i * c + ch) * inner, inner) }
                            let mu = s / Double(m)
                            var v: Double = 0
                            for i in 0..<n { v += ChannelRun.squaredDeviation(x0 + (i * c + ch) * inner, inner, from: mu) }
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
                        ChannelRun.normalize(xp.baseAddress! + base, into: op.baseAddress! + base, adding: rp.isEmpty ? nil : rp.baseAddress! + base,
                                             inner, mean: mu, invStd: s, weight: g, bias: b, relu: relu)
                    }
                }
            }
        } }
        let inputs = [x, weight, bias] + (residual.map { [$0] } ?? [])
        let rectified = relu ? out : []
        return Tensor.result("batchnorm", shape: x.shape, data: out, inputs: inputs) { upstream in
            // The ReLU's mask is applied channel by channel on the engine's threads, just before
            // the sums that read it; the masked gradient is also the residual's.
            var g = upstream
            var sumG = [Float](repeating: 0, count: c), sumGX = [Float](repeating: 0, count: c)
            var dx = [Float](repeating: 0, count: x.requiresGrad ? x.count : 0)
            x.data.withUnsafeBufferPointer { xp in g.withUnsafeMutableBufferPointer { gp in rectified.withUnsafeBufferPointer { yp in
                sumG.withUnsafeMutableBufferPointer { sg in sumGX.withUnsafeMutableBufferPointer { sgx in dx.withUnsafeMutableBufferPointer { dp in
                    Engine.parallelFor(c) { ch in
                        let mu = mean[ch], s = invStd[ch]
                        for i in 0..<n {
                            let base = (i * c + ch) * inner
                            if relu { ChannelRun.rectify(gp.baseAddress! + base, where: yp.baseAddress! + base, inner) }
                            let (a, b) = ChannelRun.gradientSums(gp.baseAddress! + base, xp.baseAddress! + base, inner, mean: mu, invStd: s)
                            sg[ch] += a; sgx[ch] += b
                        }
                        guard !dp.isEmpty else { return }
                        let scale = weight.data[ch] * s, fm = Float(m), sumGc = sg[ch], sumGXc = sgx[ch]
                        for i in 0..<n {
                            let base = (i * c + ch) * inner
                            if training {
                                ChannelRun.inputGradient(gp.baseAddress! + base, xp.baseAddress! + base, into: dp.baseAddress! + base, inner,
                                                         mean: mu, invStd: s, scale: scale, count: fm, sumG: sumGc, sumGX: sumGXc)
                            } else {
                                for k in 0..<inner { dp[base + k] = scale * gp[base + k] }
                            }
                        }
                    }
                } } }
            } } }
            residual?.accumulate(g)
            if x.requiresGrad { x.accumulate(dx) }
            weight.accumulate(sumGX)
            bias.accumulate(sumG)
        }
    }
}

/// The sums over one channel's contiguous run of values that batch norm needs, in eight
/// interleaved partial sums (SIMD lanes) so the loops vectorise instead of waiting on one
/// accumulator. The order depends on the run alone, never on the thread count.
enum ChannelRun {
    typealias Lanes = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ k: Int) -> Lanes {
        UnsafeRawPointer(p + k).loadUnaligned(as: Lanes.self)
    }

    /// Σ x, in Double.
    static func sum(_ x: UnsafePointer<Float>, _ count: Int) -> Double {
        var acc = SIMD8<Double>(), k = 0
        while k + 8 <= count { acc += SIMD8<Double>(load(x, k)); k += 8 }
        var s = acc.sum()
        while k < count { s += Double(x[k]); k += 1 }
        return s
    }

    /// Σ (x − µ)², in Double.
    static func squaredDeviation(_ x: UnsafePointer<Float>, _ count: Int, from mu: Double) -> Double {
        var acc = SIMD8<Double>(), k = 0
        let m = SIMD8<Double>(repeating: mu)
        while k + 8 <= count { let d = SIMD8<Double>(load(x, k)) - m; acc += d * d; k += 8 }
        var s = acc.sum()
        while k < count { let d = Double(x[k]) - mu; s += d * d; k += 1 }
        return s
    }

    @inline(__always) static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, _ k: Int) {
        UnsafeMutableRawPointer(p + k).storeBytes(of: v, as: Lanes.self)
    }

    /// out = γ·x̂ + β (+ r), then max(·, 0) with `relu` (as `Swift.max`: −0 and negatives give 0, NaN stays).
    static func normalize(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, adding r: UnsafePointer<Float>?,
                          _ count: Int, mean mu: Float, invStd s: Float, weight g: Float, bias b: Float, relu: Bool) {
        let m = Lanes(repeating: mu), sv = Lanes(repeating: s), gv = Lanes(repeating: g), bv = Lanes(repeating: b)
        var k = 0
        while k + 8 <= count {
            var y = gv * ((load(x, k) - m) * sv) + bv
            if let r { y = y + load(r, k) }
            if relu { y.replace(with: 0, where: y .<= 0) }
            store(y, out, k)
            k += 8
        }
        while k < count {
            var y = g * ((x[k] - mu) * s) + b
            if let r { y = y + r[k] }
            out[k] = relu ? Swift.max(y, 0) : y
            k += 1
        }
    }

    /// g = 0 where the rectified output y ≤ 0 (the ReLU's backward, in place).
    static func rectify(_ g: UnsafeMutablePointer<Float>, where y: UnsafePointer<Float>, _ count: Int) {
        var k = 0
        while k + 8 <= count {
            var gv = load(g, k)
            gv.replace(with: 0, where: load(y, k) .<= 0)
            store(gv, g, k)
            k += 8
        }
        while k < count { if y[k] <= 0 { g[k] = 0 }; k += 1 }
    }

    /// dx = γ·invStd/M · (M·g − Σg − x̂·Σ(g·x̂)), the training-mode input gradient.
    static func inputGradient(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, _ count: Int,
                              mean mu: Float, invStd s: Float, scale: Float, count fm: Float, sumG: Float, sumGX: Float) {
        let m = Lanes(repeating: mu), sv = Lanes(repeating: s), f = Lanes(repeating: scale / fm), mv = Lanes(repeating: fm)
        let sg = Lanes(repeating: sumG), sgx = Lanes(repeating: sumGX)
        var k = 0
        while k + 8 <= count {
            store(f * (mv * load(g, k) - sg - ((load(x, k) - m) * sv) * sgx), dx, k)
            k += 8
        }
        while k < count { dx[k] = scale / fm * (fm * g[k] - sumG - ((x[k] - mu) * s) * sumGX); k += 1 }
    }

    /// (Σ g, Σ g·x̂) with x̂ = (x − µ)·invStd.
    static func gradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                             mean mu: Float, invStd s: Float) -> (Float, Float) {
        var a = Lanes(), b = Lanes(), k = 0
        let m = Lanes(repeating: mu), sv = Lanes(repeating: s)
        while k + 8 <= count {
            let gv = load(g, k)
            a += gv
            b += gv * ((load(x, k) - m) * sv)
            k += 8
        }
        var sa = a.sum(), sb = b.sum()
        while k < count { sa += g[k]; sb += g[k] * ((x[k] - mu) * s); k += 1 }
        return (sa, sb)
    }
}
