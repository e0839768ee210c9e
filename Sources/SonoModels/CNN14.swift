import SonoTensor

/// PANNs' CNN14 audio encoder up to its 2048-d `embedding` (AudioSet classifier removed):
/// log-mel [N, 1, T, 64] → [N, 2048] (docs/training.md). Keys match the PANNs checkpoint
/// ("bn0.*", "conv_block1.conv1.weight", …, "fc1.weight"). SpecAugment and mixup are not here.
public final class CNN14: Module {
    public struct Config: Sendable {
        public var melBins = 64
        public var channels = [64, 128, 256, 512, 1024, 2048]
        public var embedding = 2048
        public init() {}
        public static func tiny(width: Int = 4) -> Config {
            var c = Config()
            c.channels = (0..<6).map { width << $0 }
            c.embedding = width << 5
            return c
        }
    }

    final class ConvBlock {
        let conv1: Conv2dLayer, bn1: BatchNorm, conv2: Conv2dLayer, bn2: BatchNorm
        init(_ inChannels: Int, _ outChannels: Int, _ initialization: Initialization, salt: UInt64) {
            conv1 = Conv2dLayer(inChannels, outChannels, kernel: 3, padding: 1, initialization: initialization, salt: salt)
            bn1 = BatchNorm(channels: outChannels)
            conv2 = Conv2dLayer(outChannels, outChannels, kernel: 3, padding: 1, initialization: initialization, salt: salt + 1)
            bn2 = BatchNorm(channels: outChannels)
        }
        func callAsFunction(_ x: Tensor, pool: Bool) -> Tensor {
            let y = bn2(conv2(bn1(conv1(x)).relu())).relu()
            return pool ? y.avgPool2d(kernel: (2, 2)) : y
        }
        func namedParameters() -> [(String, Tensor)] {
            prefixed("conv1", conv1.namedParameters()) + prefixed("bn1", bn1.namedParameters())
                + prefixed("conv2", conv2.namedParameters()) + prefixed("bn2", bn2.namedParameters())
        }
    }

    public let config: Config
    let bn0: BatchNorm
    let blocks: [ConvBlock]
    let fc1: LinearLayer
    /// Dropout is drawn from this seed and the number of forward passes so far (reproducible;
    /// a resumed run sets `forwardPasses` back to where it was).
    public var dropoutSeed: UInt64 = 0
    public var forwardPasses: UInt64 = 0
    public var training = true

    public init(_ config: Config = Config(), initialization: Initialization = .xavierUniform(seed: 0)) {
        self.config = config
        bn0 = BatchNorm(channels: config.melBins)
        var inChannels = 1
        blocks = config.channels.enumerated().map { i, c in
            defer { inChannels = c }
            return ConvBlock(inChannels, c, initialization, salt: UInt64(10 * (i + 1)))
        }
        fc1 = LinearLayer(config.channels.last ?? 1, config.embedding, initialization: initialization, salt: 99)
    }

    public var outputFeatures: Int { config.embedding }

    /// [N, 1, T, mels] → [N, embedding]. T ≥ 32 (five 2×2 poolings).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 1 && x.shape[3] == config.melBins, "CNN14 takes [N, 1, T, \(config.melBins)], got \(x.shape)")
        precondition(x.shape[2] >= 32, "CNN14 needs at least 32 frames")
        forwardPasses += 1
        let seed = dropoutSeed &* 1_000_003 &+ forwardPasses
        // bn0 normalises each mel bin: move mels to the channel axis and back.
        var h = bn0(x.transposed(1, 3)).transposed(1, 3)
        for (i, block) in blocks.enumerated() {
            h = block(h, pool: i < blocks.count - 1).dropout(0.2, training: training, seed: seed &+ UInt64(i))
        }
        let overFrequency = h.mean(axis: 3)                                      // [N, C, T']
        let pooled = overFrequency.max(axis: 2) + overFrequency.mean(axis: 2)    // [N, C]
        return fc1(pooled.dropout(0.5, training: training, seed: seed &+ 100)).relu()
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = prefixed("bn0", bn0.namedParameters())
        for (i, b) in blocks.enumerated() { p += prefixed("conv_block\(i + 1)", b.namedParameters()) }
        return p + prefixed("fc1", fc1.namedParameters())
    }

    public func namedBatchNorms() -> [(String, BatchNorm)] {
        var b = [("bn0", bn0)]
        for (i, block) in blocks.enumerated() { b += [("conv_block\(i + 1).bn1", block.bn1), ("conv_block\(i + 1).bn2", block.bn2)] }
        return b
    }

    public func setTraining(_ training: Bool) {
        self.training = training
        for (_, bn) in namedBatchNorms() { bn.training = training }
    }
}
