/// Convolution in 1, 2 and 3 dimensions through vol2col and cblas_sgemm, with stride and
/// padding per axis. 1D and 2D are 3D with singleton leading spatial axes.
///
/// Shapes (3D): x [N, C, D, H, W], weight [O, C, kd, kh, kw], bias [O] → [N, O, Do, Ho, Wo],
/// Do = ⌊(D + 2·pd − kd) / sd⌋ + 1 (likewise H, W). Per sample: col [C·kd·kh·kw, Do·Ho·Wo],
/// out = W [O, K] · col. Backward: dW += g · colᵀ, dcol = Wᵀ · g, dx = col2vol(dcol); the
/// column matrix is rebuilt in backward rather than kept, so activations stay small.
public struct ConvGeometry: Hashable, Sendable {
    public var channels: Int, depth: Int, height: Int, width: Int
    public var kernel: (Int, Int, Int) { (kd, kh, kw) }
    var kd: Int, kh: Int, kw: Int
    var sd: Int, sh: Int, sw: Int
    var pd: Int, ph: Int, pw: Int

    var outDepth: Int { (depth + 2 * pd - kd) / sd + 1 }
    var outHeight: Int { (height + 2 * ph - kh) / sh + 1 }
    var outWidth: Int { (width + 2 * pw - kw) / sw + 1 }
    var columnRows: Int { channels * kd * kh * kw }
    var columnCols: Int { outDepth * outHeight * outWidth }
    /// 1×1×1, stride 1, no padding: the input already is the column matrix.
    var isPointwise: Bool { kd == 1 && kh == 1 && kw == 1 && sd == 1 && sh == 1 && sw == 1 && pd == 0 && ph == 0 && pw == 0 }

    public static func == (a: ConvGeometry, b: ConvGeometry) -> Bool {
        [a.channels, a.depth, a.height, a.width, a.kd, a.kh, a.kw, a.sd, a.sh, a.sw, a.pd, a.ph, a.pw]
            == [b.channels, b.depth, b.height, b.width, b.kd, b.kh, b.kw, b.sd, b.sh, b.sw, b.pd, b.ph, b.pw]
    }
    public func hash(into h: inout Hasher) { h.combine([channels, depth, height, width, kd, kh, kw, sd, sh, sw, pd, ph, pw]) }

    /// x (one sample, [C, D, H, W]) → col [C·kd·kh·kw, Do·Ho·Wo], zero where padding.
    func vol2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>) {
        let (od, oh, ow) = (outDepth, outHeight, outWidth)
        let plane = od * oh * ow
        Engine.parallelFor(channels) { c in
            let xc = x + c * depth * height * width
            for a in 0..<kd { for b in 0..<kh { for e in 0..<kw {
                let row = ((c * kd + a) * kh + b) * kw + e
                let out = col + row * plane
                for z in 0..<od {
                    let iz = z * sd - pd + a
                    for y in 0..<oh {
                        let iy = y * sh - ph + b
                        let o = out + (z * oh + y) * ow
                        if iz < 0 || iz >= depth || iy < 0 || iy >= height {
                            o.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = xc + (iz * height + iy) * width
                        if sw == 1 {
                            for x0 in 0..<ow {
                                let ix = x0 - pw + e
                                o[x0] = ix >= 0 && ix < width ? src[ix] : 0
                            }
                        } else {
                            for x0 in 0..<ow {
                                let ix = x0 * sw - pw + e
                                o[x0] = ix >= 0 && ix < width ? src[ix] : 0
                            }
                        }
                    }
                }
            } } }
        }
    }

    /// Adds col's entries back to the input positions they came from (the adjoint of vol2col).
    func col2vol(_ col: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let (od, oh, ow) = (outDepth, outHeight, outWidth)
        let plane = od * oh * ow
        Engine.parallelFor(channels) { c in
            let xc = dx + c * depth * height * width
            for a in 0..<kd { for b in 0..<kh { for e in 0..<kw {
                let row = ((c * kd + a) * kh + b) * kw + e
                let src = col + row * plane
                for z in 0..<od {
                    let iz = z * sd - pd + a
                    guard iz >= 0 && iz < depth else { continue }
                    for y in 0..<oh {
                        let iy = y * sh - ph + b
                        guard iy >= 0 && iy < height else { continue }
                        let s = src + (z * oh + y) * ow
                        let d = xc + (iz * height + iy) * width
                        for x0 in 0..<ow {
                            let ix = x0 * sw - pw + e
                            if ix >= 0 && ix < width { d[ix] += s[x0] }
                        }
                    }
                }
            } } }
        }
    }
}

