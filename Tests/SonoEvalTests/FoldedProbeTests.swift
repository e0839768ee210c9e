import XCTest
import SonoCore
import SonoDataset
@testable import SonoEval

/// The per-fold probe of a labelled dataset: separable features score ≈ 1 on held-out scans,
/// and the classes reported are the ones present.
final class FoldedProbeTests: XCTestCase {
    func testSeparableFeaturesOnHeldOutScans() throws {
        var rng = SeededGenerator(seed: 5)
        let present = [1, 3, 13]  // 4CH, femur, background of the paper's list
        var rows: [[Double]] = [], labels: [Int] = [], scans: [String] = []
        for scan in 0..<4 {
            for k in 0..<30 {
                let c = present[k % 3]
                rows.append((0..<3).map { Double($0 == k % 3 ? 3 : 0) + rng.nextGaussian() * 0.3 })
                labels.append(c)
                scans.append("s\(scan)")
            }
        }
        let report = try FoldedProbe.evaluate(try FeatureMatrix(rowArrays: rows), labels: labels, scans: scans,
                                              foldOfScan: ["s0": 0, "s1": 0, "s2": 1, "s3": 1], classes: .paper, grid: [0.1, 1])
        XCTAssertEqual(report.classes, ["4CH", "femur", "background"])
        XCTAssertEqual(report.folds.count, 2)
        XCTAssertGreaterThan(report.summary.accuracy.mean, 0.98)
        XCTAssertGreaterThan(report.summary.macroSubset.f1.mean, 0.98, "the planes present, background left out")
        XCTAssertThrowsError(try FoldedProbe.evaluate(try FeatureMatrix(rowArrays: rows), labels: labels, scans: scans,
                                                      foldOfScan: ["s0": 0, "s1": 0, "s2": 0, "s3": 0], classes: .paper))
    }
}
