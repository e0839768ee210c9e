import Foundation
import SonoCore
import XCTest
import SonoDataset
@testable import SonoEval

/// The probe on synthetic features, grouped cross-validation, the class list and the reports.
final class LinearProbeTests: XCTestCase {
    /// `scans` scans of `framesPerScan` frames; each scan shows one class (scan % classes);
    /// features = class centre · `separation` + unit Gaussian noise.
    func synthetic(scans: Int = 24, framesPerScan: Int = 25, classes: Int = 4, dimension: Int = 12,
                   separation: Double, seed: UInt64 = 1) throws -> (x: FeatureMatrix, y: [Int], scan: [Int]) {
        var rng = SeededGenerator(seed: seed)
        let centres = (0..<classes).map { _ in (0..<dimension).map { _ in rng.nextGaussian() } }
        var values: [Double] = [], y: [Int] = [], scan: [Int] = []
        for s in 0..<scans {
            for _ in 0..<framesPerScan {
                let c = s % classes
                values += centres[c].map { $0 * separation + rng.nextGaussian() }
                y.append(c)
                scan.append(s)
            }
        }
        return (try FeatureMatrix(rows: y.count, columns: dimension, values: values), y, scan)
    }

    func testSeparableFeaturesScoreNearPerfect() throws {
        let (x, y, scan) = try synthetic(separation: 8)
        let train = scan.indices.filter { scan[$0] % 8 < 4 }, test = scan.indices.filter { scan[$0] % 8 >= 4 }
        let probe = try LinearProbe.fit(x.selecting(rows: train), labels: train.map { y[$0] }, classCount: 4)
        let classes = try ClassList((0..<4).map { PlaneClass(id: "c\($0)", name: "c\($0)") })
        let m = try ClassificationMetrics(trueLabels: test.map { y[$0] }, predicted: try probe.predict(x.selecting(rows: test)),
                                          classes: classes, subset: nil)
        print("LinearProbeTests separable: held-out accuracy \(m.accuracy), macro F1 \(m.macroAll.f1)")
        XCTAssertGreaterThanOrEqual(m.accuracy, 0.99)
        XCTAssertGreaterThanOrEqual(m.macroAll.f1, 0.99)
    }

    /// Labels shuffled across frames: grouped 4-fold accuracy at C = 1 within 0.25 ± 0.08
    /// (about 4 standard errors for 600 validation frames).
    func testShuffledLabelsScoreNearChance() throws {
        let (x, ordered, scan) = try synthetic(dimension: 6, separation: 8)
        var y = ordered
        var rng = SeededGenerator(seed: 99)
        y.shuffle(using: &rng)
        let classes = try ClassList((0..<4).map { PlaneClass(id: "c\($0)", name: "c\($0)") })
        let selection = try LinearProbe.selectC(x, labels: y, groups: scan, classes: classes, grid: [1], folds: 4, metric: .accuracy)
        print("LinearProbeTests shuffled labels: grouped 4-fold mean accuracy \(selection.meanScores[0])")
        XCTAssertEqual(selection.meanScores[0], 0.25, accuracy: 0.08)
    }

    func testGroupedSplitsNeverShareAScan() throws {
        var rng = SeededGenerator(seed: 5)
        let groups = (0..<500).map { _ in "scan-\(Int(rng.nextUnit() * rng.nextUnit() * 37))" }
        let splits = try GroupKFold(folds: 5).splits(groups: groups)
        XCTAssertEqual(splits.count, 5)
        var validated = Set<Int>()
        for split in splits {
            XCTAssertFalse(split.validation.isEmpty)
            XCTAssertTrue(Set(split.train.map { groups[$0] }).isDisjoint(with: split.validation.map { groups[$0] }))
            XCTAssertEqual(split.train.count + split.validation.count, groups.count)
            validated.formUnion(split.validation)
        }
        XCTAssertEqual(validated.count, groups.count, "every sample is validated exactly once")
        XCTAssertThrowsError(try GroupKFold(folds: 5).splits(groups: ["a", "b", "a"])) { error in
            XCTAssertEqual(error as? EvalError, .tooFewGroups(groups: 2, folds: 5))
        }
    }

    /// Separable classes score 1 at every C: the tie goes to the smallest C; a rerun is identical.
    func testSelectCIsDeterministicAndBreaksTiesToTheSmallerC() throws {
        let (x, y, scan) = try synthetic(framesPerScan: 10, separation: 8)
        let classes = try ClassList((0..<4).map { PlaneClass(id: "c\($0)", name: "c\($0)") })
        let grid = [1e-2, 1e-3, 1, 1e-4]
        let a = try LinearProbe.selectC(x, labels: y, groups: scan, classes: classes, grid: grid, folds: 3)
        XCTAssertEqual(a.grid, [1e-4, 1e-3, 1e-2, 1])
        XCTAssertEqual(a.meanScores, [1, 1, 1, 1])
        XCTAssertEqual(a.bestC, 1e-4)
        XCTAssertEqual(try LinearProbe.selectC(x, labels: y, groups: scan, classes: classes, grid: grid, folds: 3), a)
    }

    /// Per-fold metrics and their summary; the folds' validation parts cover every frame once.
    /// (3 folds: with 4, equal-sized scans of classes s % 4 would put one class per fold.)
    func testCrossValidateReportsEveryFold() throws {
        let (x, y, scan) = try synthetic(separation: 8)
        let classes = try ClassList((0..<4).map { PlaneClass(id: "c\($0)", name: "c\($0)") })
        let evaluation = try LinearProbe.crossValidate(x, labels: y, groups: scan, classes: classes, C: 1, folds: 3)
        XCTAssertEqual(evaluation.folds.count, 3)
        XCTAssertEqual(evaluation.folds.reduce(0) { $0 + $1.sampleCount }, x.rows)
        XCTAssertEqual(evaluation.summary.accuracy.mean, 1)
        XCTAssertEqual(evaluation.summary.accuracy.sd, 0)
        XCTAssertTrue(evaluation.allFitsConverged)
    }

