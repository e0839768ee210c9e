import XCTest
import SonoCore
import SonoTestSupport
@testable import SonoMedia

final class AudioDecoderTests: XCTestCase {
    /// A 1 kHz tone decodes to mono 32 kHz at the right frequency and level; mono is (L+R)/2.
    func testToneFrequencyLevelAndChannelMean() throws {
        let dir = TemporaryDirectory()
        // Left: 0.5·sin(2π·1000·t); right: silence. (L+R)/2 has amplitude 0.25.
        let wav = dir.file("tone.wav"), aac = dir.file("tone.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*1000*t)|0:s=44100:d=2", "-c:a", "pcm_f32le", wav])
        try FFmpegCLI.run(["-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*1000*t)|0:s=48000:d=2", "-c:a", "aac", "-b:a", "192k", aac])
        // AAC's last frame is padded to 1024 samples (683 at 32 kHz).
        for (path, tolerance, lengthSlack) in [(wav, 0.002, 2.0), (aac, 0.01, 700)] {
            let track = try AudioDecoder(path: path, sampleRate: 32000).decodeTrack(origin: 0, length: nil)
            XCTAssertEqual(Double(track.samples.count), 64000, accuracy: lengthSlack, path)
            let body = Array(track.samples[3200..<60800])
            XCTAssertEqual(SignalMeasure.toneFrequency(body, sampleRate: 32000), 1000, accuracy: 0.5, path)
            XCTAssertEqual(SignalMeasure.rms(body), 0.25 / 2.0.squareRoot(), accuracy: 0.25 / 2.0.squareRoot() * tolerance * 5, path)
        }
    }

    /// Audio that starts 2.5 s after the video lands 2.5 s into the track (±1 ms), and the
    /// track is zero before it.
    func testLateStartingStreamLandsLate() throws {
        let dir = TemporaryDirectory()
        let tone = dir.file("tone.wav"), late = dir.file("late.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*1000*t):s=48000:d=2", tone])
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=5",
                           "-itsoffset", "2.5", "-i", tone, "-map", "0:v", "-map", "1:a",
                           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", late])
        let track = try AudioDecoder(path: late, sampleRate: 32000).decodeTrack(origin: 0, length: 5 * 32000)
        XCTAssertEqual(track.samples.count, 5 * 32000)
        guard let onset = SignalMeasure.onset(track.samples, sampleRate: 32000, level: 0.5 / 2.0.squareRoot()) else {
            return XCTFail("no tone found")
        }
        XCTAssertEqual(Double(onset) / 32.0, 2500, accuracy: 1.0, "onset at \(Double(onset) / 32) ms")
        XCTAssertLessThan(SignalMeasure.rms(track.samples[0..<(2 * 32000)]), 1e-4)
        XCTAssertTrue(track.isPaddedAtEnd)  // 2 s of audio from 2.5 s ends before 5 s
    }

    /// A separate audio file with an offset: its time 0 lands at the offset.
    func testSeparateFileWithOffset() throws {
        let dir = TemporaryDirectory()
        let tone = dir.file("tone.m4a")
        // 0.5 s of silence, then the tone: the onset in the file is at 0.5 s.
        try FFmpegCLI.run(["-f", "lavfi", "-i", "aevalsrc=if(gte(t\\,0.5)\\,0.5*sin(2*PI*1000*t)\\,0):s=44100:d=2",
                           "-c:a", "aac", tone])
        for offset: Microseconds in [1_500_000, -250_000] {
            let track = try AudioDecoder(path: tone, offset: offset, sampleRate: 32000).decodeTrack(origin: 0, length: 4 * 32000)
            guard let onset = SignalMeasure.onset(track.samples, sampleRate: 32000, level: 0.5 / 2.0.squareRoot()) else {
                return XCTFail("no tone found")
            }
            XCTAssertEqual(Double(onset) / 32.0, Double(500_000 + offset) / 1000, accuracy: 1.0, "offset \(offset)")
        }
    }

    /// A hole in the timestamps is zero-filled at its true place, not closed up.
    func testGapInTimestampsIsZeroFilled() throws {
        let dir = TemporaryDirectory()
        let list = dir.file("gap.mkv")
        // 2 s of tone whose second half is stamped 1 s later: sound at 0-1 s and 2-3 s.
        try FFmpegCLI.run(["-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*1000*t):s=32000:d=2",
                           "-af", "asetpts='if(gte(N,32000),N+32000,N)/SR/TB'", "-c:a", "pcm_s16le", list])
        let track = try AudioDecoder(path: list, sampleRate: 32000).decodeTrack(origin: 0, length: 3 * 32000)
        XCTAssertGreaterThan(SignalMeasure.rms(track.samples[3200..<28800]), 0.3)
        XCTAssertLessThan(SignalMeasure.rms(track.samples[35200..<60800]), 1e-3, "the hole is silent")
        XCTAssertGreaterThan(SignalMeasure.rms(track.samples[67200..<92800]), 0.3)
        XCTAssertGreaterThanOrEqual(track.stats.gapsFilled, 1)
    }
}
