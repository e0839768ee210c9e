import Foundation
import SonoCore

/// Frame augmentation, seeded per (seed, epoch, clip) so a resumed run sees the same pixels.
///
/// Flip and shift alone keep the still a pixel copy of one of its clip's frames (same flip,
/// same shift), which an image encoder can match without learning anything about the view.
/// `independentStill`, `cropArea` and `intensity` are SimCLR's remedy: two differently
/// augmented views of the same moment (docs/training.md, "Why it collapsed").
public struct Augmentation: Sendable, Hashable {
    /// Flip horizontally with probability 1/2 (the same for every frame of a clip).
    public var horizontalFlip = true
    /// Shift by up to this many pixels in x and y (zero fill): a random crop of a padded frame.
    public var maxShift = 8
    /// Random resized crop: a rectangle of this fraction of the frame's area (lower bound; aspect
    /// 3/4…4/3) resampled bilinearly to the frame size. 1: off.
    public var minCropArea = 1.0
    /// Brightness and contrast factors drawn from 1 ± this (contrast about the frame's mean). 0: off.
    public var intensity = 0.0
    /// The still draws its own flip, shift, crop, intensity, rotation and zoom instead of sharing its clip's.
    public var independentStill = false
    /// Rotation about the frame's centre by an angle drawn from ±this many degrees. 0: off.
    /// With `maxZoom`, what makes two views of a moment disagree on the pose of the anatomy
    /// (where the sonographer held the transducer), so matching them needs its shape (docs/training.md, session 7).
    public var maxRotation = 0.0
    /// Zoom about the centre by a factor drawn log-uniformly from 1/this…this (below 1 the frame
    /// shrinks inside black). 1: off.
    public var maxZoom = 1.0

    public init(horizontalFlip: Bool = true, maxShift: Int = 8, minCropArea: Double = 1, intensity: Double = 0,
                independentStill: Bool = false, maxRotation: Double = 0, maxZoom: Double = 1) {
        self.horizontalFlip = horizontalFlip
        self.maxShift = maxShift
        self.minCropArea = minCropArea
        self.intensity = intensity
        self.independentStill = independentStill
        self.maxRotation = maxRotation
        self.maxZoom = maxZoom
    }

    /// The draws for one clip: one for all its frames, one for its still (equal unless `independentStill`).
    func draw(seed: UInt64, clipID: Int64, epoch: Int, size: Int) -> (video: FrameTransform, still: FrameTransform) {
        var rng = SeededGenerator(seed: seed ^ 0xA06, stream: UInt64(bitPattern: clipID) &* 1_000_003 &+ UInt64(epoch))
        let video = draw(&rng, size: size)
        guard independentStill else { return (video, video) }
        return (video, draw(&rng, size: size))
    }

    private func draw(_ rng: inout SeededGenerator, size: Int) -> FrameTransform {
        var t = FrameTransform()
        // Flip and shift first, in the order of the original draws (runs without crop and
        // intensity see the same pixels as before these existed).
        t.flip = horizontalFlip && rng.next() & 1 == 1
        if maxShift > 0 {
            t.dx = Int(rng.next() % UInt64(2 * maxShift + 1)) - maxShift
            t.dy = Int(rng.next() % UInt64(2 * maxShift + 1)) - maxShift
        }
        if minCropArea < 1 {
            let side = Double(size)
            let area = minCropArea + (1 - minCropArea) * rng.nextUnit()
            let aspect = exp(log(3.0 / 4) + log(16.0 / 9) * rng.nextUnit())
            let w = min(side, side * (area * aspect).squareRoot()), h = min(side, side * (area / aspect).squareRoot())
            t.crop = CropRect(x: (side - w) * rng.nextUnit(), y: (side - h) * rng.nextUnit(), width: w, height: h)
        }
        if intensity > 0 {
            t.brightness = Float(1 + intensity * (2 * rng.nextUnit() - 1))
            t.contrast = Float(1 + intensity * (2 * rng.nextUnit() - 1))
        }
        // After the older draws, so runs without them keep their pixels.
        if maxRotation > 0 { t.rotation = maxRotation * Double.pi / 180 * (2 * rng.nextUnit() - 1) }
        if maxZoom > 1 { t.zoom = exp(log(maxZoom) * (2 * rng.nextUnit() - 1)) }
        return t
    }
}

