import SonoCore
import XCTest
import SonoDataset
@testable import SonoEval

/// SonoEval against scikit-learn 1.9 (vectors from scripts/reference/make_probe_references.py).
final class SklearnReferenceTests: XCTestCase {
    /// Mixed tolerance: |a − b| ≤ tol · max(1, |b|), i.e. relative for large values.
    static let tolerance = 1e-4

    func probeData() throws -> (x: FeatureMatrix, y: [Int]) {
        let x = try Reference.doubles("probe_x"), shape = try Reference.shape("probe_x")
        return (try FeatureMatrix(rows: shape[0], columns: shape[1], values: x), try Reference.ints("probe_y"))
    }

    /// Largest |a − b| / max(1, |b|) over paired values.
    func maxDifference(_ a: [[Double]], _ b: [[Double]], _ what: String) -> Double {
        XCTAssertEqual(a.count, b.count, what)
        var worst = 0.0
        for (ra, rb) in zip(a, b) {
            XCTAssertEqual(ra.count, rb.count, what)
            for (u, v) in zip(ra, rb) { worst = max(worst, abs(u - v) / max(1, abs(v))) }
        }
        return worst
    }

    func testStandardizerMatchesStandardScaler() throws {
        let (x, _) = try probeData()
        let s = try Standardizer(fitting: x)
        let mean = try Reference.doubles("probe_scaler_mean"), scale = try Reference.doubles("probe_scaler_scale")
        for j in mean.indices {
            XCTAssertEqual(s.mean[j], mean[j], accuracy: 1e-12 * max(1, abs(mean[j])))
            XCTAssertEqual(s.scale[j], scale[j], accuracy: 1e-12 * max(1, abs(scale[j])))
        }
        XCTAssertEqual(s.scale[4], 1, "the constant column keeps scale 1")
        let t = try s.transform(x)
        XCTAssertTrue((0..<x.rows).allSatisfy { t[$0, 4] == 0 }, "the constant column becomes 0")
    }

    func check(_ name: String, options: LogisticRegression.Options) throws {
        let (x, y) = try probeData()
        let xs = try Standardizer(fitting: x).transform(x)
        let model = try LogisticRegression.fit(xs, labels: y, classCount: 4, options: options)
        XCTAssertTrue(model.report.converged, "\(name): \(model.report)")
        let coef = maxDifference(model.coefficients, try Reference.matrix("probe_\(name)_coef"), name)
        let intercept = maxDifference([model.intercepts], [try Reference.doubles("probe_\(name)_intercept")], name)
        let proba = maxDifference(try model.probabilities(xs), try Reference.matrix("probe_\(name)_proba"), name)
        print("SklearnReferenceTests \(name): max difference coef \(coef), intercept \(intercept), proba \(proba); \(model.report)")
        XCTAssertLessThan(coef, Self.tolerance, name)
        XCTAssertLessThan(intercept, Self.tolerance, name)
        XCTAssertLessThan(proba, Self.tolerance, name)
    }

    func testCoefficientsAndProbabilitiesMatchSklearnAtC0_1() throws { try check("C0.1", options: .init(C: 0.1)) }

    func testCoefficientsAndProbabilitiesMatchSklearnAtC10() throws { try check("C10", options: .init(C: 10)) }

    func testBalancedClassWeightMatchesSklearn() throws {
        try check("balanced_C1", options: .init(C: 1, classWeight: .balanced))
    }

