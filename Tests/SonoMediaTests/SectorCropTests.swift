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
        let path = try SampleGenerator.generate(spec, into: dir.path).videoPath
        let crop = try XCTUnwrap(SectorCrop.detect(path: path))
        let band = max(12, spec.height / 14)
        XCTAssertGreaterThanOrEqual(crop.y, band, "\(crop)")
        XCTAssertLessThan(crop.y, band + 24, "\(crop)")
        XCTAssertEqual(crop.y + crop.height, 240, accuracy: 8)
        // The sector spans ±38° around the centre: about 28…292 px at this size.
        XCTAssertEqual(Double(crop.x), 28, accuracy: 10)
        XCTAssertEqual(Double(crop.x + crop.width), 292, accuracy: 10)
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
