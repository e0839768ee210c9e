import Foundation
import SonoCore

/// Multinomial logistic regression with an L2 penalty, the objective of scikit-learn's
/// `LogisticRegression(penalty="l2", C=C, solver="lbfgs", fit_intercept=True)`:
///
///     minimise  C · Σᵢ sᵢ · CE(yᵢ, softmax(W xᵢ + b)) + ½ ‖W‖²      (b not penalised)
///
/// with sᵢ = 1, or the sample / class weights. Two classes use sklearn's binary form (one
/// coefficient row, logit of the second class), since its penalty differs from the two-row
/// multinomial's. The fit minimises the same objective divided by C · Σ sᵢ (as sklearn's
/// solver does, so the gradient tolerance is per sample) with `LBFGS` from zero, in Double.
/// The probe is the reference linear evaluation of frozen encoders, so the numbers must be
/// comparable with papers that ran sklearn: `SonoEvalTests` checks them against it.
public struct LogisticRegression: Equatable, Codable, Sendable {
    /// Per-class weights multiplied into the sample weights, as sklearn's `class_weight`.
    public enum ClassWeight: String, Equatable, Codable, Sendable {
        case uniform
        /// sklearn's "balanced": Σs / (classes present × Σs of the class).
        case balanced
    }

    public struct Options: Equatable, Codable, Sendable {
        /// Inverse penalty strength (sklearn's C), > 0.
        public var C: Double
        public var classWeight: ClassWeight
        /// Stop when max |∂f/∂θ| of the per-sample objective is at most this. 1e-9 leaves the
        /// coefficients within ~1e-7 of the optimum on well-conditioned data (sklearn's default
        /// 1e-4 would not reproduce its own tightly converged fit).
        public var gradientTolerance: Double
        public var maxIterations: Int
        /// L-BFGS correction pairs (scipy's default, 10).
        public var memory: Int
        /// Threads for the objective. Rows go in fixed 256-row chunks summed in chunk order, so
        /// the result is bit-identical for any value.
        public var jobs: Int

        public init(C: Double = 1, classWeight: ClassWeight = .uniform, gradientTolerance: Double = 1e-9,
                    maxIterations: Int = 2000, memory: Int = 10, jobs: Int = 1) {
            self.C = C
            self.classWeight = classWeight
            self.gradientTolerance = gradientTolerance
            self.maxIterations = maxIterations
            self.memory = memory
            self.jobs = jobs
        }

        func validated() throws(EvalError) -> Options {
            guard C > 0, C.isFinite else { throw .invalidOption(name: "C", reason: "must be finite and > 0, got \(C)") }
            guard gradientTolerance > 0 else {
                throw .invalidOption(name: "gradientTolerance", reason: "must be > 0, got \(gradientTolerance)")
            }
            guard maxIterations >= 1 else { throw .invalidOption(name: "maxIterations", reason: "must be ≥ 1, got \(maxIterations)") }
            guard memory >= 1 else { throw .invalidOption(name: "memory", reason: "must be ≥ 1, got \(memory)") }
            return self
        }
    }

    /// How the fit ended; `converged` is false only when the iteration limit cut it short.
    public struct FitReport: Equatable, Codable, Sendable {
        public let iterations: Int
        public let evaluations: Int
        /// The per-sample objective (objective / (C Σs)) at the solution.
        public let objective: Double
        public let gradientMaxAbs: Double
        public let stop: FitStop
        public var converged: Bool { stop != .maxIterations }
    }

    /// Size of the label space (labels are 0..<classCount).
    public let classCount: Int
    /// Labels present in the training data, ascending: sklearn's `classes_`. Only these are fitted.
    public let classes: [Int]
    /// sklearn's `coef_`: one row per class in `classes` (one row in total for two classes).
    public let coefficients: [[Double]]
    /// sklearn's `intercept_`; for more than two classes they sum to zero.
    public let intercepts: [Double]
    public let options: Options
    public let report: FitReport

    /// Fits on `x` (standardise it first: `LinearProbe` does) with labels in 0..<classCount.
    public static func fit(_ x: FeatureMatrix, labels: [Int], classCount: Int, sampleWeights: [Double]? = nil,
                           options: Options = Options()) throws(EvalError) -> LogisticRegression {
        try fit(x, labels: labels, classCount: classCount, sampleWeights: sampleWeights, options: options, warmStart: nil)
    }

