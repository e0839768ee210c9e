/// Elementwise operations: same-shape add and multiply, scaling, ReLU, sigmoid, and adding a
/// per-channel bias (dimension 1 of an N×C×… tensor).

extension Tensor {
    static func elementwise(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> [Float] {
        precondition(a.shape == b.shape, "shapes differ: \(a.shape) and \(b.shape)")
        var out = [Float](repeating: 0, count: a.count)
        a.data.withUnsafeBufferPointer { x in b.data.withUnsafeBufferPointer { y in
            for i in 0..<out.count { out[i] = f(x[i], y[i]) }
        } }
        return out
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        Tensor.result("add", shape: a.shape, data: elementwise(a, b, +), inputs: [a, b]) { g in
            a.accumulate(g)
            b.accumulate(g)
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        Tensor.result("sub", shape: a.shape, data: elementwise(a, b, -), inputs: [a, b]) { g in
            a.accumulate(g)
            b.accumulate(g.map { -$0 })
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        Tensor.result("mul", shape: a.shape, data: elementwise(a, b, *), inputs: [a, b]) { g in
            if a.requiresGrad { a.accumulate(elementwise(Tensor(shape: a.shape, data: g), b, *)) }
            if b.requiresGrad { b.accumulate(elementwise(Tensor(shape: a.shape, data: g), a, *)) }
        }
    }

    public func scaled(by s: Float) -> Tensor {
        Tensor.result("scale", shape: shape, data: data.map { $0 * s }, inputs: [self]) { [self] g in
            accumulate(g.map { $0 * s })
        }
    }

    public func relu() -> Tensor {
        let x = data
        return Tensor.result("relu", shape: shape, data: x.map { Swift.max($0, 0) }, inputs: [self]) { [self] g in
            var dx = g
            for i in 0..<dx.count where x[i] <= 0 { dx[i] = 0 }
            accumulate(dx)
        }
    }

    public func sigmoid() -> Tensor {
        let y = data.map { 1 / (1 + expf(-$0)) }
        return Tensor.result("sigmoid", shape: shape, data: y, inputs: [self]) { [self] g in
            var dx = g
            for i in 0..<dx.count { dx[i] *= y[i] * (1 - y[i]) }
            accumulate(dx)
        }
    }

    /// Adds `bias` (shape [C]) along dimension 1 of an [N, C, …] tensor.
    public func addingChannelBias(_ bias: Tensor) -> Tensor {
        precondition(rank >= 2 && bias.shape == [shape[1]], "bias \(bias.shape) for \(shape)")
        let n = shape[0], c = shape[1], inner = shape.dropFirst(2).reduce(1, *)
        var out = data
        for i in 0..<n { for ch in 0..<c {
            let b = bias.data[ch], base = (i * c + ch) * inner
            for k in 0..<inner { out[base + k] += b }
        } }
        return Tensor.result("bias", shape: shape, data: out, inputs: [self, bias]) { [self] g in
            accumulate(g)
            if bias.requiresGrad {
                var db = [Float](repeating: 0, count: c)
                for i in 0..<n { for ch in 0..<c {
                    let base = (i * c + ch) * inner
                    var s: Float = 0
                    for k in 0..<inner { s += g[base + k] }
                    db[ch] += s
                } }
                bias.accumulate(db)
            }
        }
    }
}

import Foundation
