/// Max and average pooling in 2D and 3D (kernel, stride, padding per axis), adaptive average
/// pooling, and global average pooling. 2D is 3D with a singleton depth.
extension Tensor {
    private func pool3dGeometry(_ kernel: (Int, Int, Int), _ stride: (Int, Int, Int), _ padding: (Int, Int, Int)) -> (Int, Int, Int) {
        let od = (shape[2] + 2 * padding.0 - kernel.0) / stride.0 + 1
        let oh = (shape[3] + 2 * padding.1 - kernel.1) / stride.1 + 1
        let ow = (shape[4] + 2 * padding.2 - kernel.2) / stride.2 + 1
        precondition(od > 0 && oh > 0 && ow > 0, "pooling output would be empty for \(shape)")
        return (od, oh, ow)
    }

    /// Max pooling over [N, C, D, H, W]; padding counts as −∞. Gradients go to the (first) maximum.
    public func maxPool3d(kernel: (Int, Int, Int), stride: (Int, Int, Int)? = nil, padding: (Int, Int, Int) = (0, 0, 0)) -> Tensor {
        precondition(rank == 5, "maxPool3d needs [N, C, D, H, W]")
        let s = stride ?? kernel
        let (od, oh, ow) = pool3dGeometry(kernel, s, padding)
        let (nc, d, h, w) = (shape[0] * shape[1], shape[2], shape[3], shape[4])
        var out = [Float](repeating: 0, count: nc * od * oh * ow)
        var argmax = [Int](repeating: -1, count: out.count)
        for plane in 0..<nc {
            let base = plane * d * h * w
            for z in 0..<od { for y in 0..<oh { for x in 0..<ow {
                var best = -Float.infinity, at = -1
                for a in 0..<kernel.0 { let iz = z * s.0 - padding.0 + a; guard iz >= 0 && iz < d else { continue }
                    for b in 0..<kernel.1 { let iy = y * s.1 - padding.1 + b; guard iy >= 0 && iy < h else { continue }
                        for e in 0..<kernel.2 { let ix = x * s.2 - padding.2 + e; guard ix >= 0 && ix < w else { continue }
                            let i = base + (iz * h + iy) * w + ix
                            if data[i] > best { best = data[i]; at = i }
                        } } }
                let o = ((plane * od + z) * oh + y) * ow + x
                out[o] = best
                argmax[o] = at
            } } }
        }
        return Tensor.result("maxpool", shape: [shape[0], shape[1], od, oh, ow], data: out, inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for (o, i) in argmax.enumerated() where i >= 0 { dx[i] += g[o] }
            accumulate(dx)
        }
    }

