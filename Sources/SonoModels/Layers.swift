import SonoTensor

/// How new weights are filled. `zeros` is for shape checks and for loading weights afterwards.
public enum Initialization: Sendable {
    /// torchvision's: conv kaiming-normal (fan-out, ReLU), linear N(0, 0.01).
    case torchvision(seed: UInt64)
    /// PANNs': xavier-uniform conv and linear weights.
    case xavierUniform(seed: UInt64)
    case zeros
}

/// A network part with named parameters (PyTorch state-dict keys) and running buffers.
public protocol Module: AnyObject {
    /// Trainable tensors, keyed as in the PyTorch model ("layer1.0.conv1.0.0.weight").
    func namedParameters() -> [(String, Tensor)]
    /// Batch-norm layers, keyed by their prefix (for running statistics and train/eval).
    func namedBatchNorms() -> [(String, BatchNorm)]
    /// Training (batch statistics, dropout) or evaluation. A requirement, not only an extension
    /// method, so that a module with more train-time behaviour than its batch norms (CNN14's
    /// dropout) is dispatched to its own implementation when called through `Module`.
    func setTraining(_ training: Bool)
}

extension Module {
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.1.count } }

    /// Training (batch statistics) or evaluation (running statistics) for every batch norm.
    public func setTraining(_ training: Bool) {
        for (_, bn) in namedBatchNorms() { bn.training = training }
    }
}

/// Prefixes child keys: "layer1" + "0.conv1.weight".
public func prefixed<T>(_ prefix: String, _ items: [(String, T)]) -> [(String, T)] {
    items.map { (prefix.isEmpty ? $0.0 : "\(prefix).\($0.0)", $0.1) }
}

/// A 3D convolution's weight (and optional bias) with its geometry.
public final class Conv3dLayer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int, Int)
    public let padding: (Int, Int, Int)

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int, Int), stride: (Int, Int, Int) = (1, 1, 1),
                padding: (Int, Int, Int) = (0, 0, 0), bias: Bool = false, initialization: Initialization, salt: UInt64) {
        let shape = [outChannels, inChannels, kernel.0, kernel.1, kernel.2]
        weight = Self.makeWeight(shape, fanIn: inChannels * kernel.0 * kernel.1 * kernel.2,
                                 fanOut: outChannels * kernel.0 * kernel.1 * kernel.2, initialization, salt)
        self.bias = bias ? Tensor(zeros: [outChannels], requiresGrad: true) : nil
        self.stride = stride
        self.padding = padding
    }

    static func makeWeight(_ shape: [Int], fanIn: Int, fanOut: Int, _ initialization: Initialization, _ salt: UInt64) -> Tensor {
        switch initialization {
        case .zeros:
            return Tensor(zeros: shape, requiresGrad: true)
        case .torchvision(let seed):
            return Tensor(randomNormal: shape, std: (2 / Float(fanOut)).squareRoot(), seed: seed &+ salt, requiresGrad: true)
        case .xavierUniform(let seed):
            let a = (6 / Float(fanIn + fanOut)).squareRoot()
            return Tensor(randomUniform: shape, low: -a, high: a, seed: seed &+ salt, requiresGrad: true)
        }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv3d(weight: weight, bias: bias, stride: stride, padding: padding)
    }

    func namedParameters() -> [(String, Tensor)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }
}

/// A fully connected layer, weight [out, in].
public final class LinearLayer {
    public let weight: Tensor
    public let bias: Tensor

    public init(_ inFeatures: Int, _ outFeatures: Int, initialization: Initialization, salt: UInt64) {
        switch initialization {
        case .zeros: weight = Tensor(zeros: [outFeatures, inFeatures], requiresGrad: true)
        case .torchvision(let seed): weight = Tensor(randomNormal: [outFeatures, inFeatures], std: 0.01, seed: seed &+ salt, requiresGrad: true)
        case .xavierUniform(let seed):
            let a = (6 / Float(inFeatures + outFeatures)).squareRoot()
            weight = Tensor(randomUniform: [outFeatures, inFeatures], low: -a, high: a, seed: seed &+ salt, requiresGrad: true)
        }
        bias = Tensor(zeros: [outFeatures], requiresGrad: true)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight: weight, bias: bias) }

    func namedParameters() -> [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
}

extension BatchNorm {
    func namedParameters() -> [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
}
