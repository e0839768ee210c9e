/// Per-sample standardisation of pixels: each still and each clip (over all its frames) to
/// zero mean and unit standard deviation.
///
/// Why: the image gain of an ultrasound recording changes from hold to hold and from
/// sonographer to sonographer. At random initialisation the first principal component of the
/// encoders' pooled features is the frame's mean brightness (correlation 0.85–0.93 on the
/// labelled samples), and a clip and its still share it, so matching them by brightness is a
/// shortcut the contrastive terms take (docs/training.md, "Why it collapsed"). Standardising
/// every sample removes gain and contrast from the input.
public enum SampleStandardization {
    /// Below this standard deviation a sample is blank: it is only centred.
    public static let minimumStd: Float = 1e-4

    /// Standardises `count` values at `values` in place.
    public static func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var sum = 0.0, squares = 0.0
        for k in 0..<count {
            let v = Double(values[k])
            sum += v
            squares += v * v
        }
        let mean = sum / Double(count)
        let std = max(0, squares / Double(count) - mean * mean).squareRoot()
        let scale = std < Double(minimumStd) ? 1 : Float(1 / std)
        let m = Float(mean)
        for k in 0..<count { values[k] = (values[k] - m) * scale }
    }

    /// Standardises each of the consecutive samples of `sampleSize` values in `values`.
    public static func apply(_ values: inout [Float], sampleSize: Int) {
        guard sampleSize > 0 else { return }
        values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var start = 0
            while start + sampleSize <= buffer.count {
                apply(base + start, count: sampleSize)
                start += sampleSize
            }
        }
    }
}
