import Foundation
import XCTest
import SonoTestSupport

/// `sono-sample --labelled` end to end, and its usage errors.
final class LabelledCommandTests: XCTestCase {
    func testLabelledCommandWritesTheCSVs() throws {
        let dir = TemporaryDirectory("labelled-cli")
        let run = try BuiltProducts.run("sono-sample", [
            "--out", dir.file("rec"), "--name", "cli_1", "--seconds", "8", "--size", "160x128", "--fps", "10",
            "--sample-rate", "16000", "--channels", "1", "--labelled", "--views", "4CH,femur",
            "--hold-seconds", "3,4", "--background-seconds", "0.5,1", "--gaze-hz", "20", "--manifest", dir.file("m.csv"),
        ], timeout: 300)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("holds"), run.stdout)
        for file in ["cli_1.mp4", "cli_1.speech.json", "cli_1.planes.csv", "cli_1.gaze.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("rec/" + file)), file)
        }
        let planes = try String(contentsOfFile: dir.file("rec/cli_1.planes.csv"), encoding: .utf8)
        let labels = Set(planes.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.map(String.init) })
        XCTAssertTrue(labels.isSubset(of: ["4CH", "femur", "background"]), "\(labels)")
        XCTAssertTrue(labels.contains("background") && labels.count >= 2, "\(labels)")
        let gaze = try String(contentsOfFile: dir.file("rec/cli_1.gaze.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(gaze.first, "scan_id,time_s,x,y")
        XCTAssertEqual(gaze.count - 1, 160, "8 s at 20 Hz")
        XCTAssertEqual(try String(contentsOfFile: dir.file("m.csv"), encoding: .utf8), "scan_id,video\ncli_1,rec/cli_1.mp4\n")
    }

    func testBadLabelledArgumentsNameTheOption() throws {
        let dir = TemporaryDirectory("labelled-cli-bad")
        let cases: [([String], [String])] = [
            (["--labelled", "--views", "4CH,nope"], ["--views", "nope"]),
            (["--labelled", "--views", "background"], ["--views", "background"]),
            (["--views", "4CH"], ["--views", "--labelled"]),
            (["--labelled", "--hold-seconds", "5"], ["--hold-seconds"]),
            (["--labelled", "--background-seconds", "3,1"], ["--background-seconds"]),
            (["--labelled", "--named-fraction", "1.5"], ["--named-fraction"]),
            (["--labelled", "--gaze-hz", "0"], ["--gaze-hz"]),
        ]
        for (args, words) in cases {
            let run = try BuiltProducts.run("sono-sample", ["--out", dir.file("x"), "--seconds", "1"] + args, timeout: 60)
            XCTAssertNotEqual(run.status, 0, "\(args)")
            for word in words { XCTAssertTrue(run.stderr.contains(word), "\(args): \(run.stderr)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("x")), "nothing written on a usage error")
    }
}
