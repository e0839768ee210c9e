import Foundation
import XCTest
import SonoDataset
@testable import SonoSample
import SonoCore
import SonoTestSupport

/// One labelled sample shared by the tests of this file (generated once, removed at the end).
struct LabelledFixture: Sendable {
    let dir: TemporaryDirectory
    let output: LabelledSampleGenerator.Output

    static var spec: SampleSpec {
        var s = SampleSpec()
        s.name = "lab_1"; s.seconds = 30; s.width = 256; s.height = 192; s.framesPerSecond = 15
        s.sampleRate = 16000; s.channels = 1; s.seed = 7
        return s
    }
    static var options: LabelledOptions {
        var o = LabelledOptions()
        o.holdSeconds = 3...5
        o.backgroundSeconds = 0.5...1.5
        return o
    }

    static let shared: Result<LabelledFixture, any Error> = Result {
        let dir = TemporaryDirectory("labelled")
        return LabelledFixture(dir: dir, output: try LabelledSampleGenerator.generate(spec, options: options, into: dir.path))
    }

    static func get() throws -> LabelledFixture { try shared.get() }
}

/// Gray frames of a video, decoded with the ffmpeg CLI.
struct DecodedFrames {
    let width: Int, height: Int
    let bytes: [UInt8]
    var count: Int { bytes.count / (width * height) }

