import XCTest
@testable import SonoTensor

/// Every operation's gradient against central finite differences of L = Σ f(x)·R, R random.
final class GradientCheckTests: XCTestCase {
    /// Checks ∂L/∂input for up to `samples` elements of each input that requires a gradient.
    func check(_ name: String, _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 1e-2, samples: Int = 24,
               file: StaticString = #filePath, line: UInt = #line, _ f: () -> Tensor) {
        let probe = GradientMode.withoutGradients { f() }
        let r = Tensor(randomUniform: probe.shape, low: -1, high: 1, seed: 99)
        func loss() -> Float { GradientMode.withoutGradients { zip(f().data, r.data).reduce(0) { $0 + $1.0 * $1.1 } } }
        for t in inputs { t.zeroGrad() }
        let out = f()
        (out * r).sum().backward()
        for (k, t) in inputs.enumerated() where t.requiresGrad {
            guard let analytic = t.grad else { return XCTFail("\(name): input \(k) has no gradient", file: file, line: line) }
            let step = max(1, t.count / samples)
            for i in Swift.stride(from: 0, to: t.count, by: step) {
                let saved = t.data[i]
                t.data[i] = saved + epsilon
                let up = loss()
                t.data[i] = saved - epsilon
                let down = loss()
                t.data[i] = saved
                let numeric = (up - down) / (2 * epsilon)
                let scale = max(1, abs(numeric), abs(analytic[i]))
                XCTAssertLessThanOrEqual(abs(numeric - analytic[i]), tolerance * scale,
                                         "\(name): input \(k)[\(i)] analytic \(analytic[i]) numeric \(numeric)", file: file, line: line)
            }
        }
    }

    func param(_ shape: [Int], _ seed: UInt64, std: Float = 0.5) -> Tensor {
        Tensor(randomNormal: shape, std: std, seed: seed, requiresGrad: true)
    }

