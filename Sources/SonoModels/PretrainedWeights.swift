import SonoTensor

/// The state-dict layout a pretrained safetensors file follows, one per encoder.
public enum PretrainedLayout: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `torchvision.models.resnet18().state_dict()`, for `ResNet18`.
    case torchvisionResNet18 = "torchvision resnet18"
    /// `torchvision.models.video.r2plus1d_18().state_dict()`, for `R2Plus1D18`.
    case torchvisionR2Plus1D18 = "torchvision r2plus1d_18"
    /// PANNs `Cnn14` (qiuqiangkong/audioset_tagging_cnn `pytorch/models.py`), for `CNN14`.
    case pannsCNN14 = "PANNs Cnn14"

    public var description: String { rawValue }

    /// Whether a file key (prefix removed) is skipped by rule: batch-norm step counters, the
    /// classifier, and PANNs' fixed STFT/mel front end (our log-mel comes from SonoSpectral).
    public func ignores(_ key: String) -> Bool {
        if key == "num_batches_tracked" || key.hasSuffix(".num_batches_tracked") { return true }
        switch self {
        case .torchvisionResNet18, .torchvisionR2Plus1D18:
            return key.hasPrefix("fc.")
        case .pannsCNN14:
            return ["fc_audioset.", "spectrogram_extractor.", "logmel_extractor."].contains { key.hasPrefix($0) }
        }
    }

    /// The model key of the first convolution (the one whose RGB kernels may be summed).
    var firstConvolution: String? {
        switch self {
        case .torchvisionResNet18: "conv1.weight"
        case .torchvisionR2Plus1D18: "stem.0.weight"
        case .pannsCNN14: nil
        }
    }
}

/// A tensor whose shape in the file differs from the model's.
public struct ShapeMismatch: Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let expected: [Int]
    public let found: [Int]
    public var description: String { "\(key) expected \(expected) found \(found)" }
}

/// Why a pretrained file was not loaded. Nothing is copied into the model when this is thrown.
public enum PretrainedWeightsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a readable safetensors file.
    case unreadable(file: String, reason: String)
    /// The file's keys or shapes do not match the encoder. Keys are as spelled in the file
    /// (with the key prefix); `unsupportedDTypes` are expected tensors stored in another dtype than F32.
    case mismatch(file: String, layout: PretrainedLayout, missing: [String], unexpected: [String],
                  shapeMismatches: [ShapeMismatch], unsupportedDTypes: [String])

    public var file: String {
        switch self {
        case .unreadable(let file, _), .mismatch(let file, _, _, _, _, _): file
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): not a readable safetensors file (\(reason))"
        case .mismatch(let file, let layout, let missing, let unexpected, let shapes, let dtypes):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
            if !shapes.isEmpty { parts.append("shape mismatches: \(shapes.map(\.description).joined(separator: "; "))") }
            if !dtypes.isEmpty { parts.append("not float32: \(dtypes.joined(separator: ", "))") }
            return "\(file): does not match the \(layout) layout; " + parts.joined(separator: "; ")
        }
    }
}

/// What a pretrained file gave the encoder.
public struct PretrainedWeightsReport: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let layout: PretrainedLayout
    /// Model parameter keys whose values were copied, in the model's order.
    public let parameters: [String]
    /// Batch-norm running statistics copied ("bn1.running_mean", "bn1.running_var", …).
    public let runningStatistics: [String]
    /// File keys skipped by rule (`PretrainedLayout.ignores`), as spelled in the file.
    public let ignored: [String]
    /// The first conv whose 3 RGB input kernels were summed into the model's 1 input channel, if any.
    public let summedInputChannels: String?
    /// Number of values copied.
    public let valueCount: Int

    public var loaded: [String] { parameters + runningStatistics }

    public var description: String {
        var text = "\(file): \(layout), \(parameters.count) parameter tensors and \(runningStatistics.count) running statistics "
            + "(\(valueCount) values) loaded"
        if let summedInputChannels { text += "; RGB kernels of \(summedInputChannels) summed to 1 input channel" }
        if !ignored.isEmpty { text += "; ignored \(ignored.count): \(ignored.joined(separator: ", "))" }
        return text
    }
}

/// Initialisation of the encoders from pretrained safetensors files (docs/training.md,
/// "Pretrained initialisation"): torchvision `resnet18` / `r2plus1d_18` and PANNs `Cnn14`
/// state dicts, converted with `safetensors.torch.save_file(model.state_dict(), path)`.
///
/// Every parameter and batch-norm running statistic of the encoder must be in the file with
/// its exact shape, and every other tensor must be ignored by rule; otherwise the error lists
/// exactly the missing keys, the unexpected keys and the shape mismatches, and the model is
/// left untouched. `keyPrefix` ("model." for a flattened PANNs checkpoint, whose state dict
/// sits under 'model') is removed from file keys first; a key without it is unexpected.
///
/// A model built with 1 input channel (`Config.inputChannels = 1`) takes a 3-channel first
/// conv by summing its RGB kernels, which equals running the 3-channel model on the gray image
/// repeated to 3 channels.
public enum PretrainedWeights {
    public static func load(_ path: String, into model: ResNet18, keyPrefix: String = "")
        throws(PretrainedWeightsError) -> PretrainedWeightsReport {
        try load(path, into: model, layout: .torchvisionResNet18, keyPrefix: keyPrefix)
    }

