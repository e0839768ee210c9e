import XCTest
@testable import SonoTrain

/// The fine-tunes' pieces that need no dataset (the runs are in ExtractTests).
final class FineTuningTests: XCTestCase {
    /// scikit-learn's `compute_class_weight("balanced", classes=[0, 1, 2], y=[0, 0, 0, 1, 2, 2])`
    /// is [0.6667, 2, 1]; a class absent from the training frames gets 1 (it is never a target).
    func testBalancedClassWeightsAreScikitLearns() throws {
        let w = try XCTUnwrap(ClassWeighting.balanced.weights(labels: [0, 0, 0, 1, 2, 2], classes: 4))
        XCTAssertEqual(w[0], 2.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(Array(w[1...]), [2, 1, 1])
        XCTAssertNil(ClassWeighting.none.weights(labels: [0, 1], classes: 2))
    }

    /// A shift drawn in whole map cells moves the frame and its map by the same fraction.
    func testJitterMovesMapsWithTheirFrames() {
        var config = FineTuneConfig(dataset: "d")
        config.maxShift = 8
        for row in 0..<50 {
            let j = config.jitter(epoch: 3, row: row, unit: 4)
            XCTAssertEqual(j.dx % 4, 0); XCTAssertEqual(j.dy % 4, 0)
            XCTAssertLessThanOrEqual(abs(j.dx), 8)
            let m = j.scaled(down: 4)
            XCTAssertEqual([m.dx * 4, m.dy * 4, m.flip ? 1 : 0], [j.dx, j.dy, j.flip ? 1 : 0])
        }
        // A 4×4 "frame" and its 2×2 map, shifted right by one map cell and flipped.
        let frame: [Int] = Array(0..<16), map: [Int] = [0, 1, 2, 3]
        let j = FrameJitter(flip: true, dx: 2, dy: 0)
        var f = [Int](repeating: -1, count: 16), g = [Int](repeating: -1, count: 4)
        j.apply(frame, side: 4, fill: -1, into: &f, at: 0)
        j.scaled(down: 2).apply(map, side: 2, fill: -1, into: &g, at: 0)
        XCTAssertEqual(f, [-1, -1, 3, 2, -1, -1, 7, 6, -1, -1, 11, 10, -1, -1, 15, 14])
        XCTAssertEqual(g, [-1, 1, -1, 3])
    }
}