    /// Distinct values at least 0.05 apart (no ties or kinks within ε).
    func spaced(_ shape: [Int], _ seed: UInt64) -> Tensor {
        let n = shape.reduce(1, *)
        var rng = SplitMix(seed: seed)
        var values = (0..<n).map { Float($0) * 0.05 - Float(n) * 0.025 + 0.0123 }
        for i in stride(from: n - 1, to: 0, by: -1) { values.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
        return Tensor(shape: shape, data: values, requiresGrad: true)
    }

    /// Turning gradients off on one thread leaves another thread recording.
    func testGradientModeBelongsToTheThread() {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let inside = DispatchSemaphore(value: 0), checked = DispatchSemaphore(value: 0)
        let other = Thread {
            GradientMode.withoutGradients {
                inside.signal()
                checked.wait()
            }
        }
        other.start()
        inside.wait()
        XCTAssertTrue((x * x).requiresGrad, "recording stopped on a thread that did not ask")
        checked.signal()
        XCTAssertFalse(GradientMode.withoutGradients { x * x }.requiresGrad)
    }

    func testElementwiseAndShape() {
        let a = param([2, 3, 4], 1), b = param([2, 3, 4], 2)
        check("add", [a, b]) { a + b }
        check("sub", [a, b]) { a - b }
        check("mul", [a, b]) { a * b }
        check("scale", [a]) { a.scaled(by: -1.7) }
        check("sigmoid", [a]) { a.sigmoid() }
        let s = spaced([2, 3, 4], 3)
        check("relu", [s]) { s.relu() }
        check("reshape", [a]) { a.reshaped([6, 4]) }
        check("transpose", [a]) { a.transposed(0, 2) }
        check("permute", [a]) { a.permuted([2, 0, 1]) }
        check("concat", [a, b]) { Tensor.concat([a, b, a], axis: 1) }
        let bias = param([3], 4)
        check("channel bias", [a, bias]) { a.addingChannelBias(bias) }
    }

    func testLinearAndMatmul() {
        let x = param([5, 7], 1), w = param([3, 7], 2), b = param([3], 3), m = param([7, 4], 4)
        check("matmul", [x, m]) { x.matmul(m) }
        check("linear", [x, w, b]) { x.linear(weight: w, bias: b) }
        check("linear no bias", [x, w]) { x.linear(weight: w, bias: nil) }
    }

    func testConvolutions() {
        let x3 = param([2, 3, 4, 6, 5], 1), w3 = param([4, 3, 2, 3, 3], 2, std: 0.3), b3 = param([4], 3)
        check("conv3d", [x3, w3, b3]) { x3.conv3d(weight: w3, bias: b3, stride: (1, 2, 1), padding: (1, 1, 0)) }
        let wSpatial = param([4, 3, 1, 3, 3], 4, std: 0.3), wTemporal = param([2, 3, 3, 1, 1], 5, std: 0.3)
        check("conv3d (1,k,k) stride 2", [x3, wSpatial]) { x3.conv3d(weight: wSpatial, stride: (1, 2, 2), padding: (0, 1, 1)) }
        check("conv3d (k,1,1)", [x3, wTemporal]) { x3.conv3d(weight: wTemporal, stride: (2, 1, 1), padding: (1, 0, 0)) }
        let w1 = param([5, 3, 1, 1, 1], 6)
        check("conv3d 1x1x1", [x3, w1]) { x3.conv3d(weight: w1) }
        check("conv3d 1x1x1 stride 2", [x3, w1]) { x3.conv3d(weight: w1, stride: (2, 2, 2)) }
        let x2 = param([2, 3, 7, 6], 7), w2 = param([4, 3, 3, 3], 8, std: 0.3)
        check("conv2d", [x2, w2]) { x2.conv2d(weight: w2, stride: (2, 1), padding: (1, 1)) }
        let x1 = param([2, 3, 9], 9), w1d = param([2, 3, 3], 10)
        check("conv1d", [x1, w1d]) { x1.conv1d(weight: w1d, stride: 2, padding: 1) }
    }

    func testBatchNorm() {
        for shape in [[6, 3], [4, 3, 5], [2, 3, 4, 4], [2, 3, 2, 3, 3]] {
            let x = param(shape, 1, std: 1)
            let bn = BatchNorm(channels: 3)
            bn.weight.data = [0.5, 1.5, -1]
            bn.bias.data = [0.1, -0.2, 0.3]
            check("batchnorm train \(shape)", [x, bn.weight, bn.bias], epsilon: 1e-2, tolerance: 2e-2) { bn(x) }
            bn.training = false
            check("batchnorm eval \(shape)", [x, bn.weight, bn.bias]) { bn(x) }
        }
    }

    /// ReLU(BN(x) + r), fused, against finite differences, and bit for bit against the separate
    /// ops it replaces in the residual blocks (value and every gradient; train and eval).
    func testFusedBatchNormResidualReLU() {
        for shape in [[4, 3, 5], [2, 3, 2, 3, 3]] {
            for training in [true, false] {
                let x = param(shape, 1, std: 1), r = param(shape, 2, std: 1)
                let bn = BatchNorm(channels: 3)
                bn.weight.data = [0.5, 1.5, -1]
                bn.bias.data = [0.1, -0.2, 0.3]
                bn.training = training
                check("batchnorm+add+relu \(shape) training \(training)", [x, r, bn.weight, bn.bias], epsilon: 1e-3, tolerance: 3e-2) {
                    bn(x, adding: r, relu: true)
                }
                let weights = Tensor(randomUniform: shape, low: -1, high: 1, seed: 7)
                func run(_ f: () -> Tensor) -> [[Float]] {
                    for t in [x, r, bn.weight, bn.bias] { t.zeroGrad() }
                    let y = f()
                    (y * weights).sum().backward()
                    return [y.data] + [x, r, bn.weight, bn.bias].map { $0.grad ?? [] }
                }
                let fused = run { bn(x, adding: r, relu: true) }, separate = run { (bn(x) + r).relu() }
                XCTAssertEqual(fused, separate, "fused batch norm differs from BN, add, ReLU (\(shape), training \(training))")
                XCTAssertEqual(run { bn(x, relu: true) }, run { bn(x).relu() }, "fused batch norm differs from BN, ReLU")
            }
        }
    }

    func testPooling() {
        let x = spaced([2, 2, 4, 6, 6], 1)
        check("maxpool3d", [x]) { x.maxPool3d(kernel: (2, 3, 3), stride: (2, 2, 2), padding: (0, 1, 1)) }
        check("avgpool3d", [x]) { x.avgPool3d(kernel: (2, 2, 2), stride: (1, 2, 2), padding: (1, 0, 1)) }
        let x2 = spaced([2, 3, 7, 7], 2)
        check("maxpool2d", [x2]) { x2.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        check("avgpool2d", [x2]) { x2.avgPool2d(kernel: (2, 2)) }
        check("adaptive avg 3d", [x]) { x.adaptiveAvgPool([3, 4, 5]) }
        check("adaptive avg 2d", [x2]) { x2.adaptiveAvgPool([3, 2]) }
        check("global avg", [x]) { x.globalAvgPool() }
    }

    /// Nearest upsampling: every output is its block's input (PyTorch's `interpolate(mode="nearest")`),
    /// and the gradient against finite differences.
    func testNearestUpsampling() {
        let x = spaced([2, 3, 3, 5], 3)
        let y = x.upsampledNearest(scale: 2)
        XCTAssertEqual(y.shape, [2, 3, 6, 10])
        for p in 0..<6 { for oy in 0..<6 { for ox in 0..<10 {
            XCTAssertEqual(y.data[(p * 6 + oy) * 10 + ox], x.data[(p * 3 + oy / 2) * 5 + ox / 2])
        } } }
        check("upsample nearest ×2", [x]) { x.upsampledNearest(scale: 2) }
        check("upsample nearest ×3", [x]) { x.upsampledNearest(scale: 3) }
    }

    func testReductions() {
        let x = spaced([3, 4, 5], 1)
        check("sum", [x]) { x.sum() }
        check("mean", [x]) { x.mean() }
        check("mean axis 1", [x]) { x.mean(axis: 1) }
        check("max axis 2", [x]) { x.max(axis: 2) }
    }

    func testLosses() {
        let logits = param([4, 5], 1, std: 1)
        check("log softmax", [logits]) { logits.logSoftmax() }
        check("cross entropy", [logits]) { logits.crossEntropy(targets: [0, 3, 4, 1]) }
        let z = param([3, 4], 2, std: 1)
        let y = Tensor(randomUniform: [3, 4], low: 0, high: 1, seed: 3)
        check("bce with logits", [z]) { z.binaryCrossEntropyWithLogits(targets: y) }
        let p = Tensor(randomUniform: [3, 4], low: 0.1, high: 0.9, seed: 4, requiresGrad: true)
        check("bce", [p], epsilon: 1e-3) { p.binaryCrossEntropy(targets: y) }
        let target = Tensor(shape: [2, 3], data: [0.2, 0.3, 0.5, 0.6, 0.0, 0.4])
        let logq = param([2, 3], 5)
        check("kl div", [logq]) { logq.klDivergence(target: target) }
        let v = param([4, 6], 6, std: 1)
        check("l2 normalize", [v]) { v.l2Normalized() }
        check("dropout", [v]) { v.dropout(0.3, training: true, seed: 7) }
        check("sigmoid + bce", [z]) { z.sigmoid().binaryCrossEntropy(targets: y) }
    }

    /// The tape is released after backward (activations freed), and leaves keep their gradients.
    func testTapeIsReleasedAfterBackward() {
        let w = param([3, 3], 1)
        let x = Tensor(randomNormal: [2, 3], seed: 2)
        let h = x.linear(weight: w, bias: nil).relu()
        let loss = h.sum()
        loss.backward()
        XCTAssertNil(h.node)
        XCTAssertNil(loss.node)
        XCTAssertNotNil(w.grad)
        XCTAssertNil(h.grad, "intermediate gradients are dropped")
        let frozen = GradientMode.withoutGradients { x.linear(weight: w, bias: nil) }
        XCTAssertFalse(frozen.requiresGrad)
    }
}
