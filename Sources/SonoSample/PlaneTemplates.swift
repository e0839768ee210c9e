import Foundation

/// The synthetic structure of each standard view, drawn once on a small grid in the
/// structure's own coordinates (u, v ∈ [-1, 1], v pointing down the screen) as an echogenicity
/// map: a pixel of tissue value s becomes s·mul + add. The renderer places, scales, rotates and
/// shades it per hold.
struct PlaneTemplate: Sendable {
    static let size = 96

    let view: SampleView
    /// Per grid point, row-major (`size`²).
    let mul: [Float]
    let add: [Float]
    /// Points (u, v) a sonographer looks at: the centre first, then the parts.
    let parts: [(u: Double, v: Double)]

    /// Bilinear sample at (u, v) ∈ [-1, 1]² (clamped to the grid).
    @inline(__always)
    func sample(u: Double, v: Double) -> (mul: Float, add: Float) {
        let n = Self.size
        let gx = min(Double(n - 1) - 1e-9, max(0, (u + 1) * 0.5 * Double(n - 1)))
        let gy = min(Double(n - 1) - 1e-9, max(0, (v + 1) * 0.5 * Double(n - 1)))
        let ix = Int(gx), iy = Int(gy)
        let fx = Float(gx - Double(ix)), fy = Float(gy - Double(iy))
        let i00 = iy * n + ix, i01 = i00 + n
        let m = (mul[i00] * (1 - fx) + mul[i00 + 1] * fx) * (1 - fy) + (mul[i01] * (1 - fx) + mul[i01 + 1] * fx) * fy
        let a = (add[i00] * (1 - fx) + add[i00 + 1] * fx) * (1 - fy) + (add[i01] * (1 - fx) + add[i01 + 1] * fx) * fy
        return (m, a)
    }

    init(_ view: SampleView) {
        self.view = view
        var canvas = Canvas()
        parts = Self.draw(view, &canvas)
        // Fade to plain tissue at the edge of the grid so no seam shows where drawing stops.
        let n = Self.size
        var mul = canvas.mul, add = canvas.add
        for y in 0..<n {
            for x in 0..<n {
                let u = Canvas.coord(x), v = Canvas.coord(y)
                let r = max(abs(u), abs(v))
                let w = r < 0.92 ? 1.0 : max(0, (1 - r) / 0.08)
                mul[y * n + x] = Float(1 + w * (Double(mul[y * n + x]) - 1))
                add[y * n + x] = Float(w * Double(add[y * n + x]))
            }
        }
        self.mul = mul
        self.add = add
    }

    // MARK: - Drawing

    struct Canvas {
        var mul = [Float](repeating: 1, count: PlaneTemplate.size * PlaneTemplate.size)
        var add = [Float](repeating: 0, count: PlaneTemplate.size * PlaneTemplate.size)

        static func coord(_ i: Int) -> Double { Double(i) / Double(PlaneTemplate.size - 1) * 2 - 1 }

        /// Adds `amount` along a curve given by its (unsigned) distance, Gaussian across `width`.
        mutating func bright(_ amount: Double, width: Double, _ distance: (Double, Double) -> Double) {
            let n = PlaneTemplate.size
            for y in 0..<n {
                for x in 0..<n {
                    let d = distance(Self.coord(x), Self.coord(y)) / width
                    if d < 4 { add[y * n + x] += Float(amount * exp(-d * d)) }
                }
            }
        }

        /// Multiplies by `factor` inside a region given by its signed distance (negative inside),
        /// with a soft edge of `edge`.
        mutating func dark(_ factor: Double, edge: Double = 0.03, _ signed: (Double, Double) -> Double) {
            let n = PlaneTemplate.size
            for y in 0..<n {
                for x in 0..<n {
                    let s = signed(Self.coord(x), Self.coord(y)) / edge
                    let inside = 1 / (1 + exp(min(40, s)))
                    mul[y * n + x] *= Float(1 - (1 - factor) * inside)
                }
            }
        }
    }

    /// Signed distance (approximate) to an ellipse centred (cx, cy), semi-axes a, b, rotated by `angle`.
    static func ellipse(_ u: Double, _ v: Double, _ cx: Double, _ cy: Double, _ a: Double, _ b: Double,
                        angle: Double = 0) -> Double {
        let c = cos(angle), s = sin(angle)
        let x = c * (u - cx) + s * (v - cy), y = -s * (u - cx) + c * (v - cy)
        return (((x / a) * (x / a) + (y / b) * (y / b)).squareRoot() - 1) * min(a, b)
    }

