import XCTest
import SonoTensor
@testable import SonoModels

/// The encoders' structure against the parameter counts of the reference implementations
/// (docs/training.md), their PyTorch key names, and a forward/backward on small inputs.
final class ModelTests: XCTestCase {
    func testParameterCountsMatchTheReferences() {
        // Weights are zeros here: only shapes matter (and zeros are fast to allocate).
        XCTAssertEqual(R2Plus1D18(initialization: .zeros).parameterCount, 31_300_125)  // torchvision, fc removed
        XCTAssertEqual(ResNet18(initialization: .zeros).parameterCount, 11_176_512)
        let cnn = CNN14(initialization: .zeros)
        XCTAssertEqual(cnn.parameterCount, 79_673_792)                                         // trunk + bn0 + fc1
        XCTAssertEqual(cnn.parameterCount - 2048 * 2048 - 2048, 75_477_440)
    }

    func testKeysFollowPyTorch() {
        let video = Set(R2Plus1D18(.tiny(), initialization: .zeros).namedParameters().map(\.0))
        for key in ["stem.0.weight", "stem.1.weight", "stem.3.weight", "stem.4.bias", "layer1.0.conv1.0.0.weight",
                    "layer1.0.conv1.0.1.weight", "layer1.0.conv1.0.3.weight", "layer1.0.conv1.1.weight",
                    "layer2.0.downsample.0.weight", "layer2.0.downsample.1.bias", "layer4.1.conv2.0.3.weight"] {
            XCTAssertTrue(video.contains(key), key)
        }
        let image = Set(ResNet18(.tiny(), initialization: .zeros).namedParameters().map(\.0))
        for key in ["conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer3.0.downsample.0.weight", "layer4.1.bn2.bias"] {
            XCTAssertTrue(image.contains(key), key)
        }
        let audio = Set(CNN14(.tiny(), initialization: .zeros).namedParameters().map(\.0))
        for key in ["bn0.weight", "conv_block1.conv1.weight", "conv_block6.bn2.bias", "fc1.weight", "fc1.bias"] {
            XCTAssertTrue(audio.contains(key), key)
        }
    }

    /// Switching to evaluation through the `Module` protocol reaches CNN14's own dropout switch
    /// (a protocol extension method would be dispatched statically and leave dropout on).
    func testSetTrainingThroughModuleReachesCNN14() {
        let cnn = CNN14(.tiny(), initialization: .zeros)
        let module: any Module = cnn
        module.setTraining(false)
        XCTAssertFalse(cnn.training)
        XCTAssertTrue(cnn.namedBatchNorms().allSatisfy { !$0.1.training })
        module.setTraining(true)
        XCTAssertTrue(cnn.training)
    }

    /// R(2+1)D-18's mid-channel rule: (block 1, block 2) per layer as torchvision computes them.
    func testMidChannels() {
        let model = R2Plus1D18(initialization: .zeros)
        let mids = model.layers.map { layer in layer.map { $0.conv1.spatial.weight.shape[0] } }
        XCTAssertEqual(mids, [[144, 144], [230, 288], [460, 576], [921, 1152]])
    }

    func testForwardAndBackwardShapes() {
        let video = R2Plus1D18(.tiny(), initialization: .torchvision(seed: 1))
        let clip = Tensor(randomNormal: [2, 3, 4, 16, 16], seed: 2)
        let v = video(clip)
        XCTAssertEqual(v.shape, [2, 64])
        let image = ResNet18(.tiny(), initialization: .torchvision(seed: 3))
        let i = image(Tensor(randomNormal: [2, 3, 32, 32], seed: 4))
        XCTAssertEqual(i.shape, [2, 64])
        let audio = CNN14(.tiny(), initialization: .xavierUniform(seed: 5))
        let a = audio(Tensor(randomNormal: [2, 1, 64, 64], seed: 6))
        XCTAssertEqual(a.shape, [2, 128])
        // Every parameter receives a gradient.
        (v.sum() + i.sum() + a.sum()).backward()
        for (model, name) in [(video as Module, "video"), (image, "image"), (audio, "audio")] {
            let missing = model.namedParameters().filter { $0.1.grad == nil }.map(\.0)
            XCTAssertEqual(missing, [], name)
        }
        // Evaluation mode uses running statistics: the same input twice gives the same output.
        video.setTraining(false)
        XCTAssertEqual(GradientMode.withoutGradients { video(clip).data }, GradientMode.withoutGradients { video(clip).data })
    }
}
