import SonoTensor

/// Per-channel input normalisation (x − mean[c]) / std[c] of pixels in [0, 1]: the statistics
/// pretrained weights were trained with, to be applied when such weights initialise an encoder
/// (docs/training.md, "Pretrained initialisation").
public struct InputNormalization: Sendable, Equatable {
    public let mean: [Float]
    public let std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && !mean.isEmpty && std.allSatisfy { $0 > 0 },
                     "normalisation needs as many positive stds as means")
        self.mean = mean
        self.std = std
    }

    public var channels: Int { mean.count }

    /// ImageNet (torchvision image models, `resnet18` weights), RGB.
    public static let imageNet = InputNormalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// Kinetics-400 (torchvision video models, `r2plus1d_18` weights), RGB.
    public static let kinetics400 = InputNormalization(mean: [0.43216, 0.394666, 0.37645], std: [0.22803, 0.22145, 0.216989])

    /// One (mean, std) for gray pixels normalised before they are repeated to 3 channels (the
    /// loader's scalar `pixelNormalization`), or for a 1-channel first conv: the channel averages.
    /// An approximation of the per-channel constants; `apply(to:)` after repetition is exact.
    public var channelAverage: (mean: Float, std: Float) {
        (mean.reduce(0, +) / Float(channels), std.reduce(0, +) / Float(channels))
    }

    /// A normalised copy of x [N, C, …] (C = `channels`, pixels in [0, 1]); no gradient is recorded.
    public func apply(to x: Tensor) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == channels, "normalisation of \(channels) channels on \(x.shape)")
        let inner = x.shape.dropFirst(2).reduce(1, *)
        var out = x.data
        out.withUnsafeMutableBufferPointer { values in
            for n in 0..<x.shape[0] {
                for c in 0..<channels {
                    let scale = 1 / std[c], bias = -mean[c] / std[c]
                    let base = (n * channels + c) * inner
                    for i in base..<(base + inner) { values[i] = values[i] * scale + bias }
                }
            }
        }
        return Tensor(shape: x.shape, data: out)
    }
}

extension PretrainedLayout {
    /// The input normalisation weights of this layout were trained with; nil for PANNs' CNN14,
    /// whose `bn0` normalises the log-mel itself.
    public var inputNormalization: InputNormalization? {
        switch self {
        case .torchvisionResNet18: .imageNet
        case .torchvisionR2Plus1D18: .kinetics400
        case .pannsCNN14: nil
        }
    }
}