    /// The objective is summed in fixed chunks, so threads do not change a bit of the fit.
    func testFitIsIdenticalForAnyThreadCount() throws {
        let (x, y, _) = try synthetic(scans: 24, framesPerScan: 30, separation: 0.7)
        let one = try LinearProbe.fit(x, labels: y, classCount: 4, options: .init(C: 1, jobs: 1))
        let two = try LinearProbe.fit(x, labels: y, classCount: 4, options: .init(C: 1, jobs: 2))
        XCTAssertEqual(one.model.coefficients, two.model.coefficients)
        XCTAssertEqual(one.model.intercepts, two.model.intercepts)
    }

    func testClassAbsentFromTrainingHasProbabilityZero() throws {
        let (x, y, _) = try synthetic(classes: 4, separation: 1)
        let keep = y.indices.filter { y[$0] != 2 }
        let probe = try LinearProbe.fit(x.selecting(rows: keep), labels: keep.map { y[$0] }, classCount: 4)
        XCTAssertEqual(probe.model.classes, [0, 1, 3])
        for p in try probe.probabilities(x) {
            XCTAssertEqual(p[2], 0)
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-12)
        }
        XCTAssertFalse(try probe.predict(x).contains(2))
    }

    func testBadOptionsAreNamed() throws {
        let (x, y, _) = try synthetic(separation: 1)
        XCTAssertThrowsError(try LogisticRegression.fit(x, labels: y, classCount: 4, options: .init(C: -1))) { error in
            XCTAssertEqual("\(error)", "option C: must be finite and > 0, got -1.0")
        }
        XCTAssertThrowsError(try LogisticRegression.fit(x, labels: Array(y.dropLast()), classCount: 4)) { error in
            XCTAssertEqual(error as? EvalError, .sizeMismatch(name: "labels", expected: x.rows, actual: x.rows - 1))
        }
        XCTAssertThrowsError(try LogisticRegression.fit(x, labels: y.map { _ in 1 }, classCount: 4)) { error in
            XCTAssertEqual(error as? EvalError, .tooFewClasses(name: "labels", present: [1]))
        }
        XCTAssertThrowsError(try FeatureMatrix(rows: 2, columns: 3, values: [1, 2, 3]))
    }

    func testPaperClassList() throws {
        let list = ClassList.paper
        XCTAssertEqual(list.ids, ["3VT", "4CH", "abdomen", "femur", "brain-tv", "kidneys", "lvot", "lips", "profile",
                                  "rvot", "brain-cb", "spine-cor", "spine-sag", "background"])
        XCTAssertEqual(list.planeIndices, Array(0..<13))
        XCTAssertEqual(try list.index(of: "4CH"), 1)
        XCTAssertEqual(try list.index(of: "heart RVOT"), 9)
        XCTAssertEqual(try list.indices(of: ["background", "spine-sag"]), [13, 12])
        XCTAssertThrowsError(try list.index(of: "4-chamber")) { error in
            XCTAssertTrue("\(error)".contains("'4-chamber'"), "\(error)")
        }
        XCTAssertThrowsError(try ClassList([PlaneClass(id: "a", name: "a"), PlaneClass(id: "a", name: "b")]))
    }

    /// Sample sd (ddof = 1): folds 0.5 and 1.0 give mean 0.75, sd √0.125; one fold gives sd null.
    func testFoldSummaryJSONAndMarkdown() throws {
        let classes = try ClassList([PlaneClass(id: "p", name: "plane"), PlaneClass(id: "bg", name: "background", isBackground: true)])
        let half = try ClassificationMetrics(trueLabels: [0, 0, 1, 1], predicted: [0, 1, 1, 0], classes: classes)
        let full = try ClassificationMetrics(trueLabels: [0, 1], predicted: [0, 1], classes: classes)
        XCTAssertEqual(half.subset, [0])
        let summary = try FoldSummary([half, full])
        XCTAssertEqual(summary.accuracy.mean, 0.75)
        XCTAssertEqual(summary.accuracy.sd ?? 0, 0.125.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(summary.perClass[0].support, 3)

        let decoded = try JSONDecoder().decode(FoldSummary.self, from: try EvalJSON.encode(summary))
        XCTAssertEqual(decoded, summary)
        let single = String(decoding: try EvalJSON.encode(try FoldSummary([full])), as: UTF8.self)
        XCTAssertTrue(single.contains("\"sd\" : null"), single)
        XCTAssertEqual(try JSONDecoder().decode(ClassificationMetrics.self, from: try EvalJSON.encode(half)), half)

        let table = summary.markdownTable()
        XCTAssertTrue(table.contains("| accuracy | | | 75.0 (35.4) | |"), table)
        XCTAssertTrue(half.markdownTable().contains("| p | 50.0 | 50.0 | 50.0 | 2 |"), half.markdownTable())
        XCTAssertTrue(half.markdownConfusionMatrix().contains("| bg | 1 | 1 |"), half.markdownConfusionMatrix())
        XCTAssertEqual(String(decoding: try EvalJSON.encode(half), as: UTF8.self).contains("\"confusion\""), true)
    }
}
