import XCTest
import SonoCore
import SonoSample
import SonoSpectral
import SonoTestSupport
@testable import SonoAudio

/// Speech activity detection on sample recordings whose true speech intervals are known,
/// decoded from their AAC track as the pipeline will.
final class SpeechActivityTests: XCTestCase {
    private func evaluate(snr: Double, hum: Bool, clicks: Double, seed: UInt64, seconds: Double = 30) throws -> SpeechActivityScore {
        let dir = TemporaryDirectory()
        var spec = SampleSpec()
        spec.name = "vad"; spec.width = 64; spec.height = 64; spec.seconds = seconds
        spec.snrDB = snr; spec.hum = hum; spec.clicksPerMinute = clicks; spec.seed = seed
        let sample = try SampleGenerator.generate(spec, into: dir.path)
        let audio = try ScanAudio(source: RecordingSource(videoPath: sample.videoPath), origin: 0,
                                  length: Int(spec.seconds * 32000))
        let activity = try audio.speechActivity()
        let truth = sample.annotation.speechIntervals(rate: 32000)
        return SpeechActivityScore(predicted: activity, truth: truth, frameSamples: 320)
    }

    func testF1AtThreeNoiseLevels() throws {
        var report: [String] = []
        for (snr, floor) in [(20.0, 0.9), (10.0, 0.9), (5.0, 0.8)] {
            let s = try evaluate(snr: snr, hum: false, clicks: 0, seed: 11)
            report.append(String(format: "%2.0f dB: P %.3f R %.3f F1 %.3f", snr, s.precision, s.recall, s.f1))
            XCTAssertGreaterThanOrEqual(s.f1, floor, report.last ?? "")
        }
        print("speech activity (white noise):\n" + report.joined(separator: "\n"))
    }

    func testRobustToHumAndClicks() throws {
        let s = try evaluate(snr: 10, hum: true, clicks: 20, seed: 5)
        print(String(format: "speech activity, 10 dB hum + 20 clicks/min: P %.3f R %.3f F1 %.3f", s.precision, s.recall, s.f1))
        XCTAssertGreaterThanOrEqual(s.f1, 0.9)
    }

    func testSilenceAndPureNoiseHaveNoSpeech() throws {
        let detector = try SpeechActivityDetector()
        XCTAssertEqual(try detector.detect([Float](repeating: 0, count: 32000 * 3), sampleRate: 32000, source: "zeros").intervals, [])
        var rng = SeededGenerator(seed: 9)
        let noise = (0..<(32000 * 10)).map { _ in Float(rng.nextGaussian()) * 0.01 }
        let found = try detector.detect(noise, sampleRate: 32000, source: "noise")
        XCTAssertLessThan(found.speechSeconds, 0.3, "\(found.intervals)")
    }

    func testSpeechRatio() {
        let a = SpeechActivity(sampleRate: 100, totalSamples: 1000, intervals: [10..<20, 50..<100])
        XCTAssertEqual(a.speechRatio(0..<100), 0.6, accuracy: 1e-12)
        XCTAssertEqual(a.speechRatio(15..<55), 10.0 / 40.0, accuracy: 1e-12)
        XCTAssertEqual(a.speechRatio(100..<200), 0)
        XCTAssertEqual(a.speechRatio(60..<60), 0)
    }

    /// The log-mel of a clip of the scan equals the log-mel of the same samples on their own.
    func testClipLogMelIsTheExcerptsOwn() throws {
        let dir = TemporaryDirectory()
        var spec = SampleSpec()
        spec.name = "clip"; spec.width = 64; spec.height = 64; spec.seconds = 5
        let sample = try SampleGenerator.generate(spec, into: dir.path)
        let audio = try ScanAudio(source: RecordingSource(videoPath: sample.videoPath), origin: 0, length: 5 * 32000)
        let clip = try audio.logMel(from: 1_000_000, to: 3_000_000)
        XCTAssertEqual(clip.frames, 201)
        let alone = try LogMelSpectrogram().compute(Array(audio.track.samples[32000..<96000]), sampleRate: 32000, source: "x")
        XCTAssertEqual(clip, alone)
        XCTAssertThrowsError(try audio.logMel(from: 4_000_000, to: 6_000_000))
    }
}
