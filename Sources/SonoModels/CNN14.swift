import SonoCore
import SonoTensor

/// PANNs' CNN14 audio encoder up to its 2048-d `embedding` (AudioSet classifier removed):
/// log-mel [N, 1, T, 64] → [N, 2048] (docs/training.md). Keys match the PANNs checkpoint
/// ("bn0.*", "conv_block1.conv1.weight", …, "fc1.weight"). SpecAugment as PANNs (after bn0,
/// in training) is an option; mixup is not here.
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
            let y = bn2(conv2(bn1(conv1(x), relu: true)), relu: true)
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
    /// PANNs' SpecAugmentation in training: stripes of time frames and mel bins set to 0.
    public var specAugment: SpecAugment? = nil

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
        if training, let augment = specAugment { h = h * augment.mask(shape: h.shape, seed: seed &+ 200) }
        for (i, block) in blocks.enumerated() {
            h = block(h, pool: i < blocks.count - 1).dropout(0.2, training: training, seed: seed &+ UInt64(i))
        }
        let overFrequency = h.mean(axis: 3)                                      // [N, C, T']
        let pooled = overFrequency.max(axis: 2) + overFrequency.mean(axis: 2)    // [N, C]
        // PANNs: dropout → fc1 → ReLU → dropout, the last one on the embedding itself.
        return fc1(pooled.dropout(0.5, training: training, seed: seed &+ 100)).relu().dropout(0.5, training: training, seed: seed &+ 101)
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

/// PANNs' `SpecAugmentation` (torchlibrosa `augmentation.py`, `DropStripes`): per example, `stripes`
/// times, a run of `width` ∈ [0, maxWidth) time frames (resp. mel bins) from a start uniform in
/// [0, total − width) is set to 0. PANNs' Cnn14: time 2 × < 64 frames, frequency 2 × < 8 bins.
public struct SpecAugment: Sendable, Hashable {
    public var timeStripes = 2, timeMaxWidth = 64
    public var frequencyStripes = 2, frequencyMaxWidth = 8

    public init() {}

    /// A 0/1 mask for [N, 1, T, F], drawn from `seed`.
    func mask(shape: [Int], seed: UInt64) -> Tensor {
        let (n, t, f) = (shape[0], shape[2], shape[3])
        var mask = [Float](repeating: 1, count: n * t * f)
        var rng = SeededGenerator(seed: seed)
        for example in 0..<n {
            for _ in 0..<timeStripes {
                let width = Int.random(in: 0..<max(1, timeMaxWidth), using: &rng), start = Int.random(in: 0..<max(1, t - width), using: &rng)
                for frame in start..<min(t, start + width) { for bin in 0..<f { mask[(example * t + frame) * f + bin] = 0 } }
            }
            for _ in 0..<frequencyStripes {
                let width = Int.random(in: 0..<max(1, frequencyMaxWidth), using: &rng), start = Int.random(in: 0..<max(1, f - width), using: &rng)
                for bin in start..<min(f, start + width) { for frame in 0..<t { mask[(example * t + frame) * f + bin] = 0 } }
            }
        }
        return Tensor(shape: shape, data: mask)
    }
}