    /// Distance to the segment (ax, ay)–(bx, by).
    static func segment(_ u: Double, _ v: Double, _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) -> Double {
        let dx = bx - ax, dy = by - ay
        let t = max(0, min(1, ((u - ax) * dx + (v - ay) * dy) / max(1e-12, dx * dx + dy * dy)))
        let px = ax + t * dx - u, py = ay + t * dy - v
        return (px * px + py * py).squareRoot()
    }

    /// Distance to a polyline.
    static func polyline(_ u: Double, _ v: Double, _ points: [(Double, Double)]) -> Double {
        var d = Double.infinity
        for i in 1..<points.count {
            d = min(d, segment(u, v, points[i - 1].0, points[i - 1].1, points[i].0, points[i].1))
        }
        return d
    }

    /// Signed distance to a set of discs.
    static func discs(_ u: Double, _ v: Double, _ centres: [(Double, Double)], _ r: Double) -> Double {
        var d = Double.infinity
        for c in centres { d = min(d, ((u - c.0) * (u - c.0) + (v - c.1) * (v - c.1)).squareRoot() - r) }
        return d
    }

    /// A dark disc or ellipse with a bright rim: vessels, chambers, cysts.
    static func cavity(_ canvas: inout Canvas, _ cx: Double, _ cy: Double, _ a: Double, _ b: Double,
                       angle: Double = 0, factor: Double = 0.12, rim: Double = 0.45) {
        canvas.dark(factor) { ellipse($0, $1, cx, cy, a, b, angle: angle) }
        canvas.bright(rim, width: 0.035) { abs(ellipse($0, $1, cx, cy, a + 0.02, b + 0.02, angle: angle)) }
    }

