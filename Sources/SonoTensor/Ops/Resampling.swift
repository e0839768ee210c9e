/// Resampling: nearest-neighbour upsampling of the spatial axes (PyTorch's
/// `F.interpolate(x, scale_factor=s, mode="nearest")` with an integer factor).
extension Tensor {
    /// [N, C, H, W] → [N, C, s·H, s·W], each value repeated over an s×s block; the gradient of an
    /// input value is the sum of its block's.
    public func upsampledNearest(scale s: Int) -> Tensor {
        precondition(rank == 4 && s >= 1, "upsampledNearest on [N, C, H, W] with a factor ≥ 1, not \(shape) × \(s)")
        let planes = shape[0] * shape[1], (h, w) = (shape[2], shape[3])
        let (oh, ow) = (h * s, w * s)
        var out = [Float](repeating: 0, count: planes * oh * ow)
        data.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { y in
            Engine.parallelFor(planes) { p in
                for oy in 0..<oh {
                    let src = x.baseAddress! + (p * h + oy / s) * w, dst = y.baseAddress! + (p * oh + oy) * ow
                    for ox in 0..<ow { dst[ox] = src[ox / s] }
                }
            }
        } }
        return Tensor.result("upsample_nearest", shape: [shape[0], shape[1], oh, ow], data: out, inputs: [self]) { [self] g in
            var dx = [Float](repeating: 0, count: count)
            g.withUnsafeBufferPointer { gp in dx.withUnsafeMutableBufferPointer { d in
                Engine.parallelFor(planes) { p in
                    for oy in 0..<oh {
                        let src = gp.baseAddress! + (p * oh + oy) * ow, dst = d.baseAddress! + (p * h + oy / s) * w
                        for ox in 0..<ow { dst[ox / s] += src[ox] }
                    }
                }
            } }
            accumulate(dx)
        }
    }
}
