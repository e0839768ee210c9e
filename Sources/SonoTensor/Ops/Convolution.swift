/// Convolution in 1, 2 and 3 dimensions through vol2col and cblas_sgemm, with stride and
/// padding per axis. 1D and 2D are 3D with singleton leading spatial axes.
///
/// Shapes (3D): x [N, C, D, H, W], weight [O, C, kd, kh, kw], bias [O] → [N, O, Do, Ho, Wo],
/// Do = ⌊(D + 2·pd − kd) / sd⌋ + 1 (likewise H, W). Per sample: col [C·kd·kh·kw, Do·Ho·Wo],
/// out = W [O, K] · col. Backward: dW += g · colᵀ, dcol = Wᵀ · g, dx = col2vol(dcol).
/// The column matrix is built a block of output rows at a time (about 2 MB, so it stays in
/// cache between vol2col and the GEMM) and rebuilt in backward rather than kept.
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

    /// A (k,1,1) kernel over whole planes (no spatial stride or padding): computed as kd GEMMs
    /// per output plane straight from the input, with no column matrix.
    var isTemporal: Bool { !isPointwise && kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 }

    /// Output rows (z, y pairs, row index z·Ho + y) per block of the column matrix.
    var rowsPerBlock: Int { max(1, (1 << 19) / max(1, columnRows * outWidth)) }

    /// The output columns x0 whose input column x0·sw − pw + e (kernel tap e) lies inside the
    /// row: the rest read padding. Computed once per tap so the inner loops have no branch.
    @inline(__always) func inputColumns(tap e: Int) -> Range<Int> {
        let first = pw - e > 0 ? (pw - e + sw - 1) / sw : 0
        let last = width - 1 + pw - e
        let end = last < 0 ? 0 : Swift.min(outWidth, last / sw + 1)
        return Swift.min(first, end)..<end
    }

    /// x (one sample, [C, D, H, W]) → the columns of output rows `rows`:
    /// col [C·kd·kh·kw, rows.count·Wo], zero where padding.
    func vol2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let (oh, ow) = (outHeight, outWidth)
        let plane = rows.count * ow
        Engine.parallelFor(channels) { c in
            let xc = x + c * depth * height * width
            for a in 0..<kd { for b in 0..<kh { for e in 0..<kw {
                let row = ((c * kd + a) * kh + b) * kw + e
                let out = col + row * plane, valid = inputColumns(tap: e)
                for r in rows {
                    let z = r / oh, y = r % oh
                    let iz = z * sd - pd + a
                    do {
                        let iy = y * sh - ph + b
                        let o = out + (r - rows.lowerBound) * ow
                        if iz < 0 || iz >= depth || iy < 0 || iy >= height {
                            o.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = xc + (iz * height + iy) * width
                        o.update(repeating: 0, count: valid.lowerBound)
                        StridedRow.gather(src + (valid.lowerBound * sw - pw + e), stride: sw, into: o + valid.lowerBound, valid.count,
                                          available: width - (valid.lowerBound * sw - pw + e))
                        (o + valid.upperBound).update(repeating: 0, count: ow - valid.upperBound)
                    }
                }
            } } }
        }
    }

    /// Adds the columns of output rows `rows` back to the input positions they came from
    /// (the adjoint of vol2col).
    func col2vol(_ col: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        let (oh, ow) = (outHeight, outWidth)
        let plane = rows.count * ow
        Engine.parallelFor(channels) { c in
            let xc = dx + c * depth * height * width
            for a in 0..<kd { for b in 0..<kh { for e in 0..<kw {
                let row = ((c * kd + a) * kh + b) * kw + e
                let src = col + row * plane, valid = inputColumns(tap: e)
                for r in rows {
                    let z = r / oh, y = r % oh
                    let iz = z * sd - pd + a
                    guard iz >= 0 && iz < depth else { continue }
                    do {
                        let iy = y * sh - ph + b
                        guard iy >= 0 && iy < height else { continue }
                        let s = src + (r - rows.lowerBound) * ow
                        let d = xc + (iz * height + iy) * width
                        StridedRow.scatterAdd(s + valid.lowerBound, into: d + (valid.lowerBound * sw - pw + e), stride: sw, valid.count,
                                              available: width - (valid.lowerBound * sw - pw + e))
                    }
                }
            } } }
        }
    }
}

/// One kernel tap's pass along a row: output column j reads input column j·stride. Stride 1
/// is a copy; stride 2 (the downsampling convolutions) uses whole vector loads of the row and
/// keeps their even lanes, while the load stays inside the row (`available` values from the start).
enum StridedRow {
    typealias Wide = SIMD16<Float>
    typealias Narrow = SIMD8<Float>

