import XCTest
import SonoCore
@testable import SonoDataset

/// The frozen and blank checks next to UI the crop could not exclude: a counter patch that
/// changes every frame (2 % of the pixels) must not make a frozen clip active, nor a bright
/// one make a blank clip bright, while moving speckle stays far above the thresholds.
final class ClipQualityTests: XCTestCase {
    private let side = 64, frames = 14

    /// Frames: `base` per pixel (+ fresh noise when `moving`), with a UI patch in the corner
    /// whose value changes every frame.
    private func clip(base: (Int) -> UInt8, moving: Bool, counter: Bool) -> [UInt8] {
        var rng = SeededGenerator(seed: 7, stream: 1)
        var video = [UInt8](repeating: 0, count: frames * side * side)
        let patch = Int((Double(side * side) * 0.02).squareRoot())  // 2 % of the pixels
        for f in 0..<frames {
            for y in 0..<side {
                for x in 0..<side {
                    var v = Int(base(y * side + x))
                    if moving { v = min(255, max(0, v + Int(rng.next() % 61) - 30)) }
                    if counter && x < patch && y < patch { v = (f * 97 + x * 13) % 2 == 0 ? 230 : 0 }
                    video[f * side * side + y * side + x] = UInt8(v)
                }
            }
        }
        return video
    }

    func testFrozenAndBlankNextToChangingUI() {
        var recipe = DatasetRecipe(name: "q", clipMicros: 2_000_000, strideMicros: 2_000_000)
        recipe.framesPerClip = frames
        recipe.minVideoActivity = 1.0
        recipe.minBrightness = 4.0
        let tissue: (Int) -> UInt8 = { UInt8(60 + ($0 * 37) % 120) }
        let frozen = clip(base: tissue, moving: false, counter: true)
        let blank = clip(base: { _ in 1 }, moving: false, counter: true)
        let live = clip(base: tissue, moving: true, counter: true)
        // The plain mean would be fooled: the counter alone moves it past the thresholds.
        let plainActivity = zip(frozen[(side * side)...], frozen).map { abs(Int($0) - Int($1)) }.reduce(0, +)
        XCTAssertGreaterThan(Double(plainActivity) / Double(side * side * (frames - 1)), 1.0, "the UI patch alone fools a plain mean")
        XCTAssertGreaterThan(Double(blank.reduce(0) { $0 + Int($1) }) / Double(blank.count), 2.0)
        XCTAssertLessThan(ClipQuality.activity(frozen, frames: frames), 0.05)
        XCTAssertEqual(recipe.videoRejection(frozen), .frozenVideo)
        XCTAssertLessThan(ClipQuality.brightness(blank), 1.5)
        XCTAssertEqual(recipe.videoRejection(blank), .blankVideo)
        XCTAssertGreaterThan(ClipQuality.activity(live, frames: frames), 10)
        XCTAssertNil(recipe.videoRejection(live))
    }

    /// The trimmed mean leaves out exactly the largest `uiShare` of the values.
    func testTrimmedMean() {
        var histogram = [Int](repeating: 0, count: 256)
        histogram[10] = 97; histogram[255] = 3
        XCTAssertEqual(ClipQuality.trimmedMean(histogram, count: 100), 10, accuracy: 1e-12)
        histogram[255] = 0; histogram[20] = 3
        XCTAssertEqual(ClipQuality.trimmedMean(histogram, count: 100), 10, accuracy: 1e-12)
    }
}
