import XCTest
import SonoCore
import SonoShards
@testable import SonoDataset

/// Labelled frame datasets: sampling in spans, folds by scan, gaze maps, the recipe kind.
final class FrameDatasetTests: XCTestCase {
    /// One gaze point gives the Gaussian at that point, sum-normalised; its cell is the fixation.
    func testGazeMapOfOnePointIsTheGaussian() {
        let region = CropRect(x: 100, y: 50, width: 320, height: 320)
        let map = GazeMap(points: [(x: 100 + 160, y: 50 + 80)], region: region, mapSize: 32, sigmaPixels: 20)
        // Map cells are 10 px: the point sits at (16, 8) cells, σ = 2 cells.
        var expected = [Double](repeating: 0, count: 32 * 32)
        for y in 0..<32 { for x in 0..<32 {
            let dx = (Double(x) + 0.5 - 16) / 2, dy = (Double(y) + 0.5 - 8) / 2
            expected[y * 32 + x] = exp(-0.5 * (dx * dx + dy * dy))
        } }
        let total = expected.reduce(0, +)
        for i in 0..<(32 * 32) { XCTAssertEqual(Double(map.density[i]), expected[i] / total, accuracy: 1e-6) }
        XCTAssertEqual(Double(map.density.reduce(0, +)), 1, accuracy: 1e-5)
        XCTAssertEqual(map.fixations.enumerated().filter { $0.element == 1 }.map(\.offset), [8 * 32 + 16])
        let outside = GazeMap(points: [(x: 10, y: 10)], region: region, mapSize: 32, sigmaPixels: 20)
        XCTAssertEqual(outside.density.reduce(0, +), 0, "a point outside the region adds nothing")
    }

    /// k folds deal the scans round-robin in seeded order: each scan in one fold, sizes within one.
    func testFoldsNeverShareAScan() {
        let scans = (0..<11).map { "scan_\($0)" }
        let folds = FoldRule(k: 5, seed: 3).folds(of: scans)
        XCTAssertEqual(Set(folds.keys), Set(scans))
        let sizes = (0..<5).map { f in folds.values.filter { $0 == f }.count }
        XCTAssertEqual(sizes.max()! - sizes.min()!, 1)
        XCTAssertEqual(folds, FoldRule(k: 5, seed: 3).folds(of: scans.reversed()), "order-free")
        XCTAssertNotEqual(folds, FoldRule(k: 5, seed: 4).folds(of: scans), "seeded")
    }

    /// Samples at (k + ½)/rate inside a span; a long span keeps `maxPerSpan`, evenly spread.
    func testSamplesInASpan() {
        var f = FrameSampling(labels: "planes")
        f.rateHz = 2; f.maxPerSpan = 3
        XCTAssertEqual(f.times(in: 1_000_000..<2_000_000), [1_250_000, 1_750_000])
        XCTAssertEqual(f.times(in: 0..<10_000_000), [1_750_000, 5_250_000, 8_250_000])
        XCTAssertEqual(f.times(in: 0..<100_000), [], "a span shorter than half a period has no sample")
    }

    /// A `[frames]` recipe makes frame records; clip recipes keep their hash (new fields are optional).
    func testFrameRecipe() throws {
        let r = try DatasetRecipe.parse("name = \"planes\"\n[frames]\nlabels = \"p\"\nrate_hz = 2\nsize = 64\n[saliency]\ngaze = \"g\"\nmap_size = 16\n[folds]\nk = 3\n", path: "f.toml")
        XCTAssertTrue(r.isFrameDataset)
        XCTAssertEqual(r.frameShape, FrameRecordShape(size: 64, mapSize: 16))
        XCTAssertEqual(r.recordLayout.fields.map(\.name), ["clip_id", "frame", "label", "gaze_map", "fixations", "crc32c"])
        XCTAssertEqual(FrameRecordShape(layout: r.recordLayout), r.frameShape)
        XCTAssertEqual(r.folds?.k, 3)
        XCTAssertThrowsError(try DatasetRecipe.parse("name = \"x\"\n[clips]\nlength_s = 2\n[saliency]\ngaze = \"g\"\n", path: "s.toml")) {
            XCTAssertTrue("\($0)".contains("[saliency] needs [frames]"), "\($0)")
        }
        let clip = try DatasetRecipe.parse("name = \"x\"\n[clips]\nlength_s = 2\n", path: "c.toml")
        XCTAssertFalse(clip.canonicalJSON.contains("\"frames\"") || clip.canonicalJSON.contains("\"saliency\""))
    }
}
