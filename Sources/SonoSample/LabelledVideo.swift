import Foundation
import SonoCore

/// Renders the frames of a labelled sample: speckled tissue texture in the sector that sweeps
/// while the probe moves (background) and drifts slowly during a hold, where the hold's view
/// is drawn from its template at the hold's pose, gain and contrast. Deterministic given the plan.
struct LabelledVideo {
    let plan: LabelledPlan
    let width: Int, height: Int
    private let sceneWidth: Int
    /// Echogenicity of the tissue (bigger than the frame, so the probe can move over it).
    private let scene: [Float]
    /// Multiplicative speckle that moves with the tissue, and fresh speckle cycled over frames.
    private let speckle: [Float]
    private let fresh: [[Float]]
    /// Per frame pixel: 0 outside the sector, depth attenuation inside.
    private let gain: [Float]
    private let templates: [SampleView: PlaneTemplate]

    init(plan: LabelledPlan) {
        self.plan = plan
        let spec = plan.spec
        width = spec.width
        height = spec.height
        let width = spec.width, height = spec.height
        let sceneWidth = width + 2 * plan.marginX
        let sceneHeight = height + 2 * plan.marginY
        self.sceneWidth = sceneWidth
        var rng = SeededGenerator(seed: spec.seed, stream: 0x7155)

        // Tissue: two octaves of bilinear value noise and a few faint curved layers.
        func valueNoise(cell: Int, low: Double, high: Double) -> [Float] {
            let gw = sceneWidth / cell + 2, gh = sceneHeight / cell + 2
            let grid = (0..<(gw * gh)).map { _ in Float(low + (high - low) * rng.nextUnit()) }
            var out = [Float](repeating: 0, count: sceneWidth * sceneHeight)
            for y in 0..<sceneHeight {
                let gy = Double(y) / Double(cell)
                let iy = Int(gy), fy = Float(gy - Double(iy))
                for x in 0..<sceneWidth {
                    let gx = Double(x) / Double(cell)
                    let ix = Int(gx), fx = Float(gx - Double(ix))
                    let v00 = grid[iy * gw + ix], v10 = grid[iy * gw + ix + 1]
                    let v01 = grid[(iy + 1) * gw + ix], v11 = grid[(iy + 1) * gw + ix + 1]
                    out[y * sceneWidth + x] = (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy
                }
            }
            return out
        }
        let coarse = valueNoise(cell: max(8, width / 8), low: 0.3, high: 0.7)
        let fine = valueNoise(cell: max(4, width / 40), low: -0.1, high: 0.1)
        let layers = (0..<4).map { _ in
            (y: rng.nextUnit() * Double(sceneHeight), slope: 0.3 * (rng.nextUnit() - 0.5),
             bend: 0.04 * Double(height) * rng.nextUnit(), period: Double(width) * (0.5 + rng.nextUnit()),
             width: max(1.5, Double(height) / 90))
        }
        var scene = [Float](repeating: 0, count: sceneWidth * sceneHeight)
        for y in 0..<sceneHeight {
            for x in 0..<sceneWidth {
                var v = coarse[y * sceneWidth + x] + fine[y * sceneWidth + x]
                for l in layers {
                    let d = (Double(y) - l.y - l.slope * Double(x) - l.bend * sin(2 * Double.pi * Double(x) / l.period)) / l.width
                    if abs(d) < 3 { v += Float(0.22 * exp(-d * d)) }
                }
                scene[y * sceneWidth + x] = max(0.05, v)
            }
        }
        self.scene = scene
        // Rayleigh speckle, mean ≈ 1.
        func rayleigh(_ count: Int) -> [Float] {
            (0..<count).map { _ in Float((-2 * log(max(rng.nextUnit(), 1e-12))).squareRoot() / 1.2533) }
        }
        speckle = rayleigh(sceneWidth * sceneHeight)
        fresh = (0..<4).map { _ in rayleigh(width * height) }

        let sector = plan.sector
        var gain = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width where sector.contains(x: Double(x), y: Double(y)) {
                let dx = Double(x) - sector.apexX, dy = Double(y) - sector.apexY
                gain[y * width + x] = Float(1.0 - 0.45 * (dx * dx + dy * dy).squareRoot() / sector.radius)
            }
        }
        self.gain = gain
        templates = Dictionary(uniqueKeysWithValues: plan.options.views.map { ($0, PlaneTemplate($0)) })
    }

    /// Draws frame `index` into `pixels` (width × height gray bytes).
    func render(frame index: Int, into pixels: inout [UInt8]) {
        let offset = plan.tissueOffset(frame: index)
        let j = plan.intervalIndex(frame: index)
        let imageGain = Float(200 * plan.gains[j])
        let (label, pose) = plan.pose(frame: index)
        let template = templates[label]
        let contrast = Float(plan.looks[j]?.contrast ?? 1)
        let noise = fresh[index % fresh.count]
        let band: UInt8 = 24
        let bandHeight = plan.sector.bandHeight
        // The structure's bounding box, and the inverse of its pose.
        var box = (x0: 0, x1: -1, y0: 0, y1: -1)
        var inverse = (c: 0.0, s: 0.0, scale: 0.0, x: 0.0, y: 0.0)
        if let pose, template != nil {
            let reach = pose.size * 1.4143 + 1
            box = (max(0, Int(pose.x - reach)), min(width - 1, Int(pose.x + reach)),
                   max(0, Int(pose.y - reach)), min(height - 1, Int(pose.y + reach)))
            inverse = (cos(pose.angle), sin(pose.angle), 1 / pose.size, pose.x, pose.y)
        }
        scene.withUnsafeBufferPointer { scene in
            speckle.withUnsafeBufferPointer { speckle in
                noise.withUnsafeBufferPointer { noise in
                    gain.withUnsafeBufferPointer { gain in
                        pixels.withUnsafeMutableBufferPointer { out in
                            for y in 0..<height {
                                let row = y * width
                                if y < bandHeight {
                                    for x in 0..<width { out[row + x] = band }
                                    continue
                                }
                                let sceneRow = (y + offset.y) * sceneWidth + offset.x
                                let inBox = y >= box.y0 && y <= box.y1
                                for x in 0..<width {
                                    let g = gain[row + x]
                                    if g == 0 { out[row + x] = 0; continue }
                                    var s = scene[sceneRow + x]
                                    if inBox, x >= box.x0, x <= box.x1, let template {
                                        let dx = Double(x) - inverse.x, dy = Double(y) - inverse.y
                                        let u = (inverse.c * dx + inverse.s * dy) * inverse.scale
                                        let v = (-inverse.s * dx + inverse.c * dy) * inverse.scale
                                        if abs(u) < 1, abs(v) < 1 {
                                            let m = template.sample(u: u, v: v)
                                            s = s * (1 + contrast * (m.mul - 1)) + contrast * m.add
                                        }
                                    }
                                    let value = imageGain * g * s * (0.7 * speckle[sceneRow + x] + 0.3 * noise[row + x])
                                    out[row + x] = UInt8(min(255, max(0, value)))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
