/// Limited-memory BFGS for a smooth convex objective, deterministic: no randomness, and the
/// objective's own arithmetic fixes every sum's order. Backtracking line search on the Armijo
/// condition; near the optimum, where objective differences drown in rounding, a step is also
/// accepted when the objective did not rise beyond rounding and the slope along the direction
/// fell (a gradient test, still exact there) — so the gradient tolerance can be met well past
/// where sklearn's L-BFGS-B stops on its relative-decrease rule (ftol = 64 ε).
struct LBFGS {
    struct Result {
        var x: [Double]
        var value: Double
        var gradient: [Double]
        var iterations: Int
        var evaluations: Int
        var stop: FitStop
    }

    var memory: Int
    var gradientTolerance: Double
    var maxIterations: Int

    func minimize(from start: [Double], _ objective: ([Double]) -> (Double, [Double])) -> Result {
        var x = start
        var (fx, g) = objective(x)
        var evaluations = 1
        var pairs: [(s: [Double], y: [Double], rho: Double)] = []
        var iteration = 0
        var stop = FitStop.maxIterations
        while true {
            if maxAbs(g) <= gradientTolerance { stop = .gradientTolerance; break }
            if iteration >= maxIterations { stop = .maxIterations; break }
            iteration += 1
            var d = direction(g, pairs)
            var slope = dot(g, d)
            if !(slope < 0) {  // not a descent direction (rounding): restart from steepest descent
                pairs.removeAll()
                d = g.map { -$0 }
                slope = dot(g, d)
            }
            var alpha = pairs.isEmpty ? min(1, 1 / maxAbs(g)) : 1
            var accepted: (x: [Double], f: Double, g: [Double])?
            for _ in 0..<60 {
                let xn = zip(x, d).map { $0 + alpha * $1 }
                let (fn, gn) = objective(xn)
                evaluations += 1
                let armijo = fn <= fx + 1e-4 * alpha * slope
                let roundingLevel = fn <= fx + 1e-13 * max(1, abs(fx)) && abs(dot(gn, d)) <= 0.9 * abs(slope)
                if fn.isFinite && (armijo || roundingLevel) { accepted = (xn, fn, gn); break }
                // Minimum of the quadratic through f(0), f'(0), f(alpha), kept within [0.1, 0.5] alpha.
                let q = fn.isFinite ? -slope * alpha * alpha / (2 * (fn - fx - slope * alpha)) : 0.1 * alpha
                alpha = min(max(q, 0.1 * alpha), 0.5 * alpha)
            }
            guard let step = accepted else { stop = .noProgress; break }
            let s = zip(step.x, x).map { $0 - $1 }
            let y = zip(step.g, g).map { $0 - $1 }
            let sy = dot(s, y)
            if sy > 1e-300 {
                pairs.append((s, y, 1 / sy))
                if pairs.count > memory { pairs.removeFirst() }
            }
            x = step.x; fx = step.f; g = step.g
        }
        return Result(x: x, value: fx, gradient: g, iterations: iteration, evaluations: evaluations, stop: stop)
    }

    /// −H g by the two-loop recursion, H₀ = (sᵀy / yᵀy) I from the newest pair.
    private func direction(_ g: [Double], _ pairs: [(s: [Double], y: [Double], rho: Double)]) -> [Double] {
        var q = g
        var a = [Double](repeating: 0, count: pairs.count)
        for i in pairs.indices.reversed() {
            a[i] = pairs[i].rho * dot(pairs[i].s, q)
            for j in q.indices { q[j] -= a[i] * pairs[i].y[j] }
        }
        if let last = pairs.last {
            let gamma = 1 / (last.rho * dot(last.y, last.y))
            for j in q.indices { q[j] *= gamma }
        }
        for i in pairs.indices {
            let b = pairs[i].rho * dot(pairs[i].y, q)
            for j in q.indices { q[j] += (a[i] - b) * pairs[i].s[j] }
        }
        return q.map { -$0 }
    }
}

func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }

/// How an L-BFGS fit ended.
public enum FitStop: String, Equatable, Codable, Sendable {
    /// max |gradient| ≤ tolerance: converged.
    case gradientTolerance
    /// No step along the search direction lowers the objective: converged to rounding.
    case noProgress
    /// The iteration limit cut the fit short; the coefficients may be off the optimum.
    case maxIterations
}