    /// Two classes (labels 0 and 2 of 4): sklearn's one-row binary form.
    func testBinaryMatchesSklearn() throws {
        let (x, y) = try probeData()
        let keep = y.indices.filter { y[$0] == 0 || y[$0] == 2 }
        let xb = x.selecting(rows: keep), yb = keep.map { y[$0] }
        let probe = try LinearProbe.fit(xb, labels: yb, classCount: 4, options: .init(C: 1))
        XCTAssertEqual(probe.model.classes, [0, 2])
        XCTAssertEqual(probe.model.coefficients.count, 1)
        let coef = maxDifference(probe.model.coefficients, try Reference.matrix("probe_binary_coef"), "binary")
        let intercept = maxDifference([probe.model.intercepts], [try Reference.doubles("probe_binary_intercept")], "binary")
        let p = try probe.probabilities(xb)
        XCTAssertTrue(p.allSatisfy { $0[1] == 0 && $0[3] == 0 })
        let proba = maxDifference(p.map { [$0[0], $0[2]] }, try Reference.matrix("probe_binary_proba"), "binary")
        print("SklearnReferenceTests binary: max difference coef \(coef), intercept \(intercept), proba \(proba)")
        XCTAssertLessThan(max(coef, intercept, proba), Self.tolerance)
    }

    func testGroupKFoldMatchesSklearn() throws {
        let groups = try Reference.ints("probe_groups")
        XCTAssertEqual(try GroupKFold(folds: 3).foldOfEachSample(groups: groups), try Reference.ints("probe_groupkfold3"))
    }

    func checkMetrics(_ name: String, classes: ClassList) throws {
        let subset = try Reference.ints("metrics_\(name)_subset")
        let m = try ClassificationMetrics(trueLabels: try Reference.ints("metrics_\(name)_true"),
                                          predicted: try Reference.ints("metrics_\(name)_pred"), classes: classes, subset: subset)
        let prf = try Reference.matrix("metrics_\(name)_per_class")
        let exact = 1e-12
        for c in 0..<classes.count {
            XCTAssertEqual(m.perClass[c].precision, prf[0][c], accuracy: exact, "\(name) precision \(c)")
            XCTAssertEqual(m.perClass[c].recall, prf[1][c], accuracy: exact, "\(name) recall \(c)")
            XCTAssertEqual(m.perClass[c].f1, prf[2][c], accuracy: exact, "\(name) F1 \(c)")
        }
        XCTAssertEqual(m.perClass.map(\.support), try Reference.ints("metrics_\(name)_support"))
        for (got, want) in [(m.macroAll, try Reference.doubles("metrics_\(name)_macro_all")),
                            (m.macroSubset, try Reference.doubles("metrics_\(name)_macro_subset"))] {
            XCTAssertEqual(got.precision, want[0], accuracy: exact, name)
            XCTAssertEqual(got.recall, want[1], accuracy: exact, name)
            XCTAssertEqual(got.f1, want[2], accuracy: exact, name)
        }
        XCTAssertEqual(m.accuracy, try Reference.doubles("metrics_\(name)_accuracy")[0], accuracy: exact)
        XCTAssertEqual(m.confusion.flatMap { $0 }, try Reference.ints("metrics_\(name)_confusion"))
    }

    /// The paper's 14 classes; class 7 (lips) never present, class 5 (kidneys) never predicted.
    func testMetricsMatchSklearnOnThePaperClasses() throws {
        XCTAssertEqual(try Reference.ints("metrics_paper14_subset"), ClassList.paper.planeIndices)
        try checkMetrics("paper14", classes: .paper)
        let m = try ClassificationMetrics(trueLabels: try Reference.ints("metrics_paper14_true"),
                                          predicted: try Reference.ints("metrics_paper14_pred"), classes: .paper)
        XCTAssertEqual(m.perClass[5].precision, 0)
        XCTAssertEqual(m.perClass[5].recall, 0)
        XCTAssertEqual(m.perClass[7].support, 0)
        XCTAssertEqual(m.perClass[7].f1, 0)
    }

    /// 4 classes; class 3 never present, class 1 never predicted.
    func testMetricsMatchSklearnOnASmallCase() throws {
        let classes = try ClassList((0..<4).map { PlaneClass(id: "c\($0)", name: "class \($0)") })
        try checkMetrics("small4", classes: classes)
    }
}
