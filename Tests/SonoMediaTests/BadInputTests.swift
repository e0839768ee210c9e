import XCTest
import SonoCore
import SonoTestSupport
@testable import SonoMedia

/// Bad recordings give a typed error that names the file and says why; never a crash or hang.
final class BadInputTests: XCTestCase {
    private func expectError(_ source: RecordingSource, _ kind: MediaError.Kind, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try MediaProbe.probe(source), file: file, line: line) { error in
            guard let e = error as? MediaError else { return XCTFail("not a MediaError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: line)
            XCTAssertTrue(e.description.contains(e.path), file: file, line: line)
            XCTAssertFalse(e.reason.isEmpty, file: file, line: line)
        }
    }

    func testMissingEmptyAndNotMedia() throws {
        let dir = TemporaryDirectory()
        expectError(RecordingSource(videoPath: dir.file("nope.mp4")), .notFound)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.file("empty.mp4"), contents: Data()))
        expectError(RecordingSource(videoPath: dir.file("empty.mp4")), .emptyFile)
        try "scan_id,video\nthis is not a video\n".write(toFile: dir.file("text.mp4"), atomically: true, encoding: .utf8)
        expectError(RecordingSource(videoPath: dir.file("text.mp4")), .unreadable)
        expectError(RecordingSource(videoPath: dir.path), .unreadable)
    }

    func testTruncatedFiles() throws {
        let dir = TemporaryDirectory()
        // moov at the end (ffmpeg's default): cutting the file loses the index.
        let full = dir.file("full.mp4"), fast = dir.file("fast.mp4")
        let args = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=6",
                    "-f", "lavfi", "-i", "sine=duration=6", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"]
        try FFmpegCLI.run(args + [full])
        try FFmpegCLI.run(args + ["-movflags", "+faststart", fast])
        for (name, source) in [("cut_end.mp4", full), ("cut_fast.mp4", fast)] {
            let data = try Data(contentsOf: URL(fileURLWithPath: source))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: dir.file(name)))
        }
        expectError(RecordingSource(videoPath: dir.file("cut_end.mp4")), .unreadable)
        // faststart: headers intact, half the packets gone: readable in part, the span says how far.
        let cut = try MediaProbe.probe(RecordingSource(videoPath: dir.file("cut_fast.mp4")))
        let truncation = try XCTUnwrap(cut.truncation)
        XCTAssertEqual(truncation.statedEnd, 6_000_000, accuracy: 100_000)
        XCTAssertGreaterThan(truncation.readableEnd, 1_000_000)
        XCTAssertLessThan(truncation.readableEnd, 4_000_000)
        XCTAssertEqual(cut.videoEnd, truncation.readableEnd, "the probe's video span is the readable one")
        XCTAssertNil(try MediaProbe.probe(RecordingSource(videoPath: fast)).truncation)
        // Cut inside the first second: nothing readable is left, an error.
        let data = try Data(contentsOf: URL(fileURLWithPath: fast))
        let headerEnd = try XCTUnwrap(data.range(of: Data("mdat".utf8))?.upperBound)
        try data.prefix(headerEnd + 2_000).write(to: URL(fileURLWithPath: dir.file("cut_early.mp4")))
        XCTAssertThrowsError(try MediaProbe.probe(RecordingSource(videoPath: dir.file("cut_early.mp4")))) { error in
            XCTAssertTrue("\(error)".contains(dir.file("cut_early.mp4")), "\(error)")
        }
    }

    func testNoAudioAndNoVideo() throws {
        let dir = TemporaryDirectory()
        let silent = dir.file("silent.mp4"), audioOnly = dir.file("audio.m4a")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=1", "-c:v", "libx264", "-preset", "ultrafast", silent])
        try FFmpegCLI.run(["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", audioOnly])
        expectError(RecordingSource(videoPath: silent), .noAudioStream)
        expectError(RecordingSource(videoPath: audioOnly), .noVideoStream)
        // A separate audio file that is missing, or has no audio.
        expectError(RecordingSource(videoPath: silent, audioPath: dir.file("missing.wav")), .notFound)
        expectError(RecordingSource(videoPath: silent, audioPath: silent), .noAudioStream)
        // With a real separate audio file the silent video is fine.
        XCTAssertNoThrow(try MediaProbe.probe(RecordingSource(videoPath: silent, audioPath: audioOnly)))
    }

    func testCropOutsideTheFrame() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=1",
                           "-f", "lavfi", "-i", "sine=duration=1", "-c:v", "libx264", "-preset", "ultrafast", path])
        expectError(RecordingSource(videoPath: path, crop: CropRect(x: 100, y: 0, width: 100, height: 50)), .absurdMetadata)
    }

    /// A decoder fed garbage mid-stream counts the damage and goes on.
    func testCorruptMiddleIsCountedNotFatal() throws {
        let dir = TemporaryDirectory()
        let ts = dir.file("a.ts"), bad = dir.file("bad.ts")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=4",
                           "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", ts])
        var data = try Data(contentsOf: URL(fileURLWithPath: ts))
        var rng = SeededGenerator(seed: 3)
        let start = data.count / 3
        for i in start..<(start + data.count / 10) where i % 188 != 0 { data[i] = UInt8(truncatingIfNeeded: rng.next()) }
        try data.write(to: URL(fileURLWithPath: bad))
        let decoder = try VideoDecoder(path: bad)
        var frames = 0
        while let _ = try decoder.nextFrame() {
            _ = try decoder.currentImage(GrayConversion(size: 16))
            frames += 1
        }
        XCTAssertGreaterThan(frames, 60)
    }
}
