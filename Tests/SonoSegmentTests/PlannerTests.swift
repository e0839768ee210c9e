import XCTest
import SonoCore
import SonoSpectral
@testable import SonoSegment

final class PlannerTests: XCTestCase {
    private func recipe(_ mode: DatasetRecipe.SelectionMode, length: Double, stride: Double? = nil, minRatio: Double = 0) throws -> DatasetRecipe {
        var text = "name = \"t\"\n[clips]\nlength_s = \(length)\n"
        if let stride { text += "stride_s = \(stride)\n" }
        text += "[selection]\nmode = \"\(mode.rawValue)\"\nmin_speech_ratio = \(minRatio)\n"
        return try DatasetRecipe.parse(text, path: "t.toml")
    }

    /// Speech given in seconds; sample rate 1000 for easy numbers.
    private func timeline(seconds: Double, speech: [(Double, Double)], start: Microseconds = 0) -> ScanTimeline {
        let rate = 1000
        let intervals = speech.map { Int64($0.0 * 1000)..<Int64($0.1 * 1000) }
        return ScanTimeline(scanID: "s", videoStart: start, videoEnd: start + TimeMath.micros(seconds: seconds),
                            speech: SpeechActivity(sampleRate: rate, totalSamples: Int64(seconds * 1000), intervals: intervals),
                            audioEnd: start + TimeMath.micros(seconds: seconds))
    }

    //  0    2    4    6    8   10 s
    //  |----|----|----|----|----|      none, 2 s: five clips
    func testGridCountsAndBoundaries() throws {
        let r = try recipe(.none, length: 2)
        XCTAssertEqual(ClipPlanner.plan(r, timeline(seconds: 10, speech: [])).windows.map(\.start),
                       [0, 2_000_000, 4_000_000, 6_000_000, 8_000_000])
        XCTAssertEqual(ClipPlanner.plan(r, timeline(seconds: 9.99, speech: [])).windows.count, 4)  // last must fit whole
        XCTAssertEqual(ClipPlanner.plan(try recipe(.none, length: 2, stride: 1), timeline(seconds: 10, speech: [])).windows.count, 9)
        XCTAssertEqual(ClipPlanner.plan(try recipe(.none, length: 6), timeline(seconds: 31, speech: [])).windows.count, 5)
        // A late-starting video: clips start at its own first frame, not at 0.
        let late = ClipPlanner.plan(r, timeline(seconds: 5, speech: [], start: 1_500_000))
        XCTAssertEqual(late.windows.map(\.start), [1_500_000, 3_500_000])
        XCTAssertEqual(late.windows.map(\.end), [3_500_000, 5_500_000])
        let short = ClipPlanner.plan(r, timeline(seconds: 1.5, speech: []))
        XCTAssertEqual(short.windows.count, 0)
        XCTAssertEqual(short.rejected["scan_shorter_than_clip"], 1)
    }

    //  speech:   [1.0 ---- 2.5]          [6.2 - 6.8]
    //  clips:  |0-2|2-4|4-6|6-8|8-10|     min ratio 0.25 keeps 0-2 (0.5), 2-4 (0.25), 6-8 (0.3)
    func testMinSpeechRatio() throws {
        let plan = ClipPlanner.plan(try recipe(.minSpeechRatio, length: 2, minRatio: 0.25),
                                    timeline(seconds: 10, speech: [(1.0, 2.5), (6.2, 6.8)]))
        XCTAssertEqual(plan.windows.map(\.start), [0, 2_000_000, 6_000_000])
        XCTAssertEqual(plan.windows.map(\.speechRatio), [0.5, 0.25, 0.3])
        XCTAssertEqual(plan.rejected["low_speech"], 2)
    }

