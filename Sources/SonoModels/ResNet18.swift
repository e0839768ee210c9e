import SonoTensor

/// A 2D convolution's weight [O, C, kh, kw] with its geometry.
public final class Conv2dLayer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = false,
                initialization: Initialization, salt: UInt64) {
        weight = Conv3dLayer.makeWeight([outChannels, inChannels, kernel, kernel], fanIn: inChannels * kernel * kernel,
                                        fanOut: outChannels * kernel * kernel, initialization, salt)
        self.bias = bias ? Tensor(zeros: [outChannels], requiresGrad: true) : nil
        self.stride = (stride, stride)
        self.padding = (padding, padding)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding) }

    func namedParameters() -> [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
}

/// torchvision's ResNet-18 image encoder (fc removed): [N, 3, H, W] → [N, 512]
/// (docs/training.md). Keys match `torchvision.models.resnet18().state_dict()`.
public final class ResNet18: Module {
    public struct Config: Sendable {
        public var inputChannels = 3
        public var planes = [64, 128, 256, 512]
        public init() {}
        public static func tiny(width: Int = 8) -> Config {
            var c = Config()
            c.planes = [width, 2 * width, 4 * width, 8 * width]
            return c
        }
    }

    final class BasicBlock {
        let conv1: Conv2dLayer, bn1: BatchNorm, conv2: Conv2dLayer, bn2: BatchNorm
        let downsample: (Conv2dLayer, BatchNorm)?
        init(_ inPlanes: Int, _ planes: Int, stride: Int, _ initialization: Initialization, salt: UInt64) {
            conv1 = Conv2dLayer(inPlanes, planes, kernel: 3, stride: stride, padding: 1, initialization: initialization, salt: salt)
            bn1 = BatchNorm(channels: planes)
            conv2 = Conv2dLayer(planes, planes, kernel: 3, padding: 1, initialization: initialization, salt: salt + 1)
            bn2 = BatchNorm(channels: planes)
            downsample = stride != 1 || inPlanes != planes
                ? (Conv2dLayer(inPlanes, planes, kernel: 1, stride: stride, initialization: initialization, salt: salt + 2), BatchNorm(channels: planes))
                : nil
        }
        func callAsFunction(_ x: Tensor) -> Tensor {
            let shortcut = downsample.map { $0.1($0.0(x)) } ?? x
            return bn2(conv2(bn1(conv1(x), relu: true)), adding: shortcut, relu: true)
        }
        func namedParameters() -> [(String, Tensor)] {
            var p = prefixed("conv1", conv1.namedParameters()) + prefixed("bn1", bn1.namedParameters())
            p += prefixed("conv2", conv2.namedParameters()) + prefixed("bn2", bn2.namedParameters())
            if let (conv, bn) = downsample { p += prefixed("downsample.0", conv.namedParameters()) + prefixed("downsample.1", bn.namedParameters()) }
            return p
        }
        func namedBatchNorms() -> [(String, BatchNorm)] {
            [("bn1", bn1), ("bn2", bn2)] + (downsample.map { [("downsample.1", $0.1)] } ?? [])
        }
    }

    public let config: Config
    let conv1: Conv2dLayer, bn1: BatchNorm
    let layers: [[BasicBlock]]

    public init(_ config: Config = Config(), initialization: Initialization = .torchvision(seed: 0)) {
        self.config = config
        conv1 = Conv2dLayer(config.inputChannels, config.planes[0], kernel: 7, stride: 2, padding: 3, initialization: initialization, salt: 1)
        bn1 = BatchNorm(channels: config.planes[0])
        var inPlanes = config.planes[0]
        var layers: [[BasicBlock]] = []
        for (l, planes) in config.planes.enumerated() {
            layers.append((0..<2).map { b in
                defer { inPlanes = planes }
                return BasicBlock(inPlanes, planes, stride: l > 0 && b == 0 ? 2 : 1, initialization, salt: UInt64(100 * (l + 1) + 10 * b))
            })
        }
        self.layers = layers
    }

    public var outputFeatures: Int { config.planes.last ?? 0 }

    public func callAsFunction(_ x: Tensor) -> Tensor { featureMap(x).globalAvgPool() }

    /// The side of `featureMap`'s output for a square input of side `input`: conv1, the max
    /// pool and layers 2–4 each halve it, rounding up.
    public static func featureSide(input: Int) -> Int { (0..<5).reduce(input) { side, _ in (side - 1) / 2 + 1 } }

    /// layer4's output before pooling, [N, planes[3], ⌈H/32⌉, ⌈W/32⌉]: what a dense head (the
    /// saliency decoder) starts from.
    public func featureMap(_ x: Tensor) -> Tensor {
        var h = bn1(conv1(x), relu: true).maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        for layer in layers { for block in layer { h = block(h) } }
        return h
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = prefixed("conv1", conv1.namedParameters()) + prefixed("bn1", bn1.namedParameters())
        for (l, layer) in layers.enumerated() { for (b, block) in layer.enumerated() { p += prefixed("layer\(l + 1).\(b)", block.namedParameters()) } }
        return p
    }

    public func namedBatchNorms() -> [(String, BatchNorm)] {
        var b = [("bn1", bn1)]
        for (l, layer) in layers.enumerated() { for (i, block) in layer.enumerated() { b += prefixed("layer\(l + 1).\(i)", block.namedBatchNorms()) } }
        return b
    }
}
