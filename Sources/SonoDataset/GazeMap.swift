import Foundation
import SonoCore

/// A frame's saliency target from gaze: the points (displayed pixels) that fall in the frame's
/// region (its crop, or the whole frame), mapped onto an m×m grid, blurred by a Gaussian of σ
/// displayed pixels, and sum-normalised; and the binary fixation map (1 where a point fell).
public struct GazeMap: Sendable, Equatable {
    /// [m, m] row-major, summing to 1 (all zeros when no point fell inside).
    public var density: [Float]
    /// [m, m], 1 at each point's cell.
    public var fixations: [UInt8]

    /// - Parameters:
    ///   - points: gaze samples (x, y) in displayed pixels of the full frame.
    ///   - region: the part of the frame the record shows.
    public init(points: [(x: Double, y: Double)], region: CropRect, mapSize m: Int, sigmaPixels: Double) {
        var density = [Double](repeating: 0, count: m * m)
        var fixations = [UInt8](repeating: 0, count: m * m)
        let sx = Double(m) / Double(region.width), sy = Double(m) / Double(region.height)
        // σ in map cells (the region is resized to m×m, so each axis scales separately).
        let sigmaX = max(sigmaPixels * sx, 1e-6), sigmaY = max(sigmaPixels * sy, 1e-6)
        let inside = points.compactMap { p -> (Double, Double)? in
            let u = (p.x - Double(region.x)) * sx, v = (p.y - Double(region.y)) * sy
            return u >= 0 && u < Double(m) && v >= 0 && v < Double(m) ? (u, v) : nil
        }
        for (u, v) in inside {
            fixations[min(m - 1, Int(v)) * m + min(m - 1, Int(u))] = 1
            // The Gaussian at every cell centre (not truncated: m² per point is cheap here).
            for y in 0..<m {
                let dy = (Double(y) + 0.5 - v) / sigmaY
                for x in 0..<m {
                    let dx = (Double(x) + 0.5 - u) / sigmaX
                    density[y * m + x] += exp(-0.5 * (dx * dx + dy * dy))
                }
            }
        }
        let total = density.reduce(0, +)
        self.density = density.map { total > 0 ? Float($0 / total) : 0 }
        self.fixations = fixations
    }
}
