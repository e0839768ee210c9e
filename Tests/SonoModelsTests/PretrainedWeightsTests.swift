import Foundation
import XCTest
import SonoCore
import SonoTensor
import SonoTestSupport
@testable import SonoModels

/// Files written by PyTorch from torchvision's own `resnet18` / `r2plus1d_18` and a PANNs-layout
/// `Cnn14` (scripts/reference/make_pretrained_fixtures.py, run here; random weights, nothing
/// downloaded) load into our encoders, which then give the reference's eval-mode features.
final class PretrainedWeightsTests: XCTestCase {
    /// The fixtures, made once per test run (the script takes a few seconds).
    final class Fixtures: Sendable {
        static let shared = Fixtures()
        let directory = TemporaryDirectory("pretrained-fixtures")
        let failure: String?

        private init() {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../scripts/reference/make_pretrained_fixtures.py").standardized.path
            do {
                try ExternalTool.run("python3", [script, directory.path])
                failure = nil
            } catch {
                failure = "\(script) failed (torch and torchvision come from scripts/setup.sh): \(error)"
            }
        }

        func path(_ name: String) throws -> String {
            if let failure { throw InputError(path: directory.path, reason: failure) }
            return directory.file(name)
        }

        /// Removes NAME.* once its test is done (`shared` lives to the end of the process, so
        /// its folder, about 0.5 GB in all, is not removed on release).
        func remove(_ name: String) {
            for suffix in ["safetensors", "input.npy", "features.npy"] { try? FileManager.default.removeItem(atPath: directory.file("\(name).\(suffix)")) }
            if (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.isEmpty == true {
                try? FileManager.default.removeItem(atPath: directory.path)
            }
        }
    }

    /// Eval-mode features of `model` on NAME.input.npy against NAME.features.npy: max |Δ| within
    /// 1e-4 of the reference's largest magnitude.
    func assertMatchesReference(_ name: String, _ model: some Module, _ forward: (Tensor) -> Tensor,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let input = try NPYArray.read(try Fixtures.shared.path("\(name).input.npy"))
        let reference = try NPYArray.read(try Fixtures.shared.path("\(name).features.npy"))
        model.setTraining(false)
        let ours = GradientMode.withoutGradients { forward(Tensor(shape: input.shape, data: input.floats)) }
        XCTAssertEqual(ours.shape, reference.shape, name, file: file, line: line)
        let scale = reference.floats.map(abs).max() ?? 0
        let worst = zip(ours.data, reference.floats).map { abs($0 - $1) }.max() ?? .infinity
        print("\(name): max |Δ| \(worst), max |reference| \(scale), relative \(worst / scale)")
        XCTAssertGreaterThan(scale, 0, name, file: file, line: line)
        XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(name): max |Δ| \(worst) (scale \(scale))", file: file, line: line)
    }

    func testResNet18MatchesTorchvision() throws {
        defer { Fixtures.shared.remove("resnet18") }
        let model = ResNet18(initialization: .zeros)
        let report = try PretrainedWeights.load(try Fixtures.shared.path("resnet18.safetensors"), into: model)
        XCTAssertEqual(report.parameters.count, model.namedParameters().count)
        XCTAssertEqual(report.runningStatistics.count, 2 * model.namedBatchNorms().count)
        XCTAssertEqual(report.valueCount, 11_176_512 + 2 * model.namedBatchNorms().reduce(0) { $0 + $1.1.channels })
        XCTAssertEqual(report.ignored.filter { !$0.hasSuffix(".num_batches_tracked") }, ["fc.bias", "fc.weight"])
        XCTAssertEqual(report.ignored.count, 2 + model.namedBatchNorms().count)
        XCTAssertNil(report.summedInputChannels)
        try assertMatchesReference("resnet18", model) { model($0) }
    }

    func testR2Plus1D18MatchesTorchvision() throws {
        defer { Fixtures.shared.remove("r2plus1d_18") }
        let model = R2Plus1D18(initialization: .zeros)
        let report = try PretrainedWeights.load(try Fixtures.shared.path("r2plus1d_18.safetensors"), into: model)
        XCTAssertEqual(report.parameters.count, model.namedParameters().count)
        XCTAssertEqual(report.ignored.filter { !$0.hasSuffix(".num_batches_tracked") }, ["fc.bias", "fc.weight"])
        try assertMatchesReference("r2plus1d_18", model) { model($0) }
    }

