import XCTest
import SonoCore
import SonoTestSupport
@testable import SonoMedia

final class VideoDecoderTests: XCTestCase {
    private func decodeAll(_ path: String, threads: Int = 2) throws -> [FrameTiming] {
        let decoder = try VideoDecoder(path: path, threads: threads)
        var frames: [FrameTiming] = []
        while let f = try decoder.nextFrame() { frames.append(f) }
        XCTAssertEqual(decoder.stats.corruptPackets, 0)
        XCTAssertEqual(decoder.stats.nonIncreasingTimestamps, 0)
        return frames
    }

    func testConstantRate30And25() throws {
        let dir = TemporaryDirectory()
        for (fps, container) in [(30, "mp4"), (25, "mkv")] {
            let path = dir.file("c\(fps).\(container)")
            try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=\(fps):duration=3",
                               "-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", path])
            for threads in [1, 2] {
                let frames = try decodeAll(path, threads: threads)
                XCTAssertEqual(frames.count, 3 * fps, "\(path) threads \(threads)")
                for (i, f) in frames.enumerated() {
                    XCTAssertEqual(f.index, i)
                    // MKV stores milliseconds: allow the 1 ms rounding of its time base.
                    XCTAssertEqual(Double(f.pts), Double(i) * 1e6 / Double(fps), accuracy: 1000, "\(path) frame \(i)")
                }
            }
        }
    }

    func testVariableFrameRateTimestamps() throws {
        // 30 frames at 30 fps, then 30 frames at 10 fps: timestamps say so, the nominal rate does not.
        let dir = TemporaryDirectory()
        let path = dir.file("vfr.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=2",
                           "-vf", "setpts='if(lt(N,30),N/30,1+(N-30)/10)/TB'", "-fps_mode", "passthrough",
                           "-c:v", "libx264", "-preset", "ultrafast", "-video_track_timescale", "90000", path])
        let frames = try decodeAll(path)
        XCTAssertEqual(frames.count, 60)
        for (i, f) in frames.enumerated() {
            let expected = i < 30 ? Double(i) / 30 : 1 + Double(i - 30) / 10
            XCTAssertEqual(Double(f.pts), expected * 1e6, accuracy: 100, "frame \(i)")
            if i > 0 { XCTAssertGreaterThan(f.pts, frames[i - 1].pts) }
        }
    }

    /// Frames whose gray level is known decode to that level (±2) after resizing, whatever the
    /// coding: limited-range 8-bit, 10-bit, full-range (yuvj), and RGB.
    func testGrayLevelsSurviveCodingAndResize() throws {
        let dir = TemporaryDirectory()
        let w = 96, h = 64
        let levels: [UInt8] = [0, 16, 17, 64, 128, 200, 235, 240, 255]
        let frames = levels.map { [UInt8](repeating: $0, count: w * h) }
        let variants: [(String, [String])] = [
            ("limited8.mp4", ["-c:v", "libx264", "-crf", "4", "-pix_fmt", "yuv420p"]),
            ("limited10.mp4", ["-c:v", "libx264", "-crf", "4", "-pix_fmt", "yuv420p10le"]),
            ("full8.mp4", ["-c:v", "libx264", "-crf", "4", "-pix_fmt", "yuvj420p"]),
            ("rgb.mkv", ["-c:v", "ffv1", "-pix_fmt", "bgr0"]),
            ("gray.mkv", ["-c:v", "ffv1", "-pix_fmt", "gray"]),
        ]
        for (name, codec) in variants {
            let path = dir.file(name)
            try FFmpegCLI.encodeGrayFrames(frames, width: w, height: h, fps: 10, to: path, codecArgs: codec)
            let decoder = try VideoDecoder(path: path)
            var k = 0
            while let _ = try decoder.nextFrame() {
                let image = try decoder.currentImage(GrayConversion(size: 32))
                let (lo, hi) = (image.pixels.min() ?? 0, image.pixels.max() ?? 0)
                XCTAssertLessThanOrEqual(abs(Int(lo) - Int(levels[k])), 2, "\(name) frame \(k) (\(decoder.currentFrameFormat.pixelFormat)) min \(lo)")
                XCTAssertLessThanOrEqual(abs(Int(hi) - Int(levels[k])), 2, "\(name) frame \(k) max \(hi)")
                k += 1
            }
            XCTAssertEqual(k, levels.count, name)
        }
    }

    /// Crop (in displayed coordinates) + area resize + rotation agree with the `ffmpeg` CLI,
    /// which autorotates before its filters.
    func testCropResizeAndRotationMatchFFmpegCLI() throws {
        let dir = TemporaryDirectory()
        let plain = dir.file("plain.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=0.5",
                           "-c:v", "libx264", "-crf", "10", "-preset", "ultrafast", "-pix_fmt", "yuvj420p", plain])
        for rotate in [0, 90, 180, 270] {
            let path = dir.file("r\(rotate).mp4")
            try FFmpegCLI.run(["-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=\(rotate)", path])
            let decoder = try VideoDecoder(path: path)
            let displayW = decoder.info.displayWidth, displayH = decoder.info.displayHeight
            let crop = CropRect(x: 30, y: 20, width: displayW - 60, height: displayH - 50)
            let conversion = GrayConversion(width: 48, height: 40, crop: crop)
            guard try decoder.nextFrame() != nil else { return XCTFail("no frame") }
            let ours = try decoder.currentImage(conversion)
            let reference = [UInt8](try FFmpegCLI.output([
                "-i", path, "-frames:v", "1",
                "-vf", "crop=\(crop.width):\(crop.height):\(crop.x):\(crop.y),scale=48:40:flags=area,format=gray",
                "-f", "rawvideo", "-"]))
            XCTAssertEqual(reference.count, ours.pixels.count)
            let meanAbs = zip(ours.pixels, reference).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(reference.count)
            XCTAssertLessThan(meanAbs, 2.0, "rotation \(rotate): mean |Δ| = \(meanAbs)")
        }
    }

    func testGeneratedSampleDecodesCompletely() throws {
        let dir = TemporaryDirectory()
        let spec = SampleSpecForTests.small
        let path = try SampleGeneratorShim.generate(spec, dir.path)
        let frames = try decodeAll(path)
        XCTAssertEqual(frames.count, spec.frameCount)
        XCTAssertEqual(frames.last?.pts, TimeMath.micros(ofSample: Int64(spec.frameCount - 1), rate: spec.framesPerSecond))
    }
}