    /// out[j] = src[j·stride], j < count.
    static func gather(_ src: UnsafePointer<Float>, stride: Int, into out: UnsafeMutablePointer<Float>, _ count: Int, available: Int) {
        if stride == 1 { out.update(from: src, count: count); return }
        var j = 0
        if stride == 2 {
            while j + 8 <= count && 2 * j + 16 <= available {
                let v = UnsafeRawPointer(src + 2 * j).loadUnaligned(as: Wide.self)
                UnsafeMutableRawPointer(out + j).storeBytes(of: v.evenHalf, as: Narrow.self)
                j += 8
            }
        }
        var p = src + j &* stride
        while j < count { out[j] = p.pointee; p += stride; j += 1 }
    }

    /// dst[j·stride] += values[j], j < count (the adjoint of `gather`).
    static func scatterAdd(_ values: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, stride: Int, _ count: Int, available: Int) {
        var j = 0
        if stride == 1 {
            while j + 8 <= count {
                let d = UnsafeMutableRawPointer(dst + j)
                d.storeBytes(of: d.loadUnaligned(as: Narrow.self) + UnsafeRawPointer(values + j).loadUnaligned(as: Narrow.self), as: Narrow.self)
                j += 8
            }
        } else if stride == 2 {
            while j + 8 <= count && 2 * j + 16 <= available {
                let d = UnsafeMutableRawPointer(dst + 2 * j)
                var v = d.loadUnaligned(as: Wide.self)
                v.evenHalf += UnsafeRawPointer(values + j).loadUnaligned(as: Narrow.self)
                d.storeBytes(of: v, as: Wide.self)
                j += 8
            }
        }
        var p = dst + j &* stride
        while j < count { p.pointee += values[j]; p += stride; j += 1 }
    }
}

/// The (k,1,1) convolution of one sample as kd·Do GEMMs on whole planes:
/// out[:, z, :] += W_a · x[:, z·sd − pd + a, :], W_a = W[:, :, a] ([O, C]).
struct TemporalConv {
    let g: ConvGeometry
    let o: Int
    /// W repacked as kd matrices [O, C].
    let packed: [Float]

    init(geometry: ConvGeometry, outChannels: Int, weight: [Float]) {
        g = geometry
        o = outChannels
        guard geometry.isTemporal else { packed = []; return }
        let (c, kd) = (geometry.channels, geometry.kd)
        var p = [Float](repeating: 0, count: kd * outChannels * c)
        for a in 0..<kd { for oc in 0..<outChannels { for ic in 0..<c { p[(a * outChannels + oc) * c + ic] = weight[(oc * c + ic) * kd + a] } } }
        packed = p
    }

    private var plane: Int { g.height * g.width }

    /// Pairs (output plane, kernel tap, input plane) that touch real (unpadded) input.
    private func taps(_ body: (Int, Int, Int) -> Void) {
        for z in 0..<g.outDepth { for a in 0..<g.kd {
            let zi = z * g.sd - g.pd + a
            if zi >= 0 && zi < g.depth { body(z, a, zi) }
        } }
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let c = g.channels, hw = plane
        packed.withUnsafeBufferPointer { w in
            taps { z, a, zi in
                Engine.gemm(false, false, o, hw, c, w.baseAddress! + a * o * c, lda: c, x + zi * hw, ldb: g.depth * hw,
                            beta: 1, y + z * hw, ldc: g.outDepth * hw)
            }
        }
    }

    /// dW (packed layout, accumulated) and dx (accumulated) from the output gradient.
    func backward(_ x: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, dW: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?) {
        let c = g.channels, hw = plane
        packed.withUnsafeBufferPointer { w in
            taps { z, a, zi in
                if let dW {
                    Engine.gemm(false, true, o, c, hw, gy + z * hw, lda: g.outDepth * hw, x + zi * hw, ldb: g.depth * hw,
                                beta: 1, dW + a * o * c, ldc: c)
                }
                if let dx {
                    Engine.gemm(true, false, c, hw, o, w.baseAddress! + a * o * c, lda: c, gy + z * hw, ldb: g.outDepth * hw,
                                beta: 1, dx + zi * hw, ldc: g.depth * hw)
                }
            }
        }
    }