    /// `warmStart`: a fit on the same classes and features (the previous C of a grid) to start
    /// from; the objective is strictly convex, so only the iteration count depends on it.
    static func fit(_ x: FeatureMatrix, labels: [Int], classCount: Int, sampleWeights: [Double]?,
                    options: Options, warmStart: LogisticRegression?) throws(EvalError) -> LogisticRegression {
        let options = try options.validated()
        guard labels.count == x.rows else { throw .sizeMismatch(name: "labels", expected: x.rows, actual: labels.count) }
        for l in labels where !(0..<classCount).contains(l) {
            throw .labelOutOfRange(name: "labels", label: l, classCount: classCount)
        }
        var weights = sampleWeights ?? [Double](repeating: 1, count: x.rows)
        guard weights.count == x.rows else { throw .sizeMismatch(name: "sampleWeights", expected: x.rows, actual: weights.count) }
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw .invalidOption(name: "sampleWeights", reason: "must be finite and ≥ 0")
        }
        let classes = Array(Set(labels)).sorted()
        guard classes.count >= 2 else { throw .tooFewClasses(name: "labels", present: classes) }
        var position = [Int](repeating: -1, count: classCount)
        for (p, c) in classes.enumerated() { position[c] = p }
        let targets = labels.map { position[$0] }
        if options.classWeight == .balanced {
            var perClass = [Double](repeating: 0, count: classes.count)
            for (t, w) in zip(targets, weights) { perClass[t] += w }
            let total = perClass.reduce(0, +)
            let factor = perClass.map { total / (Double(classes.count) * $0) }
            for i in weights.indices { weights[i] *= factor[targets[i]] }
        }
        let weightSum = weights.reduce(0, +)
        guard weightSum > 0 else { throw .invalidOption(name: "sampleWeights", reason: "sum to zero") }

        let binary = classes.count == 2
        let rowsOfW = binary ? 1 : classes.count
        let d = x.columns
        let objective = LogisticObjective(x: x.values, n: x.rows, d: d, targets: targets, weights: weights,
                                          binary: binary, parameterRows: rowsOfW, l2: 1 / (options.C * weightSum),
                                          inverseWeightSum: 1 / weightSum, jobs: options.jobs)
        var start = [Double](repeating: 0, count: rowsOfW * (d + 1))
        if let w = warmStart, w.classes == classes, w.coefficients.first?.count == d {
            for k in 0..<rowsOfW {
                for j in 0..<d { start[k * (d + 1) + j] = w.coefficients[k][j] }
                start[k * (d + 1) + d] = w.intercepts[k]
            }
        }
        let solver = LBFGS(memory: options.memory, gradientTolerance: options.gradientTolerance, maxIterations: options.maxIterations)
        let result = solver.minimize(from: start) { objective.evaluate($0) }
        var coefficients = (0..<rowsOfW).map { k in Array(result.x[(k * (d + 1))..<(k * (d + 1) + d)]) }
        var intercepts = (0..<rowsOfW).map { result.x[$0 * (d + 1) + d] }
        if !binary {
            // The loss is unchanged by a common shift of the intercepts; fix the one with Σb = 0
            // (which L-BFGS from zero keeps up to rounding, like sklearn).
            let shift = intercepts.reduce(0, +) / Double(rowsOfW)
            intercepts = intercepts.map { $0 - shift }
        }
        coefficients = coefficients.map { $0.map { $0 == 0 ? 0 : $0 } }  // no −0 in JSON
        let report = FitReport(iterations: result.iterations, evaluations: result.evaluations, objective: result.value,
                               gradientMaxAbs: maxAbs(result.gradient), stop: result.stop)
        return LogisticRegression(classCount: classCount, classes: classes, coefficients: coefficients,
                                  intercepts: intercepts, options: options, report: report)
    }

    /// sklearn's `decision_function`: one column per coefficient row.
    public func decisionFunction(_ x: FeatureMatrix) throws(EvalError) -> [[Double]] {
        let d = coefficients.first?.count ?? 0
        guard x.columns == d else { throw .sizeMismatch(name: "features columns (model)", expected: d, actual: x.columns) }
        return (0..<x.rows).map { i in
            let row = x.row(i)
            return coefficients.indices.map { k in
                var z = intercepts[k]
                for (w, v) in zip(coefficients[k], row) { z += w * v }
                return z
            }
        }
    }

    /// Class probabilities over all `classCount` labels; a label absent from the training data
    /// has probability 0 (sklearn would drop its column).
    public func probabilities(_ x: FeatureMatrix) throws(EvalError) -> [[Double]] {
        try decisionFunction(x).map { z in
            var p = [Double](repeating: 0, count: classCount)
            if classes.count == 2 {
                let p1 = sigmoid(z[0])
                p[classes[0]] = 1 - p1
                p[classes[1]] = p1
            } else {
                let m = z.max() ?? 0
                let e = z.map { exp($0 - m) }
                let s = e.reduce(0, +)
                for (k, c) in classes.enumerated() { p[c] = e[k] / s }
            }
            return p
        }
    }

    /// The most probable label of each row (the lowest label on an exact tie, as numpy's argmax).
    public func predict(_ x: FeatureMatrix) throws(EvalError) -> [Int] {
        try decisionFunction(x).map { z in
            if classes.count == 2 { return z[0] > 0 ? classes[1] : classes[0] }
            var best = 0
            for k in z.indices where z[k] > z[best] { best = k }
            return classes[best]
        }
    }
}

func sigmoid(_ z: Double) -> Double {
    z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
}

/// log(1 + eᶻ) without overflow.
func softplus(_ z: Double) -> Double {
    z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
}

/// The per-sample objective and its gradient. Parameters: `parameterRows` rows of d weights
/// followed by the intercept.
struct LogisticObjective: Sendable {
    let x: [Double]
    let n: Int
    let d: Int
    let targets: [Int]
    let weights: [Double]
    let binary: Bool
    let parameterRows: Int
    let l2: Double
    let inverseWeightSum: Double
    let jobs: Int