extension Tensor {
    /// 3D convolution. `stride` and `padding` are per axis (D, H, W).
    public func conv3d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int, Int) = (1, 1, 1),
                       padding: (Int, Int, Int) = (0, 0, 0)) -> Tensor {
        precondition(rank == 5 && weight.rank == 5 && weight.shape[1] == shape[1], "conv3d \(shape) with weight \(weight.shape)")
        let geometry = ConvGeometry(channels: shape[1], depth: shape[2], height: shape[3], width: shape[4],
                                    kd: weight.shape[2], kh: weight.shape[3], kw: weight.shape[4],
                                    sd: stride.0, sh: stride.1, sw: stride.2, pd: padding.0, ph: padding.1, pw: padding.2)
        precondition(geometry.outDepth > 0 && geometry.outHeight > 0 && geometry.outWidth > 0, "conv3d output would be empty for \(shape)")
        let n = shape[0], o = weight.shape[0], k = geometry.columnRows, p = geometry.columnCols
        let inSize = shape.dropFirst().reduce(1, *)
        var out = [Float](repeating: 0, count: n * o * p)
        var col = geometry.isPointwise ? [] : [Float](repeating: 0, count: k * p)
        data.withUnsafeBufferPointer { x in weight.data.withUnsafeBufferPointer { w in out.withUnsafeMutableBufferPointer { y in
            col.withUnsafeMutableBufferPointer { cb in
                for i in 0..<n {
                    let columns: UnsafePointer<Float>
                    if geometry.isPointwise {
                        columns = x.baseAddress! + i * inSize
                    } else {
                        geometry.vol2col(x.baseAddress! + i * inSize, cb.baseAddress!)
                        columns = UnsafePointer(cb.baseAddress!)
                    }
                    Engine.gemm(false, false, o, p, k, w.baseAddress!, columns, y.baseAddress! + i * o * p)
                }
            }
        } } }
        if let bias {
            for i in 0..<n { for c in 0..<o { let b = bias.data[c]; for j in 0..<p { out[(i * o + c) * p + j] += b } } }
        }
        let outShape = [n, o, geometry.outDepth, geometry.outHeight, geometry.outWidth]
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        return Tensor.result("conv3d", shape: outShape, data: out, inputs: inputs) { [self] g in
            var dw = weight.requiresGrad ? [Float](repeating: 0, count: o * k) : []
            var dx = requiresGrad ? [Float](repeating: 0, count: count) : []
            var col = geometry.isPointwise ? [] : [Float](repeating: 0, count: k * p)
            var dcol = [Float](repeating: 0, count: requiresGrad && !geometry.isPointwise ? k * p : 0)
            data.withUnsafeBufferPointer { x in weight.data.withUnsafeBufferPointer { w in g.withUnsafeBufferPointer { gp in
                col.withUnsafeMutableBufferPointer { cb in dcol.withUnsafeMutableBufferPointer { dcb in
                    dw.withUnsafeMutableBufferPointer { dwb in dx.withUnsafeMutableBufferPointer { dxb in
                        for i in 0..<n {
                            let gi = gp.baseAddress! + i * o * p
                            if weight.requiresGrad {  // dW += g_i · col_iᵀ
                                let columns: UnsafePointer<Float>
                                if geometry.isPointwise {
                                    columns = x.baseAddress! + i * inSize
                                } else {
                                    geometry.vol2col(x.baseAddress! + i * inSize, cb.baseAddress!)
                                    columns = UnsafePointer(cb.baseAddress!)
                                }
                                Engine.gemm(false, true, o, k, p, gi, columns, beta: 1, dwb.baseAddress!)
                            }
                            if requiresGrad {  // dcol = Wᵀ · g_i, then back to the input's positions
                                if geometry.isPointwise {
                                    Engine.gemm(true, false, k, p, o, w.baseAddress!, gi, dxb.baseAddress! + i * inSize)
                                } else {
                                    Engine.gemm(true, false, k, p, o, w.baseAddress!, gi, dcb.baseAddress!)
                                    geometry.col2vol(dcb.baseAddress!, dxb.baseAddress! + i * inSize)
                                }
                            }
                        }
                    } }
                } }
            } } }
            if requiresGrad { accumulate(dx) }
            if weight.requiresGrad { weight.accumulate(dw) }
            if let bias, bias.requiresGrad {
                var db = [Float](repeating: 0, count: o)
                for i in 0..<n { for c in 0..<o { var s: Float = 0; for j in 0..<p { s += g[(i * o + c) * p + j] }; db[c] += s } }
                bias.accumulate(db)
            }
        }
    }

    /// 2D convolution: x [N, C, H, W], weight [O, C, kh, kw].
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) -> Tensor {
        precondition(rank == 4 && weight.rank == 4, "conv2d needs 4-D input and weight")
        let y = reshaped([shape[0], shape[1], 1, shape[2], shape[3]])
            .conv3d(weight: weight.reshaped([weight.shape[0], weight.shape[1], 1, weight.shape[2], weight.shape[3]]),
                    bias: bias, stride: (1, stride.0, stride.1), padding: (0, padding.0, padding.1))
        return y.reshaped([y.shape[0], y.shape[1], y.shape[3], y.shape[4]])
    }

    /// 1D convolution: x [N, C, L], weight [O, C, k].
    public func conv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(rank == 3 && weight.rank == 3, "conv1d needs 3-D input and weight")
        let y = reshaped([shape[0], shape[1], 1, 1, shape[2]])
            .conv3d(weight: weight.reshaped([weight.shape[0], weight.shape[1], 1, 1, weight.shape[2]]),
                    bias: bias, stride: (1, 1, stride), padding: (0, 0, padding))
        return y.reshaped([y.shape[0], y.shape[1], y.shape[4]])
    }
}