    /// A flattened PANNs checkpoint: keys under "model.", the AudioSet head and the STFT/mel
    /// front-end buffers ignored.
    func testCNN14MatchesPANNs() throws {
        defer { Fixtures.shared.remove("cnn14") }
        let model = CNN14(initialization: .zeros)
        let path = try Fixtures.shared.path("cnn14.safetensors")
        XCTAssertThrowsError(try PretrainedWeights.load(path, into: model)) { error in
            guard case .mismatch(_, _, let missing, let unexpected, _, _) = error as? PretrainedWeightsError else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(missing.contains("bn0.running_mean"))
            XCTAssertTrue(unexpected.contains("model.bn0.running_mean"))
        }
        let report = try PretrainedWeights.load(path, into: model, keyPrefix: "model.")
        XCTAssertEqual(report.parameters.count, model.namedParameters().count)
        XCTAssertEqual(report.ignored.filter { !$0.hasSuffix(".num_batches_tracked") }, [
            "model.fc_audioset.bias", "model.fc_audioset.weight", "model.logmel_extractor.melW",
            "model.spectrogram_extractor.stft.conv_imag.weight", "model.spectrogram_extractor.stft.conv_real.weight",
        ])
        try assertMatchesReference("cnn14", model) { model($0) }
    }

    /// A state dict of a tiny ResNet-18 as PyTorch names it (running statistics included).
    func stateDict(_ model: some Module) -> [(String, [Int], [Float])] {
        var tensors = model.namedParameters().map { ($0.0, $0.1.shape, $0.1.data) }
        for (name, bn) in model.namedBatchNorms() {
            tensors.append(("\(name).running_mean", [bn.channels], bn.runningMean))
            tensors.append(("\(name).running_var", [bn.channels], bn.runningVar))
        }
        return tensors
    }

    func testWrongFileNamesTheFileAndEveryKey() throws {
        let dir = TemporaryDirectory("pretrained-wrong")
        let source = ResNet18(.tiny(), initialization: .torchvision(seed: 7))
        var tensors = stateDict(source).map { name, shape, values -> (String, [Int], [Float]) in
            switch name {
            case "layer1.0.conv1.weight": return ("layer1.0.conv_1.weight", shape, values)          // renamed
            case "layer2.0.bn1.running_var": return (name, [shape[0] + 1], values + [1])            // reshaped
            default: return (name, shape, values)
            }
        }
        tensors.append(("fc.weight", [10, 64], [Float](repeating: 0, count: 640)))                // ignored
        let path = dir.file("broken.safetensors")
        try SafeTensors.write(tensors, metadata: [:], to: path)

        let target = ResNet18(.tiny(), initialization: .zeros)
        XCTAssertThrowsError(try PretrainedWeights.load(path, into: target)) { error in
            XCTAssertEqual(error as? PretrainedWeightsError, .mismatch(
                file: path, layout: .torchvisionResNet18, missing: ["layer1.0.conv1.weight"], unexpected: ["layer1.0.conv_1.weight"],
                shapeMismatches: [ShapeMismatch(key: "layer2.0.bn1.running_var", expected: [16], found: [17])], unsupportedDTypes: []))
            let text = "\(error)"
            for part in [path, "missing keys: layer1.0.conv1.weight", "unexpected keys: layer1.0.conv_1.weight",
                         "layer2.0.bn1.running_var expected [16] found [17]"] {
                XCTAssertTrue(text.contains(part), "\(part) not in: \(text)")
            }
        }
        // Nothing was copied.
        let untouched = ResNet18(.tiny(), initialization: .zeros)
        XCTAssertEqual(target.namedParameters().map(\.1.data), untouched.namedParameters().map(\.1.data))
        XCTAssertEqual(target.namedBatchNorms().map(\.1.runningVar), untouched.namedBatchNorms().map(\.1.runningVar))

        // A file that is not safetensors names the file too.
        let junk = dir.file("junk.safetensors")
        try Data("not a tensor file".utf8).write(to: URL(fileURLWithPath: junk))
        XCTAssertThrowsError(try PretrainedWeights.load(junk, into: target)) { error in
            XCTAssertEqual((error as? PretrainedWeightsError)?.file, junk)
            XCTAssertTrue("\(error)".hasPrefix(junk + ": "))
        }
    }