    static let chunkRows = 256

    func evaluate(_ theta: [Double]) -> (Double, [Double]) {
        let chunks = stride(from: 0, to: n, by: Self.chunkRows).map { $0..<min($0 + Self.chunkRows, n) }
        var parts: [(Double, [Double])] = []
        if jobs > 1 && chunks.count > 1 {
            let me = self
            let results = ParallelWork.map(chunks, jobs: jobs) { _, rows in me.chunk(theta, rows: rows) }
            for (r, rows) in zip(results, chunks) {
                if case .success(let part) = r { parts.append(part) } else { parts.append(chunk(theta, rows: rows)) }
            }
        } else {
            parts = chunks.map { chunk(theta, rows: $0) }
        }
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: theta.count)
        for (l, g) in parts {
            loss += l
            for j in gradient.indices { gradient[j] += g[j] }
        }
        loss *= inverseWeightSum
        var penalty = 0.0
        for k in 0..<parameterRows {
            for j in 0..<d {
                let t = k * (d + 1) + j
                penalty += theta[t] * theta[t]
                gradient[t] = gradient[t] * inverseWeightSum + l2 * theta[t]
            }
            gradient[k * (d + 1) + d] *= inverseWeightSum
        }
        return (loss + 0.5 * l2 * penalty, gradient)
    }

    /// Σ sᵢ lossᵢ and Σ sᵢ ∂lossᵢ/∂θ over some rows.
    func chunk(_ theta: [Double], rows: Range<Int>) -> (Double, [Double]) {
        let m = parameterRows, d = d, stride = d + 1
        var gradient = [Double](repeating: 0, count: theta.count)
        var z = [Double](repeating: 0, count: m)
        var loss = 0.0
        theta.withUnsafeBufferPointer { th in
            x.withUnsafeBufferPointer { xs in
                gradient.withUnsafeMutableBufferPointer { g in
                    for i in rows {
                        let base = i * d
                        for k in 0..<m { z[k] = th[k * stride + d] + dotProduct(th, k * stride, xs, base, d) }
                        let s = weights[i]
                        if binary {
                            let y: Double = targets[i] == 1 ? 1 : 0
                            loss += s * (softplus(z[0]) - y * z[0])
                            z[0] = s * (sigmoid(z[0]) - y)
                        } else {
                            let t = targets[i]
                            var top = z[0]
                            for k in 1..<m where z[k] > top { top = z[k] }
                            let margin = z[t] - top
                            var sum = 0.0
                            for k in 0..<m { z[k] = exp(z[k] - top); sum += z[k] }
                            // z now holds exp(zₖ − top); loss = log Σₖ exp(zₖ − top) − (z_t − top).
                            loss += s * (log(sum) - margin)
                            for k in 0..<m { z[k] = s * (z[k] / sum - (k == t ? 1 : 0)) }
                        }
                        for k in 0..<m {
                            let r = z[k]
                            if r == 0 { continue }
                            addScaled(r, xs, base, into: g, k * stride, d)
                            g[k * stride + d] += r
                        }
                    }
                }
            }
        }
        return (loss, gradient)
    }
}

/// Σⱼ a[aStart + j] · b[bStart + j] for j < count, in 8 interleaved partial sums (SIMD lanes);
/// the order is fixed, so the result is deterministic.
@inline(__always)
func dotProduct(_ a: UnsafeBufferPointer<Double>, _ aStart: Int, _ b: UnsafeBufferPointer<Double>, _ bStart: Int,
                _ count: Int) -> Double {
    guard let pa = a.baseAddress, let pb = b.baseAddress else { return 0 }
    let ra = UnsafeRawPointer(pa + aStart), rb = UnsafeRawPointer(pb + bStart)
    var acc = SIMD8<Double>()
    var j = 0
    while j + 8 <= count {
        acc += ra.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
            * rb.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
        j += 8
    }
    var tail = 0.0
    while j < count { tail += pa[aStart + j] * pb[bStart + j]; j += 1 }
    return acc.sum() + tail
}

/// y[yStart + j] += r · x[xStart + j] for j < count.
@inline(__always)
func addScaled(_ r: Double, _ x: UnsafeBufferPointer<Double>, _ xStart: Int, into y: UnsafeMutableBufferPointer<Double>,
               _ yStart: Int, _ count: Int) {
    guard let px = x.baseAddress, let py = y.baseAddress else { return }
    let rx = UnsafeRawPointer(px + xStart), ry = UnsafeMutableRawPointer(py + yStart)
    let rv = SIMD8<Double>(repeating: r)
    var j = 0
    while j + 8 <= count {
        let v = ry.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
            + rv * rx.loadUnaligned(fromByteOffset: j * 8, as: SIMD8<Double>.self)
        ry.storeBytes(of: v, toByteOffset: j * 8, as: SIMD8<Double>.self)
        j += 8
    }
    while j < count { py[yStart + j] += r * px[xStart + j]; j += 1 }
}
