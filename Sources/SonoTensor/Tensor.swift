import Foundation

/// A Float32 tensor: a shape and contiguous row-major storage, with an optional gradient.
///
/// Operations on tensors that require gradients record themselves on a tape (each result keeps
/// its inputs and a closure computing their gradients); `backward()` walks the tape once in
/// reverse, accumulates gradients, and then releases the tape, so saved activations are freed.
/// Reshape shares storage (copy-on-write); every other result is a new contiguous tensor.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public var data: [Float]
    /// Parameters and values whose gradient is wanted.
    public var requiresGrad: Bool
    /// ∂loss/∂self after `backward()` (for tensors that require gradients).
    public var grad: [Float]?
    /// The tape entry that produced this tensor (nil for leaves and after backward).
    var node: Node?

    final class Node {
        let inputs: [Tensor]
        /// Given ∂loss/∂output, adds each input's gradient into the input (`accumulate`).
        let backward: ([Float]) -> Void
        let name: String
        init(_ name: String, _ inputs: [Tensor], _ backward: @escaping ([Float]) -> Void) {
            self.name = name
            self.inputs = inputs
            self.backward = backward
        }
    }

    public init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
    }

    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    public convenience init(filled value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)), requiresGrad: requiresGrad)
    }

    /// Values from a normal distribution N(0, std²), seeded.
    public convenience init(randomNormal shape: [Int], std: Float = 1, seed: UInt64, requiresGrad: Bool = false) {
        var rng = SplitMix(seed: seed)
        let n = shape.reduce(1, *)
        self.init(shape: shape, data: (0..<n).map { _ in Float(rng.gaussian()) * std }, requiresGrad: requiresGrad)
    }

    /// Values uniform in [low, high), seeded.
    public convenience init(randomUniform shape: [Int], low: Float, high: Float, seed: UInt64, requiresGrad: Bool = false) {
        var rng = SplitMix(seed: seed)
        let n = shape.reduce(1, *)
        self.init(shape: shape, data: (0..<n).map { _ in low + (high - low) * Float(rng.unit()) }, requiresGrad: requiresGrad)
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }
    public var description: String { "Tensor\(shape)" }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(data.count == 1, "item of a tensor with \(data.count) values")
        return data[0]
    }

    /// True when a result computed from `inputs` must be recorded on the tape.
    static func recording(_ inputs: [Tensor]) -> Bool {
        !GradientMode.disabled && inputs.contains { $0.requiresGrad }
    }

    /// Makes the result of an operation, recording it when any input needs a gradient.
    static func result(_ name: String, shape: [Int], data: [Float], inputs: [Tensor],
                       backward: @escaping ([Float]) -> Void) -> Tensor {
        let out = Tensor(shape: shape, data: data)
        if recording(inputs) {
            out.requiresGrad = true
            out.node = Node(name, inputs, backward)
        }
        return out
    }

    /// Adds `g` into this tensor's gradient (allocating it on first use).
    func accumulate(_ g: [Float]) {
        guard requiresGrad else { return }
        precondition(g.count == data.count, "gradient size \(g.count) for \(shape)")
        if grad == nil {
            grad = g
        } else {
            grad!.withUnsafeMutableBufferPointer { a in
                g.withUnsafeBufferPointer { b in for i in 0..<a.count { a[i] += b[i] } }
            }
        }
    }

    /// Forgets the gradient (before the next step).
    public func zeroGrad() { grad = nil }

    /// A tensor with the same values, cut from the tape.
    public func detached() -> Tensor { Tensor(shape: shape, data: data) }
}

/// Turns gradient recording off inside `body` (evaluation, optimiser updates).
///
/// The switch belongs to the calling thread (a task-local value, which plain threads have
/// too): an evaluation on one thread never stops another thread's training from recording.
public enum GradientMode {
    @TaskLocal static var disabled = false

    public static func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
        try $disabled.withValue(true) { try body() }
    }
}

/// SplitMix64 with the engine's own Gaussian draw (initialisers, dropout masks).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func gaussian() -> Double {
        let u1 = max(unit(), 0x1.0p-53), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
