import Foundation
import XCTest
import SonoCore
@testable import SonoTensor

/// Forward and backward against PyTorch (vectors made by scripts/reference/make_torch_goldens.py,
/// in float64 and stored as float32): within 1e-4 of the golden's magnitude.
final class TorchGoldenTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

    func load(_ case_: String, _ name: String) throws -> NPYArray {
        try NPYArray.read(Self.folder.appendingPathComponent("\(case_).\(name).npy").path)
    }

    func tensor(_ case_: String, _ name: String, grad: Bool = true) throws -> Tensor {
        let a = try load(case_, name)
        return Tensor(shape: a.shape, data: a.floats, requiresGrad: grad)
    }

    func assertClose(_ ours: [Float], _ golden: NPYArray, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let g = golden.floats
        XCTAssertEqual(ours.count, g.count, what, file: file, line: line)
        let scale = max(1, g.map(abs).max() ?? 0)
        let worst = zip(ours, g).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(what): max |Δ| \(worst) (scale \(scale))", file: file, line: line)
    }

    /// Runs `f`, backpropagates Σ out·R, and compares the output and each input's gradient.
    func run(_ case_: String, inputs: [String], file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) throws {
        let ts = try inputs.map { try tensor(case_, $0) }
        let out = f(ts)
        assertClose(out.data, try load(case_, "out"), "\(case_) forward", file: file, line: line)
        let r = try load(case_, "r")
        out.backward(r.floats)
        for (name, t) in zip(inputs, ts) {
            assertClose(t.grad ?? [], try load(case_, "grad_\(name)"), "\(case_) ∂\(name)", file: file, line: line)
        }
    }

    func testConvolutions() throws {
        try run("conv3d", inputs: ["x", "w", "b"]) { $0[0].conv3d(weight: $0[1], bias: $0[2], stride: (1, 2, 1), padding: (1, 1, 0)) }
        try run("conv3d_spatial", inputs: ["x", "w"]) { $0[0].conv3d(weight: $0[1], stride: (1, 2, 2), padding: (0, 1, 1)) }
        try run("conv3d_temporal", inputs: ["x", "w"]) { $0[0].conv3d(weight: $0[1], stride: (2, 1, 1), padding: (1, 0, 0)) }
        try run("conv3d_pointwise", inputs: ["x", "w"]) { $0[0].conv3d(weight: $0[1], stride: (2, 2, 2)) }
        try run("conv2d", inputs: ["x", "w", "b"]) { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: (2, 2), padding: (3, 3)) }
        try run("conv1d", inputs: ["x", "w"]) { $0[0].conv1d(weight: $0[1], stride: 2, padding: 1) }
    }

    func testBatchNorm() throws {
        let bn = BatchNorm(channels: 3)
        bn.weight.data = [0.5, 1.5, -1]
        bn.bias.data = [0.1, -0.2, 0.3]
        try run("batchnorm_train", inputs: ["x"]) { bn($0[0]) }
        assertClose(bn.weight.grad ?? [], try load("batchnorm_train", "grad_weight"), "∂γ")
        assertClose(bn.bias.grad ?? [], try load("batchnorm_train", "grad_bias"), "∂β")
        assertClose(bn.runningMean, try load("batchnorm_train", "running_mean"), "running mean")
        assertClose(bn.runningVar, try load("batchnorm_train", "running_var"), "running var")
        bn.training = false
        try run("batchnorm_eval", inputs: ["x"]) { bn($0[0]) }
    }

    func testPooling() throws {
        try run("maxpool3d", inputs: ["x"]) { $0[0].maxPool3d(kernel: (2, 3, 3), stride: (2, 2, 2), padding: (0, 1, 1)) }
        try run("avgpool3d", inputs: ["x"]) { $0[0].avgPool3d(kernel: (2, 2, 2), stride: (1, 2, 2), padding: (1, 0, 1)) }
        try run("maxpool2d", inputs: ["x"]) { $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        try run("adaptive3d", inputs: ["x"]) { $0[0].adaptiveAvgPool([3, 4, 4]) }
        try run("upsample_nearest", inputs: ["x"]) { $0[0].upsampledNearest(scale: 2) }
    }

    func testLosses() throws {
        try run("log_softmax", inputs: ["x"]) { $0[0].logSoftmax() }
        let targets = try load("cross_entropy_targets", "targets").floats.map { Int($0) }
        try run("cross_entropy", inputs: ["x"]) { $0[0].crossEntropy(targets: targets) }
        let weights = try load("cross_entropy_weights", "weight").floats
        try run("cross_entropy_weighted", inputs: ["x"]) { $0[0].crossEntropy(targets: targets, classWeights: weights) }
        let y = try tensor("bce_targets", "y", grad: false)
        try run("bce_logits", inputs: ["x"]) { $0[0].binaryCrossEntropyWithLogits(targets: y) }
        try run("bce", inputs: ["p"]) { $0[0].binaryCrossEntropy(targets: y) }
        let target = try tensor("kl_target", "target", grad: false)
        try run("kl_div", inputs: ["x"]) { $0[0].klDivergence(target: target, reduction: .batchMean) }
        try run("normalize", inputs: ["x"]) { $0[0].l2Normalized() }
        try run("vsepp", inputs: ["s"]) { $0[0].maxViolationRankingLoss(margin: 0.2, reduction: .sum) }
        try run("vsepp_sum", inputs: ["s"]) { $0[0].sumViolationRankingLoss(margin: 0.2, reduction: .sum) }
    }

    /// Three optimiser steps equal torch.optim's.
    func testOptimizers() throws {
        for name in ["adam", "adamw", "sgd"] {
            let p = try tensor("opt_\(name)", "p0")
            let grads = try load("opt_\(name)", "grads").floats
            let group: ParameterGroup
            let optimizer: Optimizer
            switch name {
            case "adam": group = ParameterGroup([p], learningRate: 3e-3, weightDecay: 1e-4); optimizer = Adam([group])
            case "adamw": group = ParameterGroup([p], learningRate: 3e-3, weightDecay: 1e-2); optimizer = Adam.adamW([group])
            default: group = ParameterGroup([p], learningRate: 0.1, weightDecay: 1e-4); optimizer = SGD([group], momentum: 0.9)
            }
            var steps: [Float] = []
            for k in 0..<3 {
                p.grad = Array(grads[(k * p.count)..<((k + 1) * p.count)])
                optimizer.step()
                steps += p.data
            }
            assertClose(steps, try load("opt_\(name)", "steps"), name)
        }
    }

    func testScheduleAndClipping() {
        let s = WarmupCosineSchedule(base: 1, warmupSteps: 10, totalSteps: 110, minimum: 0.1)
        XCTAssertEqual(s.learningRate(at: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.learningRate(at: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(s.learningRate(at: 60), 0.55, accuracy: 1e-5)
        XCTAssertEqual(s.learningRate(at: 110), 0.1, accuracy: 1e-6)
        let a = Tensor(zeros: [2], requiresGrad: true), b = Tensor(zeros: [1], requiresGrad: true)
        a.grad = [3, 0]; b.grad = [4]
        let opt = SGD([ParameterGroup([a, b], learningRate: 1)])
        XCTAssertEqual(opt.clipGradientNorm(1), 5, accuracy: 1e-5)
        XCTAssertEqual(a.grad?[0] ?? 0, 0.6, accuracy: 1e-5)
        XCTAssertEqual(b.grad?[0] ?? 0, 0.8, accuracy: 1e-5)
    }
}