    /// Draws `view` and returns its gaze targets (centre first).
    private static func draw(_ view: SampleView, _ c: inout Canvas) -> [(u: Double, v: Double)] {
        switch view {
        case .brainTransventricular:
            // Skull ellipse, midline echo, cavum septi pellucidi, one lateral ventricle.
            c.dark(0.7) { ellipse($0, $1, 0, 0, 0.88, 0.66) }
            c.bright(0.8, width: 0.05) { abs(ellipse($0, $1, 0, 0, 0.92, 0.7)) }
            c.bright(0.45, width: 0.022) { segment($0, $1, -0.82, 0, 0.82, 0) }
            cavity(&c, -0.32, 0, 0.11, 0.05, factor: 0.15, rim: 0.25)
            cavity(&c, 0.42, 0.26, 0.3, 0.11, angle: 0.15, factor: 0.15, rim: 0.35)
            c.bright(0.45, width: 0.04) { max(0, ellipse($0, $1, 0.5, 0.27, 0.1, 0.05, angle: 0.15)) }
            return [(0, 0), (-0.8, 0), (0.8, 0), (-0.32, 0), (0.42, 0.26)]
        case .brainTranscerebellar:
            // Skull ellipse, short midline, the cerebellum's two round hemispheres, cisterna magna.
            c.dark(0.7) { ellipse($0, $1, 0, 0, 0.88, 0.66) }
            c.bright(0.8, width: 0.05) { abs(ellipse($0, $1, 0, 0, 0.92, 0.7)) }
            c.bright(0.45, width: 0.022) { segment($0, $1, -0.82, 0, 0.05, 0) }
            cavity(&c, 0.38, -0.27, 0.24, 0.22, factor: 0.25, rim: 0.7)
            cavity(&c, 0.38, 0.27, 0.24, 0.22, factor: 0.25, rim: 0.7)
            c.bright(0.7, width: 0.04) { segment($0, $1, 0.2, 0, 0.62, 0) }
            cavity(&c, 0.74, 0, 0.1, 0.24, factor: 0.1, rim: 0.1)
            return [(0, 0), (0.38, -0.27), (0.38, 0.27), (0.74, 0), (-0.7, 0)]
        case .fourChamber:
            // Round heart, four dark chambers split by a bright cross (septum and valve plane),
            // the descending aorta behind.
            c.dark(0.12) { ellipse($0, $1, 0, 0, 0.68, 0.68) }
            c.bright(0.6, width: 0.05) { abs(ellipse($0, $1, 0, 0, 0.74, 0.74)) }
            c.bright(0.75, width: 0.055) { segment($0, $1, 0, -0.72, 0, 0.72) }
            c.bright(0.65, width: 0.045) { segment($0, $1, -0.72, 0.05, 0.72, 0.05) }
            cavity(&c, 0.25, 0.88, 0.09, 0.09, factor: 0.15, rim: 0.5)
            return [(0, 0.05), (-0.35, -0.35), (0.35, -0.35), (-0.35, 0.38), (0.35, 0.38)]
        case .threeVesselTrachea:
            // Pulmonary artery, aorta and vena cava in a row of decreasing size, trachea behind.
            c.bright(0.35, width: 0.05) { polyline($0, $1, [(-0.85, 0.2), (-0.2, -0.25), (0.35, 0.05)]) }
            cavity(&c, -0.52, 0.05, 0.24, 0.24, factor: 0.1, rim: 0.55)
            cavity(&c, 0.02, -0.02, 0.18, 0.18, factor: 0.1, rim: 0.55)
            cavity(&c, 0.48, -0.1, 0.11, 0.11, factor: 0.1, rim: 0.55)
            c.bright(0.7, width: 0.035) { abs(ellipse($0, $1, 0.18, 0.38, 0.08, 0.08)) }
            return [(0, 0), (-0.52, 0.05), (0.02, -0.02), (0.48, -0.1), (0.18, 0.38)]
        case .leftOutflowTract:
            // A ventricle with its outflow tract leaving diagonally.
            cavity(&c, -0.3, 0.28, 0.44, 0.3, angle: 0.35, factor: 0.12, rim: 0.5)
            c.dark(0.12) { segment($0, $1, -0.05, 0.1, 0.72, -0.58) - 0.11 }
            c.bright(0.55, width: 0.035) { abs(segment($0, $1, 0.05, 0.02, 0.72, -0.58) - 0.14) }
            return [(-0.05, 0.05), (-0.3, 0.28), (0.35, -0.25), (0.7, -0.58)]
        case .rightOutflowTract:
            // A ventricle, its outflow tract and the pulmonary bifurcation (a Y).
            cavity(&c, 0.32, 0.35, 0.4, 0.26, angle: -0.3, factor: 0.12, rim: 0.5)
            let arms: [(Double, Double, Double, Double)] = [(0.15, 0.15, -0.25, -0.4), (-0.25, -0.4, -0.82, -0.5), (-0.25, -0.4, -0.2, -0.9)]
            for a in arms {
                c.dark(0.12) { segment($0, $1, a.0, a.1, a.2, a.3) - 0.09 }
            }
            for a in arms {
                c.bright(0.5, width: 0.03) { abs(segment($0, $1, a.0, a.1, a.2, a.3) - 0.12) }
            }
            return [(-0.1, -0.2), (0.32, 0.35), (-0.25, -0.4), (-0.7, -0.5), (-0.2, -0.8)]
        case .abdomen:
            // Thin round abdominal wall, dark stomach bubble, umbilical vein, spine.
            c.bright(0.45, width: 0.035) { abs(ellipse($0, $1, 0, 0, 0.9, 0.86)) }
            c.dark(0.06, edge: 0.04) { ellipse($0, $1, -0.3, -0.12, 0.3, 0.22, angle: 0.3) }
            c.bright(0.45, width: 0.03) { segment($0, $1, 0.1, 0.32, 0.45, 0.02) }
            c.bright(0.75, width: 0.03) { discs($0, $1, [(0.55, 0.55), (0.4, 0.64), (0.68, 0.4)], 0.045) + 0.045 }
            return [(-0.3, -0.12), (0, 0), (0.27, 0.17), (0.55, 0.55)]
        case .kidneys:
            // Two kidneys either side of the spine, each with a dark pelvis.
            c.bright(0.9, width: 0.04) { discs($0, $1, [(0, 0.55)], 0.1) + 0.1 }
            for side in [-1.0, 1.0] {
                c.dark(0.55) { ellipse($0, $1, side * 0.45, 0.12, 0.2, 0.34, angle: side * 0.25) }
                c.bright(0.5, width: 0.035) { abs(ellipse($0, $1, side * 0.45, 0.12, 0.22, 0.36, angle: side * 0.25)) }
                c.dark(0.1) { ellipse($0, $1, side * 0.4, 0.12, 0.06, 0.12, angle: side * 0.25) }
            }
            return [(0, 0.2), (-0.45, 0.12), (0.45, 0.12), (0, 0.55)]
        case .femur:
            // A bright bar with rounded ends over its acoustic shadow.
            c.dark(0.45, edge: 0.08) { segment($0, $1, -0.8, 0.32, 0.8, 0.32) - 0.22 }
            c.bright(1.0, width: 0.05) { max(0, segment($0, $1, -0.82, 0, 0.82, 0) - 0.05) }
            return [(0, 0), (-0.8, 0), (0.8, 0), (-0.4, 0), (0.4, 0)]
        case .spineSagittal:
            // Two rows of bright vertebral dots along a gentle curve.
            let upper = (0..<10).map { i -> (Double, Double) in
                let u = -0.85 + 1.7 * Double(i) / 9
                return (u, 0.28 * u * u - 0.2)
            }
            let lower = (0..<9).map { i -> (Double, Double) in
                let u = -0.76 + 1.52 * Double(i) / 8
                return (u, 0.28 * u * u + 0.04)
            }
            c.dark(0.6, edge: 0.06) { polyline($0, $1, lower) - 0.05 }
            c.bright(0.85, width: 0.03) { max(0, discs($0, $1, upper, 0.05)) }
            c.bright(0.7, width: 0.03) { max(0, discs($0, $1, lower, 0.04)) }
            return [(0, -0.08), (-0.8, 0.06), (0.8, 0.06), (-0.4, -0.03), (0.4, -0.03)]
        case .spineCoronal:
            // Three straight rows of dots, the outer two diverging.
            let centre = (0..<9).map { (-0.8 + 1.6 * Double($0) / 8, 0.0) }
            let left = (0..<9).map { i -> (Double, Double) in
                let u = -0.8 + 1.6 * Double(i) / 8
                return (u, -0.22 - 0.1 * (u + 0.8) / 1.6)
            }
            let right = left.map { ($0.0, -$0.1) }
            c.bright(0.55, width: 0.03) { max(0, discs($0, $1, centre, 0.04)) }
            c.bright(0.85, width: 0.03) { max(0, discs($0, $1, left + right, 0.055)) }
            return [(0, 0), (-0.7, 0), (0.7, 0), (0, -0.27), (0, 0.27)]
        case .lips:
            // Upper lip (a gull wing), lower lip, the dark line of the mouth, the nostrils.
            c.dark(0.1) { ellipse($0, $1, 0, 0.02, 0.5, 0.07) }
            c.bright(0.75, width: 0.06) { polyline($0, $1, [(-0.7, -0.08), (-0.35, -0.28), (0, -0.18), (0.35, -0.28), (0.7, -0.08)]) }
            c.bright(0.7, width: 0.06) { polyline($0, $1, [(-0.55, 0.14), (0, 0.34), (0.55, 0.14)]) }
            cavity(&c, -0.18, -0.62, 0.09, 0.09, factor: 0.12, rim: 0.55)
            cavity(&c, 0.18, -0.62, 0.09, 0.09, factor: 0.12, rim: 0.55)
            return [(0, 0), (0, -0.22), (0, 0.3), (-0.18, -0.62), (0.18, -0.62)]
        case .profile:
            // The face's outline (forehead, nose, lips, chin) against dark fluid.
            let outline: [(Double, Double)] = [(-0.25, -0.95), (-0.12, -0.55), (0.38, -0.22), (0.06, -0.08), (0.16, 0.1),
                                              (0.05, 0.2), (0.16, 0.32), (0.0, 0.45), (0.1, 0.65), (-0.35, 0.9)]
            c.dark(0.25, edge: 0.1) { ellipse($0, $1, 0.72, 0, 0.4, 0.95) }
            c.bright(0.85, width: 0.045) { polyline($0, $1, outline) }
            return [(0.05, 0), (-0.12, -0.55), (0.38, -0.22), (0.1, 0.25), (0.1, 0.65)]
        case .background:
            return [(0, 0)]
        }
    }
}
