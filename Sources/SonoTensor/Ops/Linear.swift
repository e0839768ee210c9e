/// Matrix multiply and the linear layer, on cblas_sgemm.
///
/// Shapes: matmul a [M, K] · b [K, N] → [M, N]; linear x [N, in], weight [out, in],
/// bias [out] → [N, out] (PyTorch's layout, so weights load by name).
extension Tensor {
    public func matmul(_ b: Tensor) -> Tensor {
        precondition(rank == 2 && b.rank == 2 && shape[1] == b.shape[0], "matmul \(shape) · \(b.shape)")
        let (m, k, n) = (shape[0], shape[1], b.shape[1])
        var out = [Float](repeating: 0, count: m * n)
        data.withUnsafeBufferPointer { x in b.data.withUnsafeBufferPointer { y in out.withUnsafeMutableBufferPointer { o in
            Engine.gemm(false, false, m, n, k, x.baseAddress!, y.baseAddress!, o.baseAddress!)
        } } }
        return Tensor.result("matmul", shape: [m, n], data: out, inputs: [self, b]) { [self] g in
            if requiresGrad {  // dA = g · bᵀ
                var da = [Float](repeating: 0, count: m * k)
                g.withUnsafeBufferPointer { gp in b.data.withUnsafeBufferPointer { y in da.withUnsafeMutableBufferPointer { d in
                    Engine.gemm(false, true, m, k, n, gp.baseAddress!, y.baseAddress!, d.baseAddress!)
                } } }
                accumulate(da)
            }
            if b.requiresGrad {  // dB = aᵀ · g
                var db = [Float](repeating: 0, count: k * n)
                data.withUnsafeBufferPointer { x in g.withUnsafeBufferPointer { gp in db.withUnsafeMutableBufferPointer { d in
                    Engine.gemm(true, false, k, n, m, x.baseAddress!, gp.baseAddress!, d.baseAddress!)
                } } }
                b.accumulate(db)
            }
        }
    }

    /// x · weightᵀ + bias.
    public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(rank == 2 && weight.rank == 2 && weight.shape[1] == shape[1], "linear \(shape) with weight \(weight.shape)")
        let (n, inF, outF) = (shape[0], shape[1], weight.shape[0])
        var out = [Float](repeating: 0, count: n * outF)
        if let bias { for i in 0..<n { for j in 0..<outF { out[i * outF + j] = bias.data[j] } } }
        data.withUnsafeBufferPointer { x in weight.data.withUnsafeBufferPointer { w in out.withUnsafeMutableBufferPointer { o in
            Engine.gemm(false, true, n, outF, inF, x.baseAddress!, w.baseAddress!, beta: bias == nil ? 0 : 1, o.baseAddress!)
        } } }
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        return Tensor.result("linear", shape: [n, outF], data: out, inputs: inputs) { [self] g in
            if requiresGrad {  // dx = g · W
                var dx = [Float](repeating: 0, count: n * inF)
                g.withUnsafeBufferPointer { gp in weight.data.withUnsafeBufferPointer { w in dx.withUnsafeMutableBufferPointer { d in
                    Engine.gemm(false, false, n, inF, outF, gp.baseAddress!, w.baseAddress!, d.baseAddress!)
                } } }
                accumulate(dx)
            }
            if weight.requiresGrad {  // dW = gᵀ · x
                var dw = [Float](repeating: 0, count: outF * inF)
                g.withUnsafeBufferPointer { gp in data.withUnsafeBufferPointer { x in dw.withUnsafeMutableBufferPointer { d in
                    Engine.gemm(true, false, outF, inF, n, gp.baseAddress!, x.baseAddress!, d.baseAddress!)
                } } }
                weight.accumulate(dw)
            }
            if let bias, bias.requiresGrad {
                var db = [Float](repeating: 0, count: outF)
                for i in 0..<n { for j in 0..<outF { db[j] += g[i * outF + j] } }
                bias.accumulate(db)
            }
        }
    }
}