    /// Average pooling over [N, C, D, H, W]; padded positions count as zeros (count_include_pad).
    public func avgPool3d(kernel: (Int, Int, Int), stride: (Int, Int, Int)? = nil, padding: (Int, Int, Int) = (0, 0, 0)) -> Tensor {
        precondition(rank == 5, "avgPool3d needs [N, C, D, H, W]")
        let s = stride ?? kernel
        let (od, oh, ow) = pool3dGeometry(kernel, s, padding)
        let (nc, d, h, w) = (shape[0] * shape[1], shape[2], shape[3], shape[4])
        let norm = 1 / Float(kernel.0 * kernel.1 * kernel.2)
        var out = [Float](repeating: 0, count: nc * od * oh * ow)
        func window(_ z: Int, _ y: Int, _ x: Int, _ visit: (Int) -> Void) {
            for a in 0..<kernel.0 { let iz = z * s.0 - padding.0 + a; guard iz >= 0 && iz < d else { continue }
                for b in 0..<kernel.1 { let iy = y * s.1 - padding.1 + b; guard iy >= 0 && iy < h else { continue }
                    for e in 0..<kernel.2 { let ix = x * s.2 - padding.2 + e; guard ix >= 0 && ix < w else { continue }
                        visit((iz * h + iy) * w + ix)
                    } } }
        }
        for plane in 0..<nc {
            let base = plane * d * h * w
            for z in 0..<od { for y in 0..<oh { for x in 0..<ow {
                var sum: Float = 0
                window(z, y, x) { sum += data[base + $0] }
                out[((plane * od + z) * oh + y) * ow + x] = sum * norm
            } } }
        }
        return Tensor.result("avgpool", shape: [shape[0], shape[1], od, oh, ow], data: out, inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for plane in 0..<nc {
                let base = plane * d * h * w
                for z in 0..<od { for y in 0..<oh { for x in 0..<ow {
                    let v = g[((plane * od + z) * oh + y) * ow + x] * norm
                    window(z, y, x) { dx[base + $0] += v }
                } } }
            }
            accumulate(dx)
        }
    }

    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let s = stride ?? kernel
        let y = reshaped([shape[0], shape[1], 1, shape[2], shape[3]])
            .maxPool3d(kernel: (1, kernel.0, kernel.1), stride: (1, s.0, s.1), padding: (0, padding.0, padding.1))
        return y.reshaped([y.shape[0], y.shape[1], y.shape[3], y.shape[4]])
    }

    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let s = stride ?? kernel
        let y = reshaped([shape[0], shape[1], 1, shape[2], shape[3]])
            .avgPool3d(kernel: (1, kernel.0, kernel.1), stride: (1, s.0, s.1), padding: (0, padding.0, padding.1))
        return y.reshaped([y.shape[0], y.shape[1], y.shape[3], y.shape[4]])
    }

    /// PyTorch's adaptive average pooling over the trailing spatial axes of [N, C, spatial…]:
    /// output cell i covers [⌊i·L/O⌋, ⌈(i+1)·L/O⌉).
    public func adaptiveAvgPool(_ outputSize: [Int]) -> Tensor {
        let spatial = Array(shape.dropFirst(2))
        precondition(spatial.count == outputSize.count && (1...3).contains(spatial.count), "adaptive pool \(outputSize) on \(shape)")
        let pad = 3 - spatial.count
        let ins = [Int](repeating: 1, count: pad) + spatial, outs = [Int](repeating: 1, count: pad) + outputSize
        let nc = shape[0] * shape[1]
        func range(_ i: Int, _ l: Int, _ o: Int) -> Range<Int> { (i * l / o)..<(((i + 1) * l + o - 1) / o) }
        let planeIn = ins.reduce(1, *), planeOut = outs.reduce(1, *)
        var out = [Float](repeating: 0, count: nc * planeOut)
        for p in 0..<nc { for z in 0..<outs[0] { for y in 0..<outs[1] { for x in 0..<outs[2] {
            let rz = range(z, ins[0], outs[0]), ry = range(y, ins[1], outs[1]), rx = range(x, ins[2], outs[2])
            var s: Float = 0
            for a in rz { for b in ry { for c in rx { s += data[p * planeIn + (a * ins[1] + b) * ins[2] + c] } } }
            out[p * planeOut + (z * outs[1] + y) * outs[2] + x] = s / Float(rz.count * ry.count * rx.count)
        } } } }
        let outShape = Array(shape.prefix(2)) + outputSize
        return Tensor.result("adaptiveavgpool", shape: outShape, data: out, inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for p in 0..<nc { for z in 0..<outs[0] { for y in 0..<outs[1] { for x in 0..<outs[2] {
                let rz = range(z, ins[0], outs[0]), ry = range(y, ins[1], outs[1]), rx = range(x, ins[2], outs[2])
                let v = g[p * planeOut + (z * outs[1] + y) * outs[2] + x] / Float(rz.count * ry.count * rx.count)
                for a in rz { for b in ry { for c in rx { dx[p * planeIn + (a * ins[1] + b) * ins[2] + c] += v } } }
            } } } }
            accumulate(dx)
        }
    }

    /// Mean over all spatial axes: [N, C, …] → [N, C].
    public func globalAvgPool() -> Tensor {
        let n = shape[0], c = shape[1], inner = shape.dropFirst(2).reduce(1, *)
        var out = [Float](repeating: 0, count: n * c)
        for i in 0..<(n * c) { var s: Float = 0; for k in 0..<inner { s += data[i * inner + k] }; out[i] = s / Float(inner) }
        return Tensor.result("globalavgpool", shape: [n, c], data: out, inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            for i in 0..<(n * c) { let v = g[i] / Float(inner); for k in 0..<inner { dx[i * inner + k] = v } }
            accumulate(dx)
        }
    }
}
