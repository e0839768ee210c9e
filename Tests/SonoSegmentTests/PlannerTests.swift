import XCTest
import SonoCore
import SonoDataset
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
        XCTAssertEqual(short.rejected[.scanShorterThanClip], 1)
    }

    //  speech:   [1.0 ---- 2.5]          [6.2 - 6.8]
    //  clips:  |0-2|2-4|4-6|6-8|8-10|     min ratio 0.25 keeps 0-2 (0.5), 2-4 (0.25), 6-8 (0.3)
    func testMinSpeechRatio() throws {
        let plan = ClipPlanner.plan(try recipe(.minSpeechRatio, length: 2, minRatio: 0.25),
                                    timeline(seconds: 10, speech: [(1.0, 2.5), (6.2, 6.8)]))
        XCTAssertEqual(plan.windows.map(\.start), [0, 2_000_000, 6_000_000])
        XCTAssertEqual(plan.windows.map(\.speechRatio), [0.5, 0.25, 0.3])
        XCTAssertEqual(plan.rejected[.lowSpeech], 2)
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
        XCTAssertEqual(crowded.rejected[.noRoom], 1)
        for (a, b) in zip(spans, spans.dropFirst()) { XCTAssertLessThanOrEqual(a.1, b.0, "no overlap") }
        XCTAssertEqual(plan.windows[0].speechRatio, 2.0 / 6.0, accuracy: 1e-9)
    }
}
