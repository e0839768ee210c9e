/// Reductions: sum and mean of everything, mean and max over one axis.
extension Tensor {
    public func sum() -> Tensor {
        Tensor.result("sum", shape: [1], data: [data.reduce(0, +)], inputs: [self]) { [self] g in
            accumulate([Float](repeating: g[0], count: count))
        }
    }

    public func mean() -> Tensor {
        let n = Float(count)
        return Tensor.result("mean", shape: [1], data: [data.reduce(0, +) / n], inputs: [self]) { [self] g in
            accumulate([Float](repeating: g[0] / n, count: count))
        }
    }

    /// (outer, size, inner) around `axis`.
    func split(_ axis: Int) -> (Int, Int, Int) {
        (shape.prefix(axis).reduce(1, *), shape[axis], shape.dropFirst(axis + 1).reduce(1, *))
    }

    /// Mean over `axis` (removed from the shape).
    public func mean(axis: Int) -> Tensor {
        let (outer, size, inner) = split(axis)
        var out = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer { for k in 0..<inner {
            var s: Float = 0
            for j in 0..<size { s += data[(o * size + j) * inner + k] }
            out[o * inner + k] = s / Float(size)
        } }
        var outShape = shape
        outShape.remove(at: axis)
        return Tensor.result("mean_axis", shape: outShape, data: out, inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for o in 0..<outer { for k in 0..<inner {
                let v = g[o * inner + k] / Float(size)
                for j in 0..<size { dx[(o * size + j) * inner + k] = v }
            } }
            accumulate(dx)
        }
    }

    /// Max over `axis` (removed from the shape); the gradient goes to the first maximum.
    public func max(axis: Int) -> Tensor {
        let (outer, size, inner) = split(axis)
        var out = [Float](repeating: -.infinity, count: outer * inner)
        var at = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer { for k in 0..<inner {
            for j in 0..<size {
                let v = data[(o * size + j) * inner + k]
                if v > out[o * inner + k] { out[o * inner + k] = v; at[o * inner + k] = j }
            }
        } }
        var outShape = shape
        outShape.remove(at: axis)
        return Tensor.result("max_axis", shape: outShape, data: out, inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for o in 0..<outer { for k in 0..<inner { dx[(o * size + at[o * inner + k]) * inner + k] = g[o * inner + k] } }
            accumulate(dx)
        }
    }
}