    /// A 1-channel first conv takes the sum of the RGB kernels: the same features as the
    /// 3-channel model on the gray input repeated to 3 channels.
    func testOneChannelModelSumsRGBKernels() throws {
        let dir = TemporaryDirectory("pretrained-gray")
        let gray2D = Tensor(randomUniform: [2, 1, 32, 32], low: 0, high: 1, seed: 3)
        let gray3D = Tensor(randomUniform: [1, 1, 4, 16, 16], low: 0, high: 1, seed: 4)
        func repeated(_ x: Tensor) -> Tensor {
            let plane = x.count / x.shape[0]
            var data: [Float] = []
            for n in 0..<x.shape[0] { for _ in 0..<3 { data += x.data[(n * plane)..<((n + 1) * plane)] } }
            var shape = x.shape
            shape[1] = 3
            return Tensor(shape: shape, data: data)
        }

        let rgbImage = ResNet18(.tiny(), initialization: .torchvision(seed: 5))
        try SafeTensors.write(stateDict(rgbImage), metadata: [:], to: dir.file("image.safetensors"))
        var grayConfig = ResNet18.Config.tiny()
        grayConfig.inputChannels = 1
        let grayImage = ResNet18(grayConfig, initialization: .zeros)
        let report = try PretrainedWeights.load(dir.file("image.safetensors"), into: grayImage)
        XCTAssertEqual(report.summedInputChannels, "conv1.weight")
        XCTAssertEqual(grayImage.conv1.weight.shape, [8, 1, 7, 7])

        let rgbVideo = R2Plus1D18(.tiny(), initialization: .torchvision(seed: 6))
        try SafeTensors.write(stateDict(rgbVideo), metadata: [:], to: dir.file("video.safetensors"))
        var grayVideoConfig = R2Plus1D18.Config.tiny()
        grayVideoConfig.inputChannels = 1
        let grayVideo = R2Plus1D18(grayVideoConfig, initialization: .zeros)
        XCTAssertEqual(try PretrainedWeights.load(dir.file("video.safetensors"), into: grayVideo).summedInputChannels, "stem.0.weight")

        for model in [rgbImage, grayImage, rgbVideo, grayVideo] as [any Module] { model.setTraining(false) }
        GradientMode.withoutGradients {
            for (ours, reference, what) in [(grayImage(gray2D), rgbImage(repeated(gray2D)), "image"),
                                            (grayVideo(gray3D), rgbVideo(repeated(gray3D)), "video")] {
                let scale = reference.data.map(abs).max() ?? 0
                let worst = zip(ours.data, reference.data).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertGreaterThan(scale, 0, what)
                XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(what): max |Δ| \(worst)")
            }
        }
        // A 1-channel model refuses a first conv that is neither 3- nor 1-channel.
        var twoChannels = stateDict(rgbImage)
        if let i = twoChannels.firstIndex(where: { $0.0 == "conv1.weight" }) {
            twoChannels[i] = ("conv1.weight", [8, 2, 7, 7], [Float](repeating: 0, count: 8 * 2 * 49))
        }
        try SafeTensors.write(twoChannels, metadata: [:], to: dir.file("two.safetensors"))
        XCTAssertThrowsError(try PretrainedWeights.load(dir.file("two.safetensors"), into: grayImage)) { error in
            XCTAssertTrue("\(error)".contains("conv1.weight expected [8, 1, 7, 7] found [8, 2, 7, 7]"), "\(error)")
        }
    }

    func testNormalizationConstants() {
        XCTAssertEqual(InputNormalization.imageNet.mean, [0.485, 0.456, 0.406])
        XCTAssertEqual(InputNormalization.imageNet.std, [0.229, 0.224, 0.225])
        XCTAssertEqual(InputNormalization.kinetics400.mean, [0.43216, 0.394666, 0.37645])
        XCTAssertEqual(InputNormalization.kinetics400.std, [0.22803, 0.22145, 0.216989])
        XCTAssertEqual(PretrainedLayout.torchvisionResNet18.inputNormalization, .imageNet)
        XCTAssertEqual(PretrainedLayout.torchvisionR2Plus1D18.inputNormalization, .kinetics400)
        XCTAssertNil(PretrainedLayout.pannsCNN14.inputNormalization)
        // [1, 3, 2] of ones: (1 − mean[c]) / std[c] per channel.
        let out = InputNormalization.imageNet.apply(to: Tensor(filled: 1, shape: [1, 3, 2]))
        for c in 0..<3 {
            let want = (1 - InputNormalization.imageNet.mean[c]) / InputNormalization.imageNet.std[c]
            XCTAssertEqual(out.data[2 * c], want, accuracy: 1e-6)
            XCTAssertEqual(out.data[2 * c + 1], want, accuracy: 1e-6)
        }
        let average = InputNormalization.imageNet.channelAverage
        XCTAssertEqual(average.mean, (0.485 + 0.456 + 0.406) / 3, accuracy: 1e-6)
        XCTAssertEqual(average.std, (0.229 + 0.224 + 0.225) / 3, accuracy: 1e-6)
    }
}