/// A source rectangle in pixels (fractional) that is resampled to the whole frame.
struct CropRect: Hashable {
    var x: Double, y: Double, width: Double, height: Double
}

/// One draw of `Augmentation`, applied to a square u8 frame while it is converted to Float.
struct FrameTransform: Hashable {
    var flip = false
    var dx = 0, dy = 0
    var crop: CropRect?
    var brightness: Float = 1, contrast: Float = 1
    /// Rotation (radians) and zoom factor about the frame's centre.
    var rotation = 0.0, zoom = 1.0

    var isIdentity: Bool { !flip && dx == 0 && dy == 0 && crop == nil && brightness == 1 && contrast == 1 && rotation == 0 && zoom == 1 }

    /// Writes the transformed `side`² frame as `x·scale + bias` (the loader's normalisation), after
    /// intensity p → ((p·b − m)·c + m) on p = x in 0…255 with m the frame's mean after brightness.
    /// Pixels a shift exposes get the value of black (`bias`).
    func apply(_ src: UnsafePointer<UInt8>, side: Int, into dst: UnsafeMutablePointer<Float>, scale: Float, bias: Float) {
        let n = side
        let mean = contrast == 1 ? 0 : Self.mean(src, n * n)
        // Intensity as one affine map on the source value: x·gain + offset.
        let gain = brightness * contrast
        let offset = (1 - contrast) * mean * brightness
        let s = scale * gain, b = bias + scale * offset
        if crop != nil || rotation != 0 || zoom != 1 {
            resample(src, side: n, into: dst, scale: s, bias: b, black: bias)
            return
        }
        for y in 0..<n {
            let sy = y - dy
            for x in 0..<n {
                let sx0 = x - dx
                let sx = flip ? n - 1 - sx0 : sx0
                dst[y * n + x] = sy < 0 || sy >= n || sx0 < 0 || sx0 >= n ? bias : Float(src[sy * n + sx]) * s + b
            }
        }
    }

    /// Crop, rotation and zoom: output pixel → (shift, flip) → rotation and zoom about the centre →
    /// crop rectangle → bilinear sample. A point that falls outside the source frame is black.
    private func resample(_ src: UnsafePointer<UInt8>, side n: Int, into dst: UnsafeMutablePointer<Float>,
                             scale s: Float, bias b: Float, black: Float) {
        let half = Double(n) / 2, last = Double(n - 1)
        let c = cos(rotation) / zoom, sn = sin(rotation) / zoom
        let r = crop ?? CropRect(x: 0, y: 0, width: Double(n), height: Double(n))
        let fx = r.width / Double(n), fy = r.height / Double(n)
        for y in 0..<n {
            let oy = y - dy
            for x in 0..<n {
                let ox0 = x - dx
                if oy < 0 || oy >= n || ox0 < 0 || ox0 >= n { dst[y * n + x] = black; continue }
                let ox = flip ? n - 1 - ox0 : ox0
                let u = Double(ox) + 0.5 - half, v = Double(oy) + 0.5 - half
                let px = r.x + (c * u - sn * v + half) * fx - 0.5
                let py = r.y + (sn * u + c * v + half) * fy - 0.5
                if px < -0.5 || px > last + 0.5 || py < -0.5 || py > last + 0.5 { dst[y * n + x] = black; continue }
                let qx = min(last, max(0, px)), qy = min(last, max(0, py))
                let ix = min(n - 2, Int(qx)), iy = min(n - 2, Int(qy))
                let wx = Float(qx - Double(ix)), wy = Float(qy - Double(iy))
                let r0 = iy * n + ix, r1 = r0 + n
                let top = Float(src[r0]) * (1 - wx) + Float(src[r0 + 1]) * wx
                let bottom = Float(src[r1]) * (1 - wx) + Float(src[r1 + 1]) * wx
                dst[y * n + x] = (top * (1 - wy) + bottom * wy) * s + b
            }
        }
    }

    /// The mean of `count` bytes (the pivot of the contrast change).
    static func mean(_ src: UnsafePointer<UInt8>, _ count: Int) -> Float {
        var sum = 0
        for i in 0..<count { sum += Int(src[i]) }
        return Float(sum) / Float(max(1, count))
    }
}