    //  speech:  [3.0-4.0] [4.5-5.5]         [14.0 ------------ 21.0]          [31.0-31.8]
    //  6 s clips: one centred on 3.0-5.5; the 7 s utterance tiled from 14.0 (14-20, 20-26);
    //  the last is clamped to the video's end (28-34). With a 30 s video, an utterance at 29 s
    //  has no room: its clip would overlap 20-26 or run past the end.
    func testSpeechAlignedDoesNotCutShortUtterances() throws {
        let plan = ClipPlanner.plan(try recipe(.speechAligned, length: 6),
                                    timeline(seconds: 34, speech: [(3.0, 4.0), (4.5, 5.5), (14.0, 21.0), (31.0, 31.8)]))
        let spans = plan.windows.map { (Double($0.start) / 1e6, Double($0.end) / 1e6) }
        XCTAssertEqual(spans.count, 4, "\(spans)")
        XCTAssertEqual(spans[0].0, 1.25, accuracy: 1e-6)  // centred: (3.0 + 5.5) / 2 − 3
        XCTAssertEqual(spans[1].0, 14.0, accuracy: 1e-6)
        XCTAssertEqual(spans[2].0, 20.0, accuracy: 1e-6)
        XCTAssertEqual(spans[3].1, 34.0, accuracy: 1e-6)  // clamped to the video's end
        let crowded = ClipPlanner.plan(try recipe(.speechAligned, length: 6),
                                       timeline(seconds: 30, speech: [(14.0, 21.0), (29.0, 29.8)]))
        XCTAssertEqual(crowded.rejected["no_room"], 1)
        for (a, b) in zip(spans, spans.dropFirst()) { XCTAssertLessThanOrEqual(a.1, b.0, "no overlap") }
        XCTAssertEqual(plan.windows[0].speechRatio, 2.0 / 6.0, accuracy: 1e-9)
    }

    func testRecipesParseAndHashIgnoresComments() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data-manifests/recipes")
        let large = try DatasetRecipe.load(root.appendingPathComponent("large.toml").path)
        let medium = try DatasetRecipe.load(root.appendingPathComponent("medium.toml").path)
        XCTAssertEqual(large.clipMicros, 2_000_000)
        XCTAssertEqual(large.melFrames, 201)
        XCTAssertEqual(medium.clipMicros, 6_000_000)
        XCTAssertEqual(medium.melFrames, 601)
        XCTAssertEqual(medium.selection, .speechAligned)
        XCTAssertEqual(large.strideMicros, large.clipMicros)
        let a = try DatasetRecipe.parse("name = \"x\" # a comment\n[clips]\nlength_s = 2\n", path: "a")
        let b = try DatasetRecipe.parse("# header\nname=\"x\"\n\n[clips]\n  length_s = 2.0   # two seconds\n", path: "b")
        XCTAssertEqual(a.hash, b.hash)
        let c = try DatasetRecipe.parse("name = \"x\"\n[clips]\nlength_s = 3\n", path: "c")
        XCTAssertNotEqual(a.hash, c.hash)
    }

    func testRecipeErrorsNameFileAndLine() {
        let cases: [(String, String)] = [
            ("name = \"x\"\n[clips]\nlength_s = 2\nlenght = 3\n", "line 4: unknown key clips.lenght"),
            ("name = \"x\"\n[clips]\nlength_s = \"two\"\n", "line 3: clips.length_s: expected a number"),
            ("name = \"x\"\n[clips]\nlength_s = 2\n[split]\ntrain = 0.5\n", "split fractions"),
            ("name = \"x\"\n[selection]\nmode = \"loud\"\n[clips]\nlength_s = 2\n", "line 3: selection.mode"),
            ("name = \"x\"\n[clips]\nlength_s = 0.1\n", "between 0.32 and 600"),
            ("name = \"x\"\n[clips\nlength_s = 2\n", "line 2: malformed table header"),
            ("name = \"x\"\nname = \"y\"\n", "line 2: name is set twice"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try DatasetRecipe.parse(text, path: "r.toml")) { error in
                XCTAssertTrue("\(error)".hasPrefix("r.toml: "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "'\(error)' lacks '\(expected)'")
            }
        }
    }

    func testSplitIsPerScanStableAndSeeded() throws {
        let r = try DatasetRecipe.parse("name = \"x\"\n[clips]\nlength_s = 2\n[split]\ntrain = 0.6\nval = 0.2\ntest = 0.2\nseed = 7\n", path: "r")
        let scans = (0..<500).map { "scan_\($0)" }
        let splits = scans.map { r.split(ofScan: $0) }
        XCTAssertEqual(splits, scans.map { r.split(ofScan: $0) })
        let train = Double(splits.filter { $0 == "train" }.count) / 500
        XCTAssertEqual(train, 0.6, accuracy: 0.07)
        XCTAssertTrue(splits.contains("val") && splits.contains("test"))
    }
}
