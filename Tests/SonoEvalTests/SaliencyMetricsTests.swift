import XCTest
import SonoCore
@testable import SonoEval

/// KLD, SIM, NSS and CC against a numpy transcription of the MIT saliency benchmark's MATLAB
/// code (scripts/reference/make_saliency_references.py), and their fixed points.
final class SaliencyMetricsTests: XCTestCase {
    func testMatchTheBenchmarkTranscription() throws {
        let expected = try Reference.matrix("saliency_metrics")
        for (i, row) in expected.enumerated() {
            let p = try Reference.doubles("saliency_p\(i)"), q = try Reference.doubles("saliency_q\(i)")
            let f = try Reference.array("saliency_f\(i)").data.map { $0 }
            XCTAssertEqual(SaliencyMetrics.kld(prediction: p, density: q), row[0], accuracy: 1e-10, "KLD case \(i)")
            XCTAssertEqual(SaliencyMetrics.sim(prediction: p, density: q), row[1], accuracy: 1e-10, "SIM case \(i)")
            XCTAssertEqual(SaliencyMetrics.nss(prediction: p, fixations: f), row[2], accuracy: 1e-10, "NSS case \(i)")
            XCTAssertEqual(SaliencyMetrics.cc(prediction: p, density: q), row[3], accuracy: 1e-10, "CC case \(i)")
        }
    }

    func testAPerfectPredictionScoresBest() throws {
        let q = try Reference.doubles("saliency_q0")
        XCTAssertEqual(SaliencyMetrics.kld(prediction: q, density: q), 0, accuracy: 1e-12)
        XCTAssertEqual(SaliencyMetrics.sim(prediction: q, density: q), 1, accuracy: 1e-12)
        XCTAssertEqual(SaliencyMetrics.cc(prediction: q, density: q), 1, accuracy: 1e-12)
    }
}
