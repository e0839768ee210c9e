import XCTest
@testable import SonoLoader

/// The frame transforms against direct per-pixel definitions (numpy-style loops written here).
final class AugmentationTests: XCTestCase {
    private let side = 16
    private lazy var frame: [UInt8] = (0..<(side * side)).map { UInt8(truncatingIfNeeded: $0 * 37 % 251) }

    private func apply(_ t: FrameTransform, scale: Float = 1 / 255, bias: Float = 0) -> [Float] {
        var out = [Float](repeating: .nan, count: side * side)
        frame.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { t.apply(src.baseAddress!, side: side, into: $0.baseAddress!, scale: scale, bias: bias) }
        }
        return out
    }

    /// Flip then shift with zero (black) fill, as the loader always did.
    func testFlipAndShift() {
        let out = apply(FrameTransform(flip: true, dx: 3, dy: -2))
        for y in 0..<side {
            for x in 0..<side {
                let sx = x - 3, sy = y + 2
                let expected: Float = sx < 0 || sx >= side || sy >= side ? 0 : Float(frame[sy * side + (side - 1 - sx)]) / 255
                XCTAssertEqual(out[y * side + x], expected, accuracy: 1e-7, "(\(x), \(y))")
            }
        }
    }

    /// A crop of the whole frame resamples to the frame itself; a half crop is a 2× bilinear zoom.
    func testCropResamplesBilinearly() {
        let whole = apply(FrameTransform(crop: CropRect(x: 0, y: 0, width: Double(side), height: Double(side))))
        for (i, p) in frame.enumerated() { XCTAssertEqual(whole[i], Float(p) / 255, accuracy: 1e-6) }
        let zoom = apply(FrameTransform(crop: CropRect(x: 4, y: 4, width: 8, height: 8)))
        // Output pixel x samples the source at 4 + (x + 0.5)/2 − 0.5.
        func source(_ x: Double, _ y: Double) -> Float {
            let ix = Int(x), iy = Int(y), fx = Float(x - Double(ix)), fy = Float(y - Double(iy))
            let v = { (a: Int, b: Int) in Float(self.frame[b * self.side + a]) }
            return ((v(ix, iy) * (1 - fx) + v(ix + 1, iy) * fx) * (1 - fy) + (v(ix, iy + 1) * (1 - fx) + v(ix + 1, iy + 1) * fx) * fy) / 255
        }
        for y in 0..<side {
            for x in 0..<side {
                XCTAssertEqual(zoom[y * side + x], source(3.75 + Double(x) / 2, 3.75 + Double(y) / 2), accuracy: 1e-5)
            }
        }
    }

    /// A quarter turn about the centre maps pixel centres onto pixel centres: out(x, y) = src(y, n−1−x)
    /// (numpy's rot90, python/tests/test_train.py); zoom ½ shrinks the frame inside black.
    func testRotationAndZoomAboutTheCentre() {
        let turned = apply(FrameTransform(rotation: Double.pi / 2), scale: 1, bias: 0)
        for y in 0..<side {
            for x in 0..<side {
                XCTAssertEqual(turned[y * side + x], Float(frame[(side - 1 - y) + x * side]), accuracy: 1e-3, "(\(x), \(y))")
            }
        }
        let shrunk = apply(FrameTransform(zoom: 0.5), scale: 1, bias: -7)
        for i in 0..<side {
            XCTAssertEqual(shrunk[i], -7)                 // top row
            XCTAssertEqual(shrunk[i * side], -7)          // left column
        }
        for y in 4..<12 { for x in 4..<12 { XCTAssertNotEqual(shrunk[y * side + x], -7) } }
        // The draws come after the older ones: a run without rotation and zoom keeps its pixels.
        let old = Augmentation(horizontalFlip: true, maxShift: 6, minCropArea: 0.5, intensity: 0.3)
        var new = old
        new.maxRotation = 30
        new.maxZoom = 1.3
        let a = old.draw(seed: 3, clipID: 9, epoch: 1, size: 64).video, b = new.draw(seed: 3, clipID: 9, epoch: 1, size: 64).video
        XCTAssertEqual([a.flip ? 1 : 0, a.dx, a.dy], [b.flip ? 1 : 0, b.dx, b.dy])
        XCTAssertEqual(a.crop, b.crop)
        XCTAssertEqual(a.brightness, b.brightness)
        XCTAssertTrue(abs(b.rotation) <= 30 * Double.pi / 180 && b.rotation != 0 && b.zoom >= 1 / 1.3 && b.zoom <= 1.3)
    }

    /// Brightness b and contrast c about the mean m after brightness: ((p·b − m·b)·c + m·b), then the normalisation.
    func testIntensity() {
        let mean = Float(frame.reduce(0) { $0 + Int($1) }) / Float(frame.count)
        let out = apply(FrameTransform(brightness: 1.2, contrast: 0.7), scale: 2 / 255, bias: -1)
        for (i, p) in frame.enumerated() {
            let jittered = (Float(p) * 1.2 - mean * 1.2) * 0.7 + mean * 1.2
            XCTAssertEqual(out[i], jittered * 2 / 255 - 1, accuracy: 1e-5)
        }
    }

    /// Without crop and intensity the draws are the loader's original flip and shift; the still
    /// shares them unless `independentStill`; every draw is a function of (seed, clip, epoch).
    func testDraws() throws {
        let plain = Augmentation(horizontalFlip: true, maxShift: 6)
        var sharedCount = 0, independentCount = 0
        for clip in Int64(1)...50 {
            let a = plain.draw(seed: 7, clipID: clip, epoch: 2, size: 64)
            XCTAssertEqual(a.video, a.still)
            XCTAssertNil(a.video.crop)
            XCTAssertEqual(a.video, plain.draw(seed: 7, clipID: clip, epoch: 2, size: 64).video)
            XCTAssertTrue(abs(a.video.dx) <= 6 && abs(a.video.dy) <= 6)
            if a.video == plain.draw(seed: 7, clipID: clip, epoch: 3, size: 64).video { sharedCount += 1 }
            var full = Augmentation(horizontalFlip: true, maxShift: 6, minCropArea: 0.3, intensity: 0.4, independentStill: true)
            let b = full.draw(seed: 7, clipID: clip, epoch: 2, size: 64)
            XCTAssertEqual(b.video.flip, a.video.flip); XCTAssertEqual(b.video.dx, a.video.dx)
            if b.video != b.still { independentCount += 1 }
            for t in [b.video, b.still] {
                let crop = try XCTUnwrap(t.crop)
                XCTAssertTrue(crop.width * crop.height >= 0.3 * 64 * 64 * 0.99 || crop.width == 64 || crop.height == 64)
                XCTAssertTrue(crop.x >= 0 && crop.y >= 0 && crop.x + crop.width <= 64.000001 && crop.y + crop.height <= 64.000001)
                XCTAssertTrue(abs(t.brightness - 1) <= 0.4 && abs(t.contrast - 1) <= 0.4)
            }
            full.independentStill = false
            let c = full.draw(seed: 7, clipID: clip, epoch: 2, size: 64)
            XCTAssertEqual(c.video, c.still)
        }
        XCTAssertLessThan(sharedCount, 10, "another epoch draws again")
        XCTAssertEqual(independentCount, 50)
    }
}
