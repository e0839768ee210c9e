import SonoTensor

/// torchvision's R(2+1)D-18 video encoder (fc removed): input [N, 3, T, H, W] → [N, 512]
/// (docs/training.md). Keys match `torchvision.models.video.r2plus1d_18().state_dict()`.
public final class R2Plus1D18: Module {
    public struct Config: Sendable {
        public var inputChannels = 3
        public var planes = [64, 128, 256, 512]
        public var stemMid = 45
        public var blocksPerLayer = 2
        public init() {}

        /// A narrow variant for tests and demos (same structure, few channels).
        public static func tiny(width: Int = 8) -> Config {
            var c = Config()
            c.planes = [width, 2 * width, 4 * width, 8 * width]
            c.stemMid = max(1, width * 45 / 64)
            return c
        }
    }

    /// Conv(1,3,3) → BN → ReLU → Conv(3,1,1): torchvision's Conv2Plus1D (keys 0, 1, 3).
    final class Conv2Plus1D {
        let spatial: Conv3dLayer, bn: BatchNorm, temporal: Conv3dLayer
        init(_ inPlanes: Int, _ outPlanes: Int, mid: Int, stride: Int, _ initialization: Initialization, salt: UInt64) {
            spatial = Conv3dLayer(inPlanes, mid, kernel: (1, 3, 3), stride: (1, stride, stride), padding: (0, 1, 1),
                                  initialization: initialization, salt: salt)
            bn = BatchNorm(channels: mid)
            temporal = Conv3dLayer(mid, outPlanes, kernel: (3, 1, 1), stride: (stride, 1, 1), padding: (1, 0, 0),
                                   initialization: initialization, salt: salt + 1)
        }
        func callAsFunction(_ x: Tensor) -> Tensor { temporal(bn(spatial(x), relu: true)) }
        func namedParameters() -> [(String, Tensor)] {
            prefixed("0", spatial.namedParameters()) + prefixed("1", bn.namedParameters()) + prefixed("3", temporal.namedParameters())
        }
    }

    final class BasicBlock {
        let conv1: Conv2Plus1D, bn1: BatchNorm, conv2: Conv2Plus1D, bn2: BatchNorm
        let downsample: (Conv3dLayer, BatchNorm)?

        init(_ inPlanes: Int, _ planes: Int, stride: Int, _ initialization: Initialization, salt: UInt64) {
            let mid = (inPlanes * planes * 27) / (inPlanes * 9 + 3 * planes)
            conv1 = Conv2Plus1D(inPlanes, planes, mid: mid, stride: stride, initialization, salt: salt)
            bn1 = BatchNorm(channels: planes)
            conv2 = Conv2Plus1D(planes, planes, mid: mid, stride: 1, initialization, salt: salt + 10)
            bn2 = BatchNorm(channels: planes)
            if stride != 1 || inPlanes != planes {
                downsample = (Conv3dLayer(inPlanes, planes, kernel: (1, 1, 1), stride: (stride, stride, stride),
                                          initialization: initialization, salt: salt + 20), BatchNorm(channels: planes))
            } else {
                downsample = nil
            }
        }

        func callAsFunction(_ x: Tensor) -> Tensor {
            let shortcut = downsample.map { $0.1($0.0(x)) } ?? x
            return bn2(conv2(bn1(conv1(x), relu: true)), adding: shortcut, relu: true)
        }

        func namedParameters() -> [(String, Tensor)] {
            var p = prefixed("conv1.0", conv1.namedParameters()) + prefixed("conv1.1", bn1.namedParameters())
            p += prefixed("conv2.0", conv2.namedParameters()) + prefixed("conv2.1", bn2.namedParameters())
            if let (conv, bn) = downsample { p += prefixed("downsample.0", conv.namedParameters()) + prefixed("downsample.1", bn.namedParameters()) }
            return p
        }

        func namedBatchNorms() -> [(String, BatchNorm)] {
            var b = [("conv1.0.1", conv1.bn), ("conv1.1", bn1), ("conv2.0.1", conv2.bn), ("conv2.1", bn2)]
            if let (_, bn) = downsample { b.append(("downsample.1", bn)) }
            return b
        }
    }

    public let config: Config
    let stemSpatial: Conv3dLayer, stemBN1: BatchNorm, stemTemporal: Conv3dLayer, stemBN2: BatchNorm
    let layers: [[BasicBlock]]

    public init(_ config: Config = Config(), initialization: Initialization = .torchvision(seed: 0)) {
        self.config = config
        let first = config.planes[0]
        stemSpatial = Conv3dLayer(config.inputChannels, config.stemMid, kernel: (1, 7, 7), stride: (1, 2, 2), padding: (0, 3, 3),
                                  initialization: initialization, salt: 1)
        stemBN1 = BatchNorm(channels: config.stemMid)
        stemTemporal = Conv3dLayer(config.stemMid, first, kernel: (3, 1, 1), padding: (1, 0, 0), initialization: initialization, salt: 2)
        stemBN2 = BatchNorm(channels: first)
        var inPlanes = first
        var layers: [[BasicBlock]] = []
        for (l, planes) in config.planes.enumerated() {
            var blocks: [BasicBlock] = []
            for b in 0..<config.blocksPerLayer {
                let stride = (l > 0 && b == 0) ? 2 : 1
                blocks.append(BasicBlock(inPlanes, planes, stride: stride, initialization, salt: UInt64(100 * (l + 1) + 30 * b)))
                inPlanes = planes
            }
            layers.append(blocks)
        }
        self.layers = layers
    }

    public var outputFeatures: Int { config.planes.last ?? 0 }

    /// [N, C, T, H, W] → [N, 512] (global average pool of the last layer).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = stemBN2(stemTemporal(stemBN1(stemSpatial(x), relu: true)), relu: true)
        for layer in layers { for block in layer { h = block(h) } }
        return h.globalAvgPool()
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = prefixed("stem.0", stemSpatial.namedParameters()) + prefixed("stem.1", stemBN1.namedParameters())
        p += prefixed("stem.3", stemTemporal.namedParameters()) + prefixed("stem.4", stemBN2.namedParameters())
        for (l, layer) in layers.enumerated() {
            for (b, block) in layer.enumerated() { p += prefixed("layer\(l + 1).\(b)", block.namedParameters()) }
        }
        return p
    }

    public func namedBatchNorms() -> [(String, BatchNorm)] {
        var b = [("stem.1", stemBN1), ("stem.4", stemBN2)]
        for (l, layer) in layers.enumerated() {
            for (i, block) in layer.enumerated() { b += prefixed("layer\(l + 1).\(i)", block.namedBatchNorms()) }
        }
        return b
    }
}
