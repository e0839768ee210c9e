/// Per-column standardisation as scikit-learn's `StandardScaler`: (x − mean) / std with the
/// population std (ddof = 0). A constant column gets scale 1 and so becomes all zeros, rather
/// than NaN. Fitted on the training part only, so no validation statistics leak into the probe.
public struct Standardizer: Equatable, Codable, Sendable {
    public let mean: [Double]
    public let scale: [Double]

    public init(mean: [Double], scale: [Double]) throws(EvalError) {
        guard mean.count == scale.count else {
            throw .sizeMismatch(name: "standardizer scale", expected: mean.count, actual: scale.count)
        }
        guard scale.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw .invalidOption(name: "standardizer scale", reason: "every scale must be finite and > 0")
        }
        self.mean = mean
        self.scale = scale
    }

    public init(fitting x: FeatureMatrix) throws(EvalError) {
        guard x.rows >= 1 else { throw .invalidOption(name: "features", reason: "cannot standardise zero rows") }
        let n = Double(x.rows), d = x.columns
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<x.rows { for j in 0..<d { mean[j] += x.values[i * d + j] } }
        for j in 0..<d { mean[j] /= n }
        var variance = [Double](repeating: 0, count: d)
        for i in 0..<x.rows {
            for j in 0..<d {
                let c = x.values[i * d + j] - mean[j]
                variance[j] += c * c
            }
        }
        let eps = Double.ulpOfOne
        self.mean = mean
        self.scale = (0..<d).map { j in
            let v = variance[j] / n
            // sklearn's _is_constant_feature: variance within rounding of zero counts as zero.
            let bound = n * eps * v + (n * mean[j] * eps) * (n * mean[j] * eps)
            return v <= bound ? 1 : v.squareRoot()
        }
    }

    public func transform(_ x: FeatureMatrix) throws(EvalError) -> FeatureMatrix {
        guard x.columns == mean.count else {
            throw .sizeMismatch(name: "features columns (standardizer)", expected: mean.count, actual: x.columns)
        }
        var out = x.values
        let d = x.columns
        for i in 0..<x.rows { for j in 0..<d { out[i * d + j] = (out[i * d + j] - mean[j]) / scale[j] } }
        return FeatureMatrix(unchecked: x.rows, d, out)
    }
}
