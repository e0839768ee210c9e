import XCTest
import SonoCore
@testable import SonoEval

/// The paired comparison of probes against scipy: `scipy.stats.t.interval(0.95, n − 1, loc=mean,
/// scale=sd/√n)` of the per-fold differences (values printed by scipy 1.x, committed here).
final class PairedComparisonTests: XCTestCase {
    let candidates = [[0.62, 0.55, 0.70, 0.60], [0.58, 0.50, 0.66, 0.63]]
    let baselines = [[0.49, 0.45, 0.52, 0.44], [0.47, 0.41, 0.50, 0.46]]

    func testPooledCandidatesAgainstTheBaselinesMeanPerFold() throws {
        let g = try PairedGain(candidate: candidates, baseline: baselines)
        let expected = [0.14, 0.12, 0.19, 0.15, 0.10, 0.07, 0.15, 0.18]
        for (a, b) in zip(g.differences, expected) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        XCTAssertEqual(g.gain.mean, 0.1375, accuracy: 1e-12)
        XCTAssertEqual(g.gain.sd ?? 0, 0.03991061441342568, accuracy: 1e-12)
        XCTAssertEqual(g.lower ?? 0, 0.10413389135527984, accuracy: 1e-6)
        XCTAssertEqual(g.upper ?? 0, 0.17086610864472018, accuracy: 1e-6)
        XCTAssertTrue(g.isSignificantGain)
        let one = try PairedGain(candidate: [candidates[0]], baseline: baselines)
        XCTAssertEqual(one.lower ?? 0, 0.10315565876967624, accuracy: 1e-6)
        XCTAssertEqual(one.upper ?? 0, 0.19684434123032374, accuracy: 1e-6)
    }

    func testAnIntervalThatHoldsZeroIsNoGain() throws {
        let g = try PairedGain(candidate: [[0.50, 0.40, 0.55, 0.42]], baseline: [[0.45, 0.47, 0.50, 0.44]])
        XCTAssertFalse(g.isSignificantGain)
        XCTAssertLessThan(g.lower ?? 1, 0)
        XCTAssertNil(try PairedGain(candidate: [[0.5]], baseline: [[0.4]]).lower, "one difference has no interval")
    }

    func testReportsOfOtherFoldsAreRefused() {
        XCTAssertThrowsError(try PairedGain(candidate: [[0.5, 0.6]], baseline: [[0.4, 0.5, 0.6]]))
        XCTAssertThrowsError(try PairedGain(candidate: [], baseline: [[0.4]]))
    }

    /// scipy.stats.t.ppf(0.975, ν): the table's ends and the expansion beyond it.
    func testStudentQuantiles() {
        XCTAssertEqual(StudentT.quantile975(degreesOfFreedom: 1), 12.706205, accuracy: 1e-6)
        XCTAssertEqual(StudentT.quantile975(degreesOfFreedom: 30), 2.042272, accuracy: 1e-6)
        XCTAssertEqual(StudentT.quantile975(degreesOfFreedom: 31), 2.039513446396408, accuracy: 1e-5)
        XCTAssertEqual(StudentT.quantile975(degreesOfFreedom: 120), 1.9799304050824402, accuracy: 1e-6)
    }

    func testAFileThatIsNoProbeReportIsNamed() throws {
        let path = NSTemporaryDirectory() + "not-a-probe-\(getpid()).json"
        try Data("{\"folds\": 3}".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try FoldedProbeReport.read(path)) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
        XCTAssertThrowsError(try FoldedProbeReport.read(path + ".missing")) { error in
            XCTAssertTrue("\(error)".contains(path + ".missing"), "\(error)")
        }
    }
}
