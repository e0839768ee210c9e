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
        let losses = try check("objective", .full)
        XCTAssertGreaterThan(losses.mmcl, 0)
        XCTAssertGreaterThanOrEqual(losses.mmsl, 0)
    }

    /// The paper's ablations: each preset's loss and gradients against its PyTorch transcription.
    func testPresetsMatchPyTorch() throws {
        let mmcl = try check("objective_mmcl_only", .mmclOnly)
        XCTAssertNil(mmcl.terms.mmsl)
        XCTAssertNotNil(mmcl.terms.nceImageVideo)
        let mmsl = try check("objective_mmsl_only", .mmslOnly)
        XCTAssertNil(mmsl.terms.mmcl)
        XCTAssertNotNil(mmsl.terms.rankVideoImage)
        let noImage = try check("objective_no_image", .noImage, gradients: ["fv", "fa"])
        XCTAssertNil(noImage.terms.nceImageVideo)
        XCTAssertNil(noImage.terms.rankVideoImage)
    }

    /// The deviations of docs/training.md ("Deviations"): fused terms against the other modality
    /// or none, and the sum-of-violations warm-up with the mean reduction.
    func testDeviationsMatchPyTorch() throws {
        let cross = try check("objective_fusion_cross", .full) { $0.fusionTarget = .cross }
        XCTAssertNotNil(cross.terms.nceVideoFusedAudio)
        let none = try check("objective_fusion_none", .full) { $0.fusionTarget = .none }
        XCTAssertNil(none.terms.nceVideoFusedAudio)
        XCTAssertNil(none.terms.nceVideoFusedImage)
        let crossNoImage = try check("objective_fusion_cross_no_image", .noImage, gradients: ["fv", "fa"]) { $0.fusionTarget = .cross }
        XCTAssertNil(crossNoImage.terms.nceVideoFusedAudio, "no image to contrast the fused audio with")
        try check("objective_sum_violation_mean", .full) { $0.maxViolation = false; $0.rankingReduction = .mean }
        try check("objective_latent_bn", .full) { $0.fusionTarget = .cross; $0.latentBatchNorm = true }
        let projector = try check("objective_projector", .full, weights: "objective_projector_weights") {
            $0.fusionTarget = .cross; $0.latentBatchNorm = true; $0.projectorHidden = 3
        }
        XCTAssertNotNil(projector.terms.nceVideoFusedImage)
        let decorrelated = try check("objective_decorrelation", .full) {
            $0.fusionTarget = .cross; $0.latentBatchNorm = true; $0.decorrelation = 0.5
        }
        XCTAssertNotNil(decorrelated.terms.decorrelation)
    }

    /// Loads the golden weights and features of `name`, and checks the loss and its gradients.
    @discardableResult
    func check(_ name: String, _ preset: ObjectivePreset, gradients: [String] = ["fv", "fa", "fi"], weights: String = "objective_weights",
               _ configure: (inout DualObjectiveConfig) -> Void = { _ in }) throws -> DualHeads.Losses {
        var config = preset.applied(to: DualObjectiveConfig())
        configure(&config)
        config.latent = 4
        let heads = DualHeads(videoFeatures: 5, audioFeatures: 7, imageFeatures: 5, config: config, initialization: .zeros)
        // Batch norms keep their initial affine (1, 0), as the reference's functional batch norm.
        let batchNormAffine = [".1.weight", ".1.bias", "_bn.weight", "_bn.bias"]
        for (name, tensor) in heads.namedParameters() where !batchNormAffine.contains(where: { name.hasSuffix($0) }) {
            let golden = try load("\(weights).\(name).npy")
            XCTAssertEqual(golden.shape.reduce(1, *), tensor.count, name)
            tensor.data = golden.floats
        }
        func input(_ n: String) throws -> Tensor {
            let a = try load("\(name).\(n).npy")
            return Tensor(shape: a.shape, data: a.floats, requiresGrad: true)
        }
        let fv = try input("fv"), fa = try input("fa"), fi = try input("fi")
        let losses = heads.loss(video: fv, audio: fa, image: fi)
        let expected = try load("\(name).out.npy").floats[0]
        XCTAssertEqual(losses.total.item, expected, accuracy: 1e-4 * max(1, abs(expected)), name)
        losses.total.backward(try load("\(name).r.npy").floats)
        for (input, t) in [("fv", fv), ("fa", fa), ("fi", fi)] where gradients.contains(input) {
            let g = try load("\(name).grad_\(input).npy").floats
            let scale = max(1, g.map(abs).max() ?? 0)
            let worst = zip(t.grad ?? [], g).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(name): ∂L/∂\(input)")
        }
        return losses
    }
}
