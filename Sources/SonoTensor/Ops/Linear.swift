/// Matrix multiply and the linear layer, on cblas_sgemm.
///
/// Shapes: matmul a [M, K] · b [K, N] → [M, N]; linear x [N, in], weight [out, in],
/// bias [out] → [N, out] (PyTorch's layout, so weights load by name).
extension Tensor {
    public func matmul(_ b: Tensor) -> Tensor {
        precondition(rank == 2 && b.rank == 2 && shape[1] == b.shape[0], "matmul \(shape) · \(b.shape)")
        return product(b, transposeB: false)
    }

    /// x · weightᵀ + bias.
    public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(rank == 2 && weight.rank == 2 && weight.shape[1] == shape[1], "linear \(shape) with weight \(weight.shape)")
        let y = product(weight, transposeB: true)
        return bias.map { y.addingChannelBias($0) } ?? y
    }

    /// self [M, K] · op(b), op(b) = b [K, N] or bᵀ for b [N, K].
    /// Backward: dA = g · op(b)ᵀ; dB = aᵀ · g (or gᵀ · a when transposed).
    private func product(_ b: Tensor, transposeB: Bool) -> Tensor {
        let (m, k) = (shape[0], shape[1])
        let n = transposeB ? b.shape[0] : b.shape[1]
        var out = [Float](repeating: 0, count: m * n)
        data.withUnsafeBufferPointer { x in b.data.withUnsafeBufferPointer { y in out.withUnsafeMutableBufferPointer { o in
            Engine.gemm(false, transposeB, m, n, k, x.baseAddress!, y.baseAddress!, o.baseAddress!)
        } } }
        return Tensor.result(transposeB ? "linear" : "matmul", shape: [m, n], data: out, inputs: [self, b]) { [self] g in
            if requiresGrad {
                var da = [Float](repeating: 0, count: m * k)
                g.withUnsafeBufferPointer { gp in b.data.withUnsafeBufferPointer { y in da.withUnsafeMutableBufferPointer { d in
                    Engine.gemm(false, !transposeB, m, k, n, gp.baseAddress!, y.baseAddress!, d.baseAddress!)
                } } }
                accumulate(da)
            }
            if b.requiresGrad {
                var db = [Float](repeating: 0, count: k * n)
                data.withUnsafeBufferPointer { x in g.withUnsafeBufferPointer { gp in db.withUnsafeMutableBufferPointer { d in
                    if transposeB {
                        Engine.gemm(true, false, n, k, m, gp.baseAddress!, x.baseAddress!, d.baseAddress!)
                    } else {
                        Engine.gemm(true, false, k, n, m, x.baseAddress!, gp.baseAddress!, d.baseAddress!)
                    }
                } } }
                b.accumulate(db)
            }
        }
    }
}