    public static func load(_ path: String, into model: R2Plus1D18, keyPrefix: String = "")
        throws(PretrainedWeightsError) -> PretrainedWeightsReport {
        try load(path, into: model, layout: .torchvisionR2Plus1D18, keyPrefix: keyPrefix)
    }

    public static func load(_ path: String, into model: CNN14, keyPrefix: String = "")
        throws(PretrainedWeightsError) -> PretrainedWeightsReport {
        try load(path, into: model, layout: .pannsCNN14, keyPrefix: keyPrefix)
    }

    /// Where one expected tensor goes.
    private enum Target {
        case parameter(Tensor)
        case runningMean(BatchNorm)
        case runningVar(BatchNorm)

        var shape: [Int] {
            switch self {
            case .parameter(let t): t.shape
            case .runningMean(let bn), .runningVar(let bn): [bn.channels]
            }
        }

        func assign(_ values: [Float]) {
            switch self {
            case .parameter(let t): t.data = values
            case .runningMean(let bn): bn.runningMean = values
            case .runningVar(let bn): bn.runningVar = values
            }
        }
    }

    /// Checks the whole file against the module's keys and shapes, then copies.
    public static func load(_ path: String, into module: Module, layout: PretrainedLayout, keyPrefix: String = "")
        throws(PretrainedWeightsError) -> PretrainedWeightsReport {
        let file: SafeTensors.File
        do { file = try SafeTensors.read(path, skippingOtherDTypes: true) } catch {
            throw .unreadable(file: path, reason: "\(error)")
        }

        var expected: [(String, Target)] = module.namedParameters().map { ($0.0, .parameter($0.1)) }
        for (name, bn) in module.namedBatchNorms() {
            expected.append(("\(name).running_mean", .runningMean(bn)))
            expected.append(("\(name).running_var", .runningVar(bn)))
        }
        let expectedKeys = Set(expected.map(\.0))

        func modelKey(_ fileKey: String) -> String? {
            keyPrefix.isEmpty ? fileKey : (fileKey.hasPrefix(keyPrefix) ? String(fileKey.dropFirst(keyPrefix.count)) : nil)
        }

        var found: [String: ([Int], [Float])] = [:]
        var ignored: [String] = [], unexpected: [String] = [], unsupportedDTypes: [String] = []
        var otherDTypeKeys: Set<String> = []
        for (name, shape, values) in file.tensors {
            guard let key = modelKey(name) else { unexpected.append(name); continue }
            if layout.ignores(key) { ignored.append(name) } else if expectedKeys.contains(key) { found[key] = (shape, values) } else { unexpected.append(name) }
        }
        for (name, dtype, _) in file.skipped {
            guard let key = modelKey(name) else { unexpected.append(name); continue }
            if layout.ignores(key) { ignored.append(name) } else if expectedKeys.contains(key) {
                unsupportedDTypes.append("\(name) (\(dtype))")
                otherDTypeKeys.insert(key)
            } else { unexpected.append(name) }
        }

        var missing: [String] = [], shapeMismatches: [ShapeMismatch] = []
        var assignments: [(Target, [Float])] = []
        var summed: String?
        for (key, target) in expected {
            if otherDTypeKeys.contains(key) { continue }
            guard let (shape, values) = found[key] else { missing.append(keyPrefix + key); continue }
            let want = target.shape
            if shape == want {
                assignments.append((target, values))
            } else if key == layout.firstConvolution, want.count >= 2, want[1] == 1, shape.count == want.count, shape[1] == 3,
                      shape[0] == want[0], Array(shape.dropFirst(2)) == Array(want.dropFirst(2)) {
                assignments.append((target, sumInputChannels(values, shape: shape)))
                summed = key
            } else {
                shapeMismatches.append(ShapeMismatch(key: keyPrefix + key, expected: want, found: shape))
            }
        }
        guard missing.isEmpty, unexpected.isEmpty, shapeMismatches.isEmpty, unsupportedDTypes.isEmpty else {
            throw .mismatch(file: path, layout: layout, missing: missing, unexpected: unexpected.sorted(),
                            shapeMismatches: shapeMismatches, unsupportedDTypes: unsupportedDTypes.sorted())
        }
        for (target, values) in assignments { target.assign(values) }
        var parameters: [String] = [], statistics: [String] = []
        for (key, target) in expected {
            if case .parameter = target { parameters.append(key) } else { statistics.append(key) }
        }
        return PretrainedWeightsReport(
            file: path, layout: layout, parameters: parameters, runningStatistics: statistics,
            ignored: ignored.sorted(), summedInputChannels: summed, valueCount: assignments.reduce(0) { $0 + $1.1.count })
    }

    /// [O, 3, k…] → [O, 1, k…]: the sum over the input channels.
    static func sumInputChannels(_ values: [Float], shape: [Int]) -> [Float] {
        let outChannels = shape[0], inChannels = shape[1], kernel = shape.dropFirst(2).reduce(1, *)
        var out = [Float](repeating: 0, count: outChannels * kernel)
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                let source = (o * inChannels + c) * kernel
                for k in 0..<kernel { out[o * kernel + k] += values[source + k] }
            }
        }
        return out
    }
}
