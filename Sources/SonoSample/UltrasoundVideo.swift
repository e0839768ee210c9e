import Foundation
import SonoCore

/// Renders ultrasound-like gray frames: a fan-shaped sector of speckle over tissue-like
/// structures that drift as the probe moves, on black, below a static band for the machine's
/// text. Deterministic given the spec.
struct UltrasoundVideo {
    let width: Int, height: Int
    let bandHeight: Int
    private let margin: Int
    private let sceneWidth: Int
    /// Echogenicity of the scene (bigger than the frame, so it can drift).
    private let scene: [Float]
    /// Multiplicative speckle that moves with the scene.
    private let speckle: [Float]
    /// Fresh speckle cycled over frames (the part that decorrelates in time).
    private let fresh: [[Float]]
    /// Per frame pixel: 0 outside the sector, depth attenuation inside.
    private let gain: [Float]
    /// The screen's changing UI, drawn over each frame (nil: none).
    private let layout: ScreenLayout?

    /// Where the sector is: the bounding box a detected crop should find.
    var sectorBox: CropRect? { ScreenLayout.sectorBox(gain, width: width, height: height) }

    init(spec: SampleSpec) {
        width = spec.width
        height = spec.height
        bandHeight = max(12, spec.height / 14)
        margin = max(8, spec.width / 16)
        sceneWidth = width + 2 * margin
        let sceneHeight = height + 2 * margin
        var rng = SeededGenerator(seed: spec.seed, stream: 0x71D)

        // Smooth background: bilinear value noise on a coarse grid.
        let cell = max(8, spec.width / 24)
        let gw = sceneWidth / cell + 2, gh = sceneHeight / cell + 2
        let grid = (0..<(gw * gh)).map { _ in Float(0.35 + 0.4 * rng.nextUnit()) }
        // A few structures: a dark fluid region, a bright ring (skull-like), a bright line (bone).
        let fluid = (x: 0.35 * Double(sceneWidth), y: 0.55 * Double(sceneHeight), a: 0.18 * Double(sceneWidth), b: 0.12 * Double(sceneHeight))
        let ring = (x: 0.6 * Double(sceneWidth), y: 0.5 * Double(sceneHeight), r: 0.16 * Double(sceneHeight))
        var scene = [Float](repeating: 0, count: sceneWidth * sceneHeight)
        for y in 0..<sceneHeight {
            for x in 0..<sceneWidth {
                let gx = Double(x) / Double(cell), gy = Double(y) / Double(cell)
                let ix = Int(gx), iy = Int(gy)
                let fx = Float(gx - Double(ix)), fy = Float(gy - Double(iy))
                let v00 = grid[iy * gw + ix], v10 = grid[iy * gw + ix + 1]
                let v01 = grid[(iy + 1) * gw + ix], v11 = grid[(iy + 1) * gw + ix + 1]
                var v = (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy
                let dx = (Double(x) - fluid.x) / fluid.a, dy = (Double(y) - fluid.y) / fluid.b
                if dx * dx + dy * dy < 1 { v *= 0.15 }
                let rr = ((Double(x) - ring.x) * (Double(x) - ring.x) + (Double(y) - ring.y) * (Double(y) - ring.y)).squareRoot()
                if abs(rr - ring.r) < Double(max(2, spec.height / 120)) { v = min(1, v + 0.5) }
                if abs(Double(y) - 0.8 * Double(sceneHeight) - 0.1 * Double(x)) < Double(max(1, spec.height / 200)) { v = 1 }
                scene[y * sceneWidth + x] = v
            }
        }
        self.scene = scene
        // Rayleigh speckle, mean ≈ 1.
        func rayleigh(_ count: Int, _ rng: inout SeededGenerator) -> [Float] {
            (0..<count).map { _ in Float((-2 * log(max(rng.nextUnit(), 1e-12))).squareRoot() / 1.2533) }
        }
        speckle = rayleigh(sceneWidth * sceneHeight, &rng)
        fresh = (0..<4).map { _ in rayleigh(spec.width * spec.height, &rng) }

        gain = ScreenLayout.sectorGain(spec.screen, width: width, height: height, band: bandHeight)
        layout = spec.screen
    }

    /// Draws frame `index` (at `fps`) into `pixels` (width × height gray bytes).
    func render(frame shown: Int, fps: Int, into pixels: inout [UInt8]) {
        let (index, probeOff) = layout?.imageFrame(shown, fps: fps) ?? (shown, false)
        let t = Double(index) / Double(fps)
        let dx = Int((Double(margin) * 0.9 * sin(2 * Double.pi * t / 7.3)).rounded())
        let dy = Int((Double(margin) * 0.9 * sin(2 * Double.pi * t / 11.1 + 1)).rounded())
        let noise = fresh[index % fresh.count]
        let band: UInt8 = 24
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
                                let sceneRow = (y + margin + dy) * sceneWidth + margin + dx
                                for x in 0..<width {
                                    let g = gain[row + x]
                                    if g == 0 || probeOff { out[row + x] = 0; continue }
                                    let s = scene[sceneRow + x] * (0.7 * speckle[sceneRow + x] + 0.3 * noise[row + x])
                                    out[row + x] = UInt8(min(255, 200 * g * s))
                                }
                            }
                        }
                    }
                }
            }
        }
        layout?.drawElements(frame: shown, fps: fps, width: width, height: height, band: bandHeight, into: &pixels)
    }
}