    init(path: String, width: Int, height: Int) throws {
        self.width = width
        self.height = height
        bytes = [UInt8](try FFmpegCLI.output(["-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "-"]))
    }

    /// Mean gray of the 3×3 neighbourhood of (x, y) in frame `f`.
    func value(_ f: Int, _ x: Double, _ y: Double) -> Double {
        let cx = Int(x.rounded()), cy = Int(y.rounded())
        var sum = 0.0, n = 0.0
        for yy in max(0, cy - 1)...min(height - 1, cy + 1) {
            for xx in max(0, cx - 1)...min(width - 1, cx + 1) {
                sum += Double(bytes[f * width * height + yy * width + xx]); n += 1
            }
        }
        return n > 0 ? sum / n : 0
    }

    /// 8×8 block means of frame `f` over the blocks lying wholly in the sector.
    func blocks(_ f: Int, _ sector: SectorGeometry) -> [Double] {
        var out: [Double] = []
        for by in stride(from: 0, to: height - 7, by: 8) {
            for bx in stride(from: 0, to: width - 7, by: 8) {
                let corners = [(bx, by), (bx + 7, by), (bx, by + 7), (bx + 7, by + 7)]
                guard corners.allSatisfy({ sector.contains(x: Double($0.0), y: Double($0.1)) }) else { continue }
                var sum = 0
                for y in by..<(by + 8) { for x in bx..<(bx + 8) { sum += Int(bytes[f * width * height + y * width + x]) } }
                out.append(Double(sum) / 64)
            }
        }
        return out
    }

    /// The structure-aligned patch: 20×20 samples at pose.pixel(u, v), u, v ∈ [-0.9, 0.9].
    func patch(_ f: Int, _ pose: StructurePose) -> [Double] {
        var out: [Double] = []
        for i in 0..<20 {
            for j in 0..<20 {
                let p = pose.pixel(u: -0.9 + 1.8 * Double(j) / 19, v: -0.9 + 1.8 * Double(i) / 19)
                out.append(value(f, p.x, p.y))
            }
        }
        return out
    }
}

func meanAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(max(1, a.count))
}

func correlation(_ a: [Double], _ b: [Double]) -> Double {
    let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
    var sab = 0.0, saa = 0.0, sbb = 0.0
    for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
    return sab / max(1e-12, (saa * sbb).squareRoot())
}

/// Rows of a CSV without quoting (the labelled CSVs never quote).
func csvRows(_ path: String) throws -> (header: String, rows: [[String]]) {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    XCTAssertTrue(text.hasSuffix("\n"), "\(path) does not end with a newline")
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    guard let header = lines.first else { return ("", []) }
    return (header, lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
}

final class LabelledSampleTests: XCTestCase {
    /// The drawable views are exactly the dataset's class list, in its order.
    func testViewsAreTheDatasetClassList() {
        XCTAssertEqual(SampleView.allCases.map(\.rawValue), ClassList.paper.ids)
    }

    override class func tearDown() {
        if case let .success(fixture) = LabelledFixture.shared { try? FileManager.default.removeItem(atPath: fixture.dir.path) }
        super.tearDown()
    }

    func testPlanesCSVCoversTheVideoWithKnownClassesAndNamedHolds() throws {
        let fixture = try LabelledFixture.get()
        let spec = LabelledFixture.spec
        let (header, rows) = try csvRows(fixture.output.planesPath)
        XCTAssertEqual(header, "scan_id,start_s,end_s,label")
        XCTAssertGreaterThanOrEqual(rows.count, 9)
        let known = Set(SampleView.allCases.map(\.rawValue))
        let duration = Double(spec.frameCount) / Double(spec.framesPerSecond)
        var previousEnd = 0.0
        var views = Set<String>()
        for (i, row) in rows.enumerated() {
            XCTAssertEqual(row.count, 4, "row \(i + 2): \(row)")
            guard row.count == 4, let start = Double(row[1]), let end = Double(row[2]) else { XCTFail("row \(i + 2): \(row)"); continue }
            XCTAssertEqual(row[0], spec.name)
            XCTAssertEqual(start, previousEnd, accuracy: 1e-9, "row \(i + 2) leaves a gap or overlaps")
            XCTAssertGreaterThan(end, start, "row \(i + 2)")
            XCTAssertTrue(known.contains(row[3]), "unknown class \(row[3])")
            if i > 0 { XCTAssertNotEqual(row[3] == "background", rows[i - 1][3] == "background", "holds and background alternate") }
            if row[3] != "background" {
                views.insert(row[3])
                XCTAssertTrue(LabelledFixture.options.views.map(\.rawValue).contains(row[3]))
                XCTAssertGreaterThanOrEqual(end - start, 1.5 - 1e-9)
            }
            previousEnd = end
        }
        XCTAssertEqual(previousEnd, duration, accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(views.count, 4, "views shown: \(views)")
        // Every frame's time falls in the interval that holds the frame.
        let plan = fixture.output.plan
        for f in 0..<spec.frameCount {
            XCTAssertEqual(plan.intervalIndex(time: Double(f) / Double(spec.framesPerSecond)), plan.intervalIndex(frame: f), "frame \(f)")
        }

        // Speech: about 60 % of the holds name their view, inside the hold; nothing else names one.
        let holds = plan.intervals.indices.filter { plan.intervals[$0].isHold }
        let named = holds.filter { fixture.output.spoken[$0]?.namesView == true }
        let fraction = Double(named.count) / Double(holds.count)
        print("labelled fixture: \(holds.count) holds, \(named.count) named (\(fraction)), \(fixture.output.sample.annotation.utterances.count) utterances")
        XCTAssertEqual(fraction, 0.6, accuracy: 0.2)
        for j in plan.intervals.indices {
            guard let said = fixture.output.spoken[j] else { continue }
            let interval = plan.intervals[j]
            let inside = fixture.output.sample.annotation.utterances.contains { $0.text == said.text
                && Double($0.startMicros) / 1e6 >= interval.startSeconds && Double($0.endMicros) / 1e6 <= interval.endSeconds }
            XCTAssertTrue(inside, "no utterance '\(said.text)' inside interval \(j)")
            if said.namesView {
                XCTAssertTrue(LabelledSpeech.naming[interval.label]?.contains(said.text) == true)
            } else {
                XCTAssertTrue(LabelledSpeech.generic.contains(said.text))
            }
        }
    }

    func testGazeLiesInTheFrameAndFollowsTheStructure() throws {
        let fixture = try LabelledFixture.get()
        let spec = LabelledFixture.spec
        let plan = fixture.output.plan
        let (header, rows) = try csvRows(fixture.output.gazePath)
        XCTAssertEqual(header, "scan_id,time_s,x,y")
        XCTAssertEqual(rows.count, spec.frameCount, "gaze at the frame rate by default")
        var near = 0, holdSamples = 0, backgroundSpread: [Double] = []
        var previous = -1.0
        for (k, row) in rows.enumerated() {
            guard row.count == 4, let t = Double(row[1]), let x = Double(row[2]), let y = Double(row[3]) else {
                XCTFail("row \(k + 2): \(row)"); continue
            }
            XCTAssertEqual(row[0], spec.name)
            XCTAssertGreaterThan(t, previous)
            XCTAssertEqual(t, Double(k) / Double(spec.framesPerSecond), accuracy: 1e-4)
            previous = t
            XCTAssertTrue(x >= 0 && x < Double(spec.width) && y >= 0 && y < Double(spec.height), "gaze (\(x), \(y)) outside the frame")
            let j = plan.intervalIndex(time: t)
            if let pose = plan.pose(interval: j, time: t) {
                guard t >= plan.intervals[j].startSeconds + 0.4 else { continue }  // reaction time after a cut
                holdSamples += 1
                if ((x - pose.x) * (x - pose.x) + (y - pose.y) * (y - pose.y)).squareRoot() <= 1.2 * pose.size { near += 1 }
            } else {
                backgroundSpread.append(x)
            }
        }
        let fraction = Double(near) / Double(max(1, holdSamples))
        let meanX = backgroundSpread.reduce(0, +) / Double(max(1, backgroundSpread.count))
        let sdX = (backgroundSpread.reduce(0) { $0 + ($1 - meanX) * ($1 - meanX) } / Double(max(1, backgroundSpread.count))).squareRoot()
        print("gaze: \(near)/\(holdSamples) hold samples (\(fraction)) within 1.2 half-sizes of the structure; background x sd \(sdX) px")
        XCTAssertGreaterThanOrEqual(fraction, 0.85)
        XCTAssertGreaterThan(sdX, 0.05 * Double(spec.width), "background gaze wanders")

        // Over a long plan (no media): mostly on the structure, with the occasional glance away.
        var long = spec
        long.seconds = 600
        let longPlan = try LabelledPlan(spec: long, options: LabelledFixture.options)
        var on = 0, total = 0
        for g in longPlan.gaze {
            let j = longPlan.intervalIndex(time: g.time)
            guard let pose = longPlan.pose(interval: j, time: g.time), g.time >= longPlan.intervals[j].startSeconds + 0.4 else { continue }
            total += 1
            if ((g.x - pose.x) * (g.x - pose.x) + (g.y - pose.y) * (g.y - pose.y)).squareRoot() <= 1.2 * pose.size { on += 1 }
            XCTAssertTrue(g.x >= 0 && g.x < Double(spec.width) && g.y >= 0 && g.y < Double(spec.height))
        }
        print("gaze over 600 s: \(on)/\(total) hold samples (\(Double(on) / Double(total))) on the structure")
        XCTAssertGreaterThan(Double(on) / Double(total), 0.9)
        XCTAssertLessThan(Double(on) / Double(total), 1)
    }

    /// The pose the gaze follows is where the structure is drawn: along a femur's axis the
    /// decoded picture is far brighter than in the sector at large.
    func testStructureIsDrawnAtItsPose() throws {
        let dir = TemporaryDirectory("labelled-femur")
        var spec = LabelledFixture.spec
        spec.name = "femur_only"; spec.seconds = 6
        var options = LabelledFixture.options
        options.views = [.femur]
        let output = try LabelledSampleGenerator.generate(spec, options: options, into: dir.path)
        let plan = output.plan
        let frames = try DecodedFrames(path: output.sample.videoPath, width: spec.width, height: spec.height)
        XCTAssertEqual(frames.count, spec.frameCount)
        guard let j = plan.intervals.firstIndex(where: \.isHold) else { return XCTFail("no hold in \(plan.intervals)") }
        let f = (plan.intervals[j].startFrame + plan.intervals[j].endFrame) / 2
        guard let pose = plan.pose(frame: f).pose else { return XCTFail("no pose") }
        let axis = (0..<15).map { i in pose.pixel(u: -0.7 + 0.1 * Double(i), v: 0) }.map { frames.value(f, $0.x, $0.y) }
        let sector = frames.blocks(f, plan.sector)
        let axisMean = axis.reduce(0, +) / Double(axis.count), sectorMean = sector.reduce(0, +) / Double(sector.count)
        print("femur axis mean gray \(axisMean), sector mean \(sectorMean)")
        XCTAssertGreaterThan(axisMean, 1.6 * sectorMean)
    }

    func testDifferentViewsDifferAndOneHoldStaysSimilar() throws {
        let fixture = try LabelledFixture.get()
        let spec = LabelledFixture.spec
        let plan = fixture.output.plan
        let frames = try DecodedFrames(path: fixture.output.sample.videoPath, width: spec.width, height: spec.height)
        XCTAssertEqual(frames.count, spec.frameCount)
        // Two frames per hold, 40 % of the hold apart.
        let holds = plan.intervals.filter(\.isHold).map { i -> (SampleView, Int, Int) in
            let length = i.endFrame - i.startFrame
            return (i.label, i.startFrame + length * 3 / 10, i.startFrame + length * 7 / 10)
        }
        var sameBlocks: [Double] = [], sameCorr: [Double] = []
        for (_, a, b) in holds {
            sameBlocks.append(meanAbsDifference(frames.blocks(a, plan.sector), frames.blocks(b, plan.sector)))
            if let pa = plan.pose(frame: a).pose, let pb = plan.pose(frame: b).pose {
                sameCorr.append(correlation(frames.patch(a, pa), frames.patch(b, pb)))
            }
        }
        var otherBlocks: [Double] = [], otherCorr: [Double] = []
        for x in holds.indices {
            for y in holds.indices where y > x && holds[x].0 != holds[y].0 {
                let a = holds[x].1, b = holds[y].1
                otherBlocks.append(meanAbsDifference(frames.blocks(a, plan.sector), frames.blocks(b, plan.sector)))
                if let pa = plan.pose(frame: a).pose, let pb = plan.pose(frame: b).pose {
                    // The second view's frame sampled at the first one's pose too: same place, other structure.
                    otherCorr.append(correlation(frames.patch(a, pa), frames.patch(b, pb)))
                }
            }
        }
        func stats(_ v: [Double]) -> String {
            String(format: "min %.3f mean %.3f max %.3f (n %d)", v.min() ?? .nan, v.reduce(0, +) / Double(max(1, v.count)), v.max() ?? .nan, v.count)
        }
        print("8×8-block |Δgray| same hold: \(stats(sameBlocks)); different views: \(stats(otherBlocks))")
        print("pose-aligned patch correlation same hold: \(stats(sameCorr)); different views: \(stats(otherCorr))")
        XCTAssertFalse(otherBlocks.isEmpty)
        let sameMean = sameBlocks.reduce(0, +) / Double(sameBlocks.count), otherMean = otherBlocks.reduce(0, +) / Double(otherBlocks.count)
        XCTAssertGreaterThan(otherMean, 2 * sameMean)
        XCTAssertGreaterThan(sameCorr.min() ?? 0, 0.6)
        XCTAssertGreaterThan((sameCorr.min() ?? 0) - (otherCorr.max() ?? 1), 0.1)
    }

    func testSameSeedSameFilesOtherSeedOtherLabels() throws {
        let fixture = try LabelledFixture.get()
        let dir = TemporaryDirectory("labelled-again")
        let again = try LabelledSampleGenerator.generate(LabelledFixture.spec, options: LabelledFixture.options, into: dir.path)
        for (a, b) in [(fixture.output.planesPath, again.planesPath), (fixture.output.gazePath, again.gazePath),
                       (fixture.output.sample.annotationPath, again.sample.annotationPath),
                       (fixture.output.sample.videoPath, again.sample.videoPath)] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)), "\(a) differs from \(b)")
        }
        // Another seed: another layout (the plan alone, no media).
        var spec = LabelledFixture.spec
        spec.seed = 8
        let other = try LabelledPlan(spec: spec, options: LabelledFixture.options)
        XCTAssertNotEqual(LabelledSampleGenerator.planesCSV(other), LabelledSampleGenerator.planesCSV(fixture.output.plan))
        XCTAssertEqual(LabelledSampleGenerator.gazeCSV(try LabelledPlan(spec: spec, options: LabelledFixture.options)),
                       LabelledSampleGenerator.gazeCSV(other))
    }

