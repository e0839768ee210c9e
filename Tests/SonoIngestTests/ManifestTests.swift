import XCTest
import SonoCore
import SonoTestSupport
@testable import SonoIngest

final class ManifestTests: XCTestCase {
    private func write(_ text: String, _ dir: TemporaryDirectory) throws -> String {
        let path = dir.file("manifest.csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testColumnsPathsOffsetsAndCrop() throws {
        let dir = TemporaryDirectory()
        let path = try write("""
            scan_id,video,audio,audio_offset_ms,crop
            scan_001,videos/a.mp4,,,
            scan_002,/abs/b.mkv,audio/b.wav,2500.5,"10,20,300,200"

            """, dir)
        let entries = try RecordingManifest.load(path)
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries[0].scanID, "scan_001")
        XCTAssertEqual(entries[0].source.videoPath, dir.path + "/videos/a.mp4")
        XCTAssertNil(entries[0].source.audioPath)
        XCTAssertEqual(entries[1].source.videoPath, "/abs/b.mkv")
        XCTAssertEqual(entries[1].source.audioPath, dir.path + "/audio/b.wav")
        XCTAssertEqual(entries[1].source.audioOffset, 2_500_500)
        XCTAssertEqual(entries[1].source.crop, CropRect(x: 10, y: 20, width: 300, height: 200))
        XCTAssertEqual(entries[1].line, 3)
    }

    func testProblemsNameTheManifestAndLine() throws {
        let dir = TemporaryDirectory()
        let cases: [(String, String)] = [
            ("video\na.mp4\n", "required column 'scan_id'"),
            ("scan_id,video\ns1,a.mp4\ns1,b.mp4\n", "line 3: scan_id 's1' already used on line 2"),
            ("scan_id,video,crop\ns1,a.mp4,\"1,2,3\"\n", "line 2: crop"),
            ("scan_id,video,audio,audio_offset_ms\ns1,a.mp4,a.wav,soon\n", "line 2: audio_offset_ms"),
            ("scan_id,video,audio_offset_ms\ns1,a.mp4,100\n", "no separate audio file"),
            ("scan_id,video\ns 1,a.mp4\n", "line 2: scan_id"),
            ("scan_id,video,notes\ns1,a.mp4,x\n", "unknown column(s) notes"),
            ("scan_id,video\ns1,a.mp4,extra\n", "line 2: 3 fields"),
            ("scan_id,video\ns1,\"a.mp4\n", "unterminated"),
            ("", "empty manifest"),
        ]
        for (text, expected) in cases {
            let path = try write(text, dir)
            XCTAssertThrowsError(try RecordingManifest.load(path), text) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix(path + ": "), message)
                XCTAssertTrue(message.contains(expected), "'\(message)' lacks '\(expected)'")
            }
        }
        XCTAssertThrowsError(try RecordingManifest.load(dir.file("missing.csv"))) { error in
            XCTAssertTrue("\(error)".contains("no such manifest"))
        }
    }

    /// Mangled manifests parse or fail with the manifest's path; never a crash.
    func testParserSurvivesGarbage() {
        let seed = Array("scan_id,video,audio,audio_offset_ms,crop\ns1,a.mp4,,,\ns2,b.mkv,b.wav,-250.5,\"1,2,30,40\"\n")
        let alphabet = Array(",\"\n\r-.0123456789abcs_ \u{FEFF}é")
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<3000 {
            var text = seed
            for _ in 0..<(1 + Int(rng.next() % 5)) {
                let at = Int(rng.next() % UInt64(text.count))
                switch rng.next() % 3 {
                case 0: text[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: text.remove(at: at)
                default: text.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
            }
            do { _ = try RecordingManifest.parse(String(text), path: "/m/manifest.csv") } catch {
                XCTAssertTrue("\(error)".hasPrefix("/m/manifest.csv: "), "\(error)")
            }
        }
    }
}
