import SonoLoader

/// How a run turns pixel bytes into encoder input outside the loader (frozen features,
/// fine-tuning): (x/255 − mean)/std, then, with `perSample`, each sample standardised on its own
/// (`SampleStandardization`), as the loader does for that run (`[normalize]`).
public struct PixelInput: Sendable, Equatable {
    public var mean: Float = 0, std: Float = 1
    public var perSample = false

    public init(mean: Float = 0, std: Float = 1, perSample: Bool = false) {
        (self.mean, self.std, self.perSample) = (mean, std, perSample)
    }

    /// The input of a run with `config`'s `[normalize]` settings.
    public init(_ config: RunConfig) {
        self.init(mean: config.pixelMean, std: config.pixelStd, perSample: config.perSample)
    }

    /// One pixel before per-sample standardisation; `value(0)` is black (what a shift exposes).
    @inline(__always)
    public func value(_ byte: UInt8) -> Float { (Float(byte) / 255 - mean) / std }

    /// Each of the consecutive samples of `sampleSize` values standardised, when `perSample`.
    public func standardize(_ values: inout [Float], sampleSize: Int) {
        if perSample { SampleStandardization.apply(&values, sampleSize: sampleSize) }
    }

    /// One sample's bytes as input values.
    public func values(of bytes: [UInt8]) -> [Float] {
        var values = bytes.map(value)
        standardize(&values, sampleSize: values.count)
        return values
    }
}
