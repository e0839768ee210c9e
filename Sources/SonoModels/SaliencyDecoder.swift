import SonoTensor

/// The saliency head that replaces ResNet-18's pooling and fc (issue 15): `stages` times
/// nearest ×2 upsampling → 3×3 conv → BN → ReLU, halving the channels (at least `minChannels`),
/// then a 1×1 conv with bias to one channel: [N, C, h, w] → logits [N, 1, h·2^stages, w·2^stages].
/// A softmax over the pixels makes the predicted map (trained with KL divergence to the gaze map).
/// Nearest upsampling followed by a convolution, rather than a transposed convolution, avoids its
/// checkerboard pattern (Odena et al., Distill 2016).
public final class SaliencyDecoder: Module {
    final class Stage {
        let conv: Conv2dLayer, bn: BatchNorm
        init(_ inChannels: Int, _ outChannels: Int, _ initialization: Initialization, salt: UInt64) {
            conv = Conv2dLayer(inChannels, outChannels, kernel: 3, padding: 1, initialization: initialization, salt: salt)
            bn = BatchNorm(channels: outChannels)
        }
    }

    let stages: [Stage]
    let output: Conv2dLayer

    public init(inputChannels: Int, stages count: Int, minChannels: Int = 8, initialization: Initialization) {
        precondition(count >= 0, "negative stage count")
        var channels = inputChannels, built: [Stage] = []
        for k in 0..<count {
            let next = max(minChannels, channels / 2)
            built.append(Stage(channels, next, initialization, salt: UInt64(900 + 10 * k)))
            channels = next
        }
        stages = built
        output = Conv2dLayer(channels, 1, kernel: 1, bias: true, initialization: initialization, salt: 990)
    }

    /// How many ×2 stages take an encoder's `featureSide` to `mapSide`, if a power of two does.
    public static func stages(from featureSide: Int, to mapSide: Int) -> Int? {
        guard featureSide > 0, mapSide >= featureSide, mapSide % featureSide == 0 else { return nil }
        let ratio = mapSide / featureSide
        guard ratio & (ratio - 1) == 0 else { return nil }
        return ratio.trailingZeroBitCount
    }

    public func callAsFunction(_ features: Tensor) -> Tensor {
        var h = features
        for stage in stages { h = stage.bn(stage.conv(h.upsampledNearest(scale: 2)), relu: true) }
        return output(h)
    }

    public func namedParameters() -> [(String, Tensor)] {
        stages.enumerated().flatMap { k, s in prefixed("stages.\(k).conv", s.conv.namedParameters()) + prefixed("stages.\(k).bn", s.bn.namedParameters()) }
            + prefixed("output", output.namedParameters())
    }

    public func namedBatchNorms() -> [(String, BatchNorm)] { stages.enumerated().map { ("stages.\($0.offset).bn", $0.element.bn) } }
}