    /// Packed [kd, O, C] → PyTorch's [O, C, kd, 1, 1].
    func unpack(_ p: [Float]) -> [Float] {
        let (c, kd) = (g.channels, g.kd)
        var w = [Float](repeating: 0, count: p.count)
        for a in 0..<kd { for oc in 0..<o { for ic in 0..<c { w[(oc * c + ic) * kd + a] = p[(a * o + oc) * c + ic] } } }
        return w
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
        let ow = geometry.outWidth, totalRows = geometry.outDepth * geometry.outHeight
        let blockRows = geometry.rowsPerBlock
        let blocks = Swift.stride(from: 0, to: totalRows, by: blockRows).map { $0..<min($0 + blockRows, totalRows) }
        var out = [Float](repeating: 0, count: n * o * p)
        var col = geometry.isPointwise || geometry.isTemporal ? [] : [Float](repeating: 0, count: k * blockRows * ow)
        let temporal = TemporalConv(geometry: geometry, outChannels: o, weight: weight.data)
        data.withUnsafeBufferPointer { x in weight.data.withUnsafeBufferPointer { w in out.withUnsafeMutableBufferPointer { y in
            col.withUnsafeMutableBufferPointer { cb in
                for i in 0..<n {
                    let xi = x.baseAddress! + i * inSize, yi = y.baseAddress! + i * o * p
                    if geometry.isPointwise {
                        Engine.gemm(false, false, o, p, k, w.baseAddress!, xi, yi)
                        continue
                    }
                    if geometry.isTemporal {
                        temporal.forward(xi, yi)
                        continue
                    }
                    for rows in blocks {
                        geometry.vol2col(xi, cb.baseAddress!, rows: rows)
                        let cols = rows.count * ow
                        Engine.gemm(false, false, o, cols, k, w.baseAddress!, lda: k, cb.baseAddress!, ldb: cols,
                                    yi + rows.lowerBound * ow, ldc: p)
                    }
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
            let needsColumns = !geometry.isPointwise && !geometry.isTemporal
            var col = needsColumns ? [Float](repeating: 0, count: k * blockRows * ow) : []
            var dcol = [Float](repeating: 0, count: requiresGrad && needsColumns ? k * blockRows * ow : 0)
            var dwTemporal = geometry.isTemporal && weight.requiresGrad ? [Float](repeating: 0, count: o * k) : []
            data.withUnsafeBufferPointer { x in weight.data.withUnsafeBufferPointer { w in g.withUnsafeBufferPointer { gp in
                col.withUnsafeMutableBufferPointer { cb in dcol.withUnsafeMutableBufferPointer { dcb in
                    dw.withUnsafeMutableBufferPointer { dwb in dx.withUnsafeMutableBufferPointer { dxb in
                        for i in 0..<n {
                            let gi = gp.baseAddress! + i * o * p, xi = x.baseAddress! + i * inSize
                            if geometry.isPointwise {
                                if weight.requiresGrad { Engine.gemm(false, true, o, k, p, gi, xi, beta: 1, dwb.baseAddress!) }
                                if requiresGrad { Engine.gemm(true, false, k, p, o, w.baseAddress!, gi, dxb.baseAddress! + i * inSize) }
                                continue
                            }
                            if geometry.isTemporal {
                                dwTemporal.withUnsafeMutableBufferPointer { dwt in
                                    temporal.backward(xi, gi, dW: weight.requiresGrad ? dwt.baseAddress : nil,
                                                      dx: requiresGrad ? dxb.baseAddress! + i * inSize : nil)
                                }
                                continue
                            }
                            for rows in blocks {
                                let cols = rows.count * ow, gBlock = gi + rows.lowerBound * ow
                                if weight.requiresGrad {  // dW += g_i[:, block] · colᵀ
                                    geometry.vol2col(xi, cb.baseAddress!, rows: rows)
                                    Engine.gemm(false, true, o, k, cols, gBlock, lda: p, cb.baseAddress!, ldb: cols, beta: 1,
                                                dwb.baseAddress!, ldc: k)
                                }
                                if requiresGrad {  // dcol = Wᵀ · g_i[:, block], then back to the input's positions
                                    Engine.gemm(true, false, k, cols, o, w.baseAddress!, lda: k, gBlock, ldb: p,
                                                dcb.baseAddress!, ldc: cols)
                                    geometry.col2vol(dcb.baseAddress!, dxb.baseAddress! + i * inSize, rows: rows)
                                }
                            }
                        }
                    } }
                } }
            } } }
            if requiresGrad { accumulate(dx) }
            if weight.requiresGrad { weight.accumulate(geometry.isTemporal ? temporal.unpack(dwTemporal) : dw) }
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
