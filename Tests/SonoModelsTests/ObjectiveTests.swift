import Foundation
import XCTest
import SonoCore
import SonoTensor
@testable import SonoModels

/// The dual objective against a PyTorch transcription of the objective in docs/training.md (same weights,
/// same features): the loss and its gradients with respect to the three encoders' features.
final class ObjectiveTests: XCTestCase {
    static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../SonoTensorTests/Goldens").standardizedFileURL

    func load(_ name: String) throws -> NPYArray { try NPYArray.read(Self.goldens.appendingPathComponent(name).path) }

    func testMatchesPyTorch() throws {
        var config = DualObjectiveConfig()
        config.latent = 4
        let heads = DualHeads(videoFeatures: 5, audioFeatures: 7, imageFeatures: 5, config: config, initialization: .zeros)
        for (name, tensor) in heads.namedParameters() where !name.hasSuffix(".1.weight") && !name.hasSuffix(".1.bias") {
            let golden = try load("objective_weights.\(name).npy")
            XCTAssertEqual(golden.shape.reduce(1, *), tensor.count, name)
            tensor.data = golden.floats
        }
        func input(_ n: String) throws -> Tensor {
            let a = try load("objective.\(n).npy")
            return Tensor(shape: a.shape, data: a.floats, requiresGrad: true)
        }
        let fv = try input("fv"), fa = try input("fa"), fi = try input("fi")
        let losses = heads.loss(video: fv, audio: fa, image: fi)
        let expected = try load("objective.out.npy").floats[0]
        XCTAssertEqual(losses.total.item, expected, accuracy: 1e-4 * max(1, abs(expected)))
        losses.total.backward(try load("objective.r.npy").floats)
        for (name, t) in [("fv", fv), ("fa", fa), ("fi", fi)] {
            let g = try load("objective.grad_\(name).npy").floats
            let scale = max(1, g.map(abs).max() ?? 0)
            let worst = zip(t.grad ?? [], g).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "∂L/∂\(name)")
        }
        XCTAssertGreaterThan(losses.mmcl, 0)
        XCTAssertGreaterThanOrEqual(losses.mmsl, 0)
    }
}
