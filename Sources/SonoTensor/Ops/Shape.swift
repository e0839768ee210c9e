/// Reshape (shares storage), transpose of two dimensions, and concatenation.

extension Tensor {
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let infer = target.firstIndex(of: -1) {
            target[infer] = count / Swift.max(1, target.enumerated().filter { $0.offset != infer }.map(\.element).reduce(1, *))
        }
        precondition(target.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor.result("reshape", shape: target, data: data, inputs: [self]) { [self] g in accumulate(g) }
    }

    /// Swaps dimensions `a` and `b` (a contiguous copy).
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        var perm = Array(0..<rank)
        perm.swapAt(a, b)
        return permuted(perm)
    }

    /// Reorders dimensions: result dimension i is input dimension perm[i].
    public func permuted(_ perm: [Int]) -> Tensor {
        precondition(perm.sorted() == Array(0..<rank), "bad permutation \(perm)")
        let outShape = perm.map { shape[$0] }
        let inStrides = Tensor.strides(shape)
        let mapped = perm.map { inStrides[$0] }  // input stride for each output dimension
        let out = Tensor.gather(data, outShape: outShape, strides: mapped)
        return Tensor.result("permute", shape: outShape, data: out, inputs: [self]) { [self] g in
            var inverse = [Int](repeating: 0, count: perm.count)
            for (i, p) in perm.enumerated() { inverse[p] = i }
            let gStrides = Tensor.strides(outShape)
            accumulate(Tensor.gather(g, outShape: shape, strides: inverse.map { gStrides[$0] }))
        }
    }

    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// out[index] = src[Σ index_d · strides_d], for every index of `outShape` in row-major order.
    static func gather(_ src: [Float], outShape: [Int], strides: [Int]) -> [Float] {
        let n = outShape.reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        var index = [Int](repeating: 0, count: outShape.count)
        var offset = 0
        for i in 0..<n {
            out[i] = src[offset]
            var d = outShape.count - 1
            while d >= 0 {
                index[d] += 1
                offset += strides[d]
                if index[d] < outShape[d] { break }
                offset -= strides[d] * outShape[d]
                index[d] = 0
                d -= 1
            }
        }
        return out
    }

    /// Joins tensors along `axis`; the other dimensions must agree.
    public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty)
        let first = parts[0].shape
        for p in parts {
            precondition(p.rank == first.count, "concat ranks differ")
            for d in 0..<first.count where d != axis { precondition(p.shape[d] == first[d], "concat shapes \(p.shape) and \(first)") }
        }
        let outer = first.prefix(axis).reduce(1, *), inner = first.dropFirst(axis + 1).reduce(1, *)
        let sizes = parts.map { $0.shape[axis] }
        let total = sizes.reduce(0, +)
        var shape = first
        shape[axis] = total
        var out = [Float](repeating: 0, count: outer * total * inner)
        var at = 0
        for (p, size) in Swift.zip(parts, sizes) {
            for o in 0..<outer {
                for k in 0..<(size * inner) { out[(o * total + at) * inner + k] = p.data[o * size * inner + k] }
            }
            at += size
        }
        return Tensor.result("concat", shape: shape, data: out, inputs: parts) { g in
            var at = 0
            for (p, size) in Swift.zip(parts, sizes) {
                if p.requiresGrad {
                    var dp = [Float](repeating: 0, count: p.count)
                    for o in 0..<outer { for k in 0..<(size * inner) { dp[o * size * inner + k] = g[(o * total + at) * inner + k] } }
                    p.accumulate(dp)
                }
                at += size
            }
        }
    }
}
