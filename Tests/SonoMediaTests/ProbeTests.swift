import XCTest
import SonoCore
import SonoTestSupport
@testable import SonoMedia

/// Probed facts equal the parameters the files were generated with.
final class ProbeTests: XCTestCase {
    func testMP4FactsMatchGeneration() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("a.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3",
                           "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=44100:duration=3",
                           "-ac", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", path])
        let p = try MediaProbe.probe(RecordingSource(videoPath: path))
        XCTAssertTrue(p.container.contains("mp4"))
        XCTAssertEqual(p.video.codec, "h264")
        XCTAssertEqual(p.video.width, 320)
        XCTAssertEqual(p.video.height, 240)
        XCTAssertEqual(p.video.pixelFormat, "yuv420p")
        XCTAssertEqual(p.video.averageFrameRate, Rational(30, 1))
        XCTAssertEqual(p.video.realFrameRate, Rational(30, 1))
        XCTAssertEqual(p.video.frameCount, 90)
        XCTAssertEqual(p.video.rotation, 0)
        XCTAssertEqual(p.video.startTime, 0)
        XCTAssertEqual(Double(p.video.duration ?? 0), 3_000_000, accuracy: 33_334)
        XCTAssertEqual(p.audio.codec, "aac")
        XCTAssertEqual(p.audio.sampleRate, 44100)
        XCTAssertEqual(p.audio.channels, 2)
        XCTAssertEqual(p.audio.startTime, 0)
    }

    func testMKV25FPS() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("b.mkv")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=256x192:rate=25:duration=4",
                           "-f", "lavfi", "-i", "sine=frequency=500:sample_rate=48000:duration=1.5",
                           "-map", "0:v", "-map", "1:a",
                           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", path])
        let p = try MediaProbe.probe(RecordingSource(videoPath: path))
        XCTAssertTrue(p.container.contains("matroska"))
        XCTAssertEqual(p.video.averageFrameRate, Rational(25, 1))
        XCTAssertEqual(Double(p.video.duration ?? 0), 4_000_000, accuracy: 40_001)
        XCTAssertEqual(p.audio.sampleRate, 48000)
        XCTAssertEqual(p.audio.channels, 1)
    }

    func testStartOffsetsOfStreams() throws {
        let dir = TemporaryDirectory()
        let tone = dir.file("tone.wav")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:duration=2", tone])
        let path = dir.file("late.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=5",
                           "-itsoffset", "2.5", "-i", tone, "-map", "0:v", "-map", "1:a",
                           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", path])
        let p = try MediaProbe.probe(RecordingSource(videoPath: path))
        XCTAssertEqual(p.video.startTime, 0)
        // The stream starts with the AAC encoder's 1024 priming samples (21.3 ms at 48 kHz), which
        // this mux keeps; where the sound lands is checked to ±1 ms in AudioDecoderTests.
        XCTAssertEqual(Double(p.audio.startTime), 2_500_000, accuracy: 22_000)

        // A separate audio file with an offset starts at the offset.
        let video = dir.file("silent.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=3",
                           "-c:v", "libx264", "-preset", "ultrafast", video])
        let q = try MediaProbe.probe(RecordingSource(videoPath: video, audioPath: tone, audioOffset: 1_250_000))
        XCTAssertEqual(q.audio.startTime, 1_250_000)
        XCTAssertEqual(q.audio.path, tone)
    }

    func testRotationIsReportedClockwise() throws {
        let dir = TemporaryDirectory()
        let plain = dir.file("plain.mp4"), rotated = dir.file("rotated.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=1",
                           "-f", "lavfi", "-i", "sine=duration=1", "-c:v", "libx264", "-preset", "ultrafast", plain])
        try FFmpegCLI.run(["-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated])
        let p = try MediaProbe.probe(RecordingSource(videoPath: rotated))
        XCTAssertEqual(p.video.rotation, 270)  // display matrix says 90° counter-clockwise
        XCTAssertEqual(p.video.displayWidth, 240)
        XCTAssertEqual(p.video.displayHeight, 320)
    }

    func testGeneratedSampleProbe() throws {
        let dir = TemporaryDirectory()
        var spec = SampleSpecForTests.small
        spec.seconds = 3
        let out = try SampleGeneratorShim.generate(spec, dir.path)
        let p = try MediaProbe.probe(RecordingSource(videoPath: out))
        XCTAssertEqual(p.video.width, spec.width)
        XCTAssertEqual(p.video.height, spec.height)
        XCTAssertEqual(p.video.averageFrameRate, Rational(Int64(spec.framesPerSecond), 1))
        XCTAssertEqual(p.video.frameCount, Int64(spec.frameCount))
        XCTAssertEqual(p.audio.sampleRate, spec.sampleRate)
        XCTAssertEqual(p.audio.channels, spec.channels)
    }
}
