import XCTest
import SonoCore
import SonoSample
import SonoTestSupport
@testable import SonoMedia

final class SectorCropTests: XCTestCase {
    /// On a sample recording the detected crop holds the moving sector and leaves out the
    /// static text band above it and the black margins beside it.
    func testFindsTheSectorAndDropsTheTextBand() throws {
        let dir = TemporaryDirectory()
        var spec = SampleSpec()
        spec.width = 320; spec.height = 240; spec.seconds = 3
        let output = try SampleGenerator.generate(spec, into: dir.path)
        let found = try XCTUnwrap(SectorCrop.detect(path: output.videoPath))
        let crop = found.crop
        let band = max(12, spec.height / 14)
        XCTAssertGreaterThanOrEqual(crop.y, band, "\(crop)")
        XCTAssertEqual(crop.y + crop.height, 240, accuracy: 8)
        XCTAssertGreaterThanOrEqual(Self.iou(crop, try XCTUnwrap(output.annotation.sector)), 0.95, "\(crop)")
        XCTAssertTrue(found.isConfident, "\(found)")
        XCTAssertEqual(found.method, SectorCrop.method)
    }

    /// Screens as real machines show them: fans and linear sectors of other positions and
    /// widths, next to a clock, a frame counter, a cine bar and changing text, all changing
    /// while the sector moves. The crop matches the sector's box (IoU ≥ 0.95) on every layout,
    /// and the changing UI is never inside it.
    func testSectorIoUOnScreenLayoutsWithChangingUI() throws {
        let dir = TemporaryDirectory()
        let layouts: [(String, String)] = [
            ("counter", "fan,frame-counter,cine-bar,clock"),
            ("narrow", "fan,width=0.6,changing-text,frame-counter"),
            ("left", "fan,x=0.4,width=0.55,changing-text,clock"),
            ("linear", "linear,width=0.5,frame-counter,cine-bar,changing-text"),
            ("linear-right", "linear,x=0.6,width=0.45,clock,frame-counter"),
            ("wide", "fan,width=0.9,clock,frame-counter"),
        ]
        for (k, (name, text)) in layouts.enumerated() {
            var spec = SampleSpec()
            spec.name = name; spec.width = 320; spec.height = 240; spec.seconds = 3; spec.seed = UInt64(k + 1); spec.noSpeech = true
            spec.screen = try ScreenLayout(parsing: text, option: "test")
            let output = try SampleGenerator.generate(spec, into: dir.path)
            let truth = try XCTUnwrap(output.annotation.sector)
            let found = try XCTUnwrap(SectorCrop.detect(path: output.videoPath), name)
            XCTAssertGreaterThanOrEqual(Self.iou(found.crop, truth), 0.95, "\(name): \(found.crop) against \(truth)")
            XCTAssertTrue(found.isConfident, "\(name): \(found)")
            print(String(format: "sector %@: IoU %.3f, confidence %.3f, fill %.3f", name, Self.iou(found.crop, truth), found.confidence, found.fill))
        }
    }

    private static func iou(_ a: CropRect, _ b: CropRect) -> Double {
        let w = max(0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x)), h = max(0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
        let inter = Double(w * h)
        return inter / (Double(a.width * a.height + b.width * b.height) - inter)
    }

    /// A still picture has nothing live: no crop (whole frames are used).
    func testStillVideoHasNoCrop() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("still.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=2", "-vf", "trim=end_frame=1,loop=loop=19:size=1",
                           "-c:v", "libx264", "-preset", "ultrafast", path])
        XCTAssertNil(try SectorCrop.detect(path: path))
    }
}