    /// All 13 plane templates are distinct drawings (their echo maps correlate little).
    func testEveryPlaneHasItsOwnDrawing() throws {
        let maps = SampleView.planes.map { view -> [Double] in
            let t = PlaneTemplate(view)
            return zip(t.mul, t.add).map { Double($0 - 1) * 0.5 + Double($1) }
        }
        var worst = (-1.0, "")
        for a in maps.indices {
            let spread = (maps[a].max() ?? 0) - (maps[a].min() ?? 0)
            XCTAssertGreaterThan(spread, 0.3, "\(SampleView.planes[a]) draws almost nothing")
            for b in maps.indices where b > a {
                let r = correlation(maps[a], maps[b])
                if r > worst.0 { worst = (r, "\(SampleView.planes[a].rawValue)/\(SampleView.planes[b].rawValue)") }
            }
        }
        print("most similar templates: \(worst.1) r = \(worst.0)")
        XCTAssertLessThan(worst.0, 0.9)
        XCTAssertEqual(SampleView.planes.count, 13)
        XCTAssertEqual(Set(SampleView.allCases.map(\.rawValue)), ["3VT", "4CH", "abdomen", "femur", "brain-tv", "kidneys", "lvot", "lips",
                                                                  "profile", "rvot", "brain-cb", "spine-cor", "spine-sag", "background"])
    }

    func testBadOptionsAreRejectedByName() throws {
        XCTAssertThrowsError(try SampleView.parseViews("4CH,nope", option: "--views")) { error in
            XCTAssertTrue("\(error)".contains("--views") && "\(error)".contains("nope"), "\(error)")
        }
        XCTAssertThrowsError(try SampleView.parseViews("4CH,background", option: "--views"))
        XCTAssertThrowsError(try SampleView.parseViews("4CH,4CH", option: "--views"))
        XCTAssertEqual(try SampleView.parseViews("4CH, femur", option: "--views"), [.fourChamber, .femur])
        var options = LabelledOptions()
        options.views = []
        XCTAssertThrowsError(try LabelledPlan(spec: LabelledFixture.spec, options: options))
        options = LabelledOptions()
        options.holdSeconds = 0.1...1
        XCTAssertThrowsError(try LabelledPlan(spec: LabelledFixture.spec, options: options))
        var spec = LabelledFixture.spec
        spec.name = "a,b"
        let dir = TemporaryDirectory("labelled-bad")
        XCTAssertThrowsError(try LabelledSampleGenerator.generate(spec, into: dir.path)) { error in
            XCTAssertTrue("\(error)".contains("a,b"), "\(error)")
        }
    }
}
