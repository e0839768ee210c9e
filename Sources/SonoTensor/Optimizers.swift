import Foundation

/// Parameters that share hyper-parameters (e.g. no weight decay on batch-norm and biases).
public final class ParameterGroup: @unchecked Sendable {
    public var parameters: [Tensor]
    public var learningRate: Float
    public var weightDecay: Float

    public init(_ parameters: [Tensor], learningRate: Float, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }
}

/// An optimiser updates its groups' parameters from their gradients; `step` then clears them.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get }
    func step()
}

extension Optimizer {
    public func zeroGrad() { for g in groups { for p in g.parameters { p.zeroGrad() } } }

    /// Scales every gradient so their global L2 norm is at most `maxNorm` (torch's
    /// clip_grad_norm_: factor maxNorm / (norm + 1e-6) when below 1). Returns the norm before.
    @discardableResult
    public func clipGradientNorm(_ maxNorm: Float) -> Float {
        var total: Double = 0
        for g in groups { for p in g.parameters { for v in p.grad ?? [] { total += Double(v) * Double(v) } } }
        let norm = Float(total.squareRoot())
        let factor = maxNorm / (norm + 1e-6)
        if factor < 1 {
            for g in groups { for p in g.parameters where p.grad != nil { p.grad = p.grad!.map { $0 * factor } } }
        }
        return norm
    }
}

/// SGD with momentum as torch.optim.SGD: buf = μ·buf + (g + λ·p); p −= lr·buf (nesterov: g + μ·buf).
public final class SGD: Optimizer {
    public let groups: [ParameterGroup]
    public var momentum: Float
    public var nesterov: Bool
    private var buffers: [ObjectIdentifier: [Float]] = [:]

    public init(_ groups: [ParameterGroup], momentum: Float = 0, nesterov: Bool = false) {
        self.groups = groups
        self.momentum = momentum
        self.nesterov = nesterov
    }

    public func step() {
        GradientMode.withoutGradients {
            for group in groups {
                for p in group.parameters {
                    guard var g = p.grad else { continue }
                    if group.weightDecay != 0 { for i in 0..<g.count { g[i] += group.weightDecay * p.data[i] } }
                    if momentum != 0 {
                        var buf = buffers[ObjectIdentifier(p)] ?? g
                        if buffers[ObjectIdentifier(p)] != nil { for i in 0..<g.count { buf[i] = momentum * buf[i] + g[i] } }
                        buffers[ObjectIdentifier(p)] = buf
                        if nesterov { for i in 0..<g.count { g[i] += momentum * buf[i] } } else { g = buf }
                    }
                    for i in 0..<g.count { p.data[i] -= group.learningRate * g[i] }
                }
            }
        }
    }
}

/// One parameter's Adam state: first and second moments and the number of steps taken.
public struct AdamMoments: Sendable, Equatable {
    public var m: [Float]
    public var v: [Float]
    public var step: Int

    public init(m: [Float], v: [Float], step: Int) {
        self.m = m
        self.v = v
        self.step = step
    }

    /// The state before a parameter's first step.
    public init(zeroFor count: Int) { self.init(m: [Float](repeating: 0, count: count), v: [Float](repeating: 0, count: count), step: 0) }
}

/// Adam as torch.optim.Adam (weight decay as L2: g += λ·p) or, with `decoupled`, AdamW
/// (p −= lr·λ·p, then Adam without decay). m, v with bias correction; p −= lr·m̂/(√v̂ + ε).
public final class Adam: Optimizer {
    public let groups: [ParameterGroup]
    public var beta1: Float, beta2: Float, epsilon: Float
    public let decoupled: Bool
    private var state: [ObjectIdentifier: AdamMoments] = [:]

    public init(_ groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, decoupled: Bool = false) {
        self.groups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.decoupled = decoupled
    }

    /// The moments and step count of `parameter` (for checkpoints), nil before its first step.
    public func state(of parameter: Tensor) -> AdamMoments? {
        state[ObjectIdentifier(parameter)]
    }

    /// Restores a parameter's moments and step count from a checkpoint.
    public func restoreState(of parameter: Tensor, _ moments: AdamMoments) {
        precondition(moments.m.count == parameter.count && moments.v.count == parameter.count, "optimiser state size")
        state[ObjectIdentifier(parameter)] = moments
    }

    /// AdamW (decoupled weight decay).
    public static func adamW(_ groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) -> Adam {
        Adam(groups, beta1: beta1, beta2: beta2, epsilon: epsilon, decoupled: true)
    }

    public func step() {
        GradientMode.withoutGradients {
            for group in groups {
                let lr = group.learningRate, wd = group.weightDecay
                for p in group.parameters {
                    guard var g = p.grad else { continue }
                    let key = ObjectIdentifier(p)
                    var s = state[key] ?? AdamMoments(zeroFor: p.count)
                    s.step += 1
                    if decoupled {
                        if wd != 0 { for i in 0..<p.count { p.data[i] *= 1 - lr * wd } }
                    } else if wd != 0 {
                        for i in 0..<g.count { g[i] += wd * p.data[i] }
                    }
                    let c1 = 1 - powf(beta1, Float(s.step)), c2 = 1 - powf(beta2, Float(s.step))
                    for i in 0..<p.count {
                        s.m[i] = beta1 * s.m[i] + (1 - beta1) * g[i]
                        s.v[i] = beta2 * s.v[i] + (1 - beta2) * g[i] * g[i]
                        let denom = (s.v[i] / c2).squareRoot() + epsilon
                        p.data[i] -= lr * (s.m[i] / c1) / denom
                    }
                    state[key] = s
                }
            }
        }
    }
}

/// Learning rate at a step: linear warm-up from 0, then cosine decay to `minimum`.
public struct WarmupCosineSchedule: Sendable {
    public var base: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minimum: Float

    public init(base: Float, warmupSteps: Int, totalSteps: Int, minimum: Float = 0) {
        self.base = base
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimum = minimum
    }

    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps { return base * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(span))
        return minimum + (base - minimum) * 0.5 * (1 + cosf(.pi * progress))
    }

    /// Sets every group's learning rate for `step`.
    public func apply(to optimizer: Optimizer, step: Int) {
        for g in optimizer.groups { g.learningRate = learningRate(at: step) }
    }
}
