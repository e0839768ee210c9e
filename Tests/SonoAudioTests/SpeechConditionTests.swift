import XCTest
import SonoCore
import SonoSample
import SonoSpectral
import SonoTestSupport
@testable import SonoAudio

/// Speech activity on sample recordings unlike the detector's tuning material (issue 11): other
/// espeak-ng voices, rates and phrases; pink, brown, fan, room, hum, Doppler noise; level
/// changes, a second talker, background music, long silences, MP3; decoded from the file as the pipeline does.
/// Floors are the issue's targets: frame F1 ≥ 0.9 down to 10 dB SNR, ≥ 0.8 at 5 dB; of the 2 s
/// clips selected at speech ratio ≥ 0.25, ≤ 5 % without true speech; claimed ratio within ±0.1.
final class SpeechConditionTests: XCTestCase {
    struct Outcome {
        var score: SpeechActivityScore
        var selected = 0, selectedWithoutSpeech = 0
        var claimedRatio = 0.0, trueRatio = 0.0
        var line: String {
            String(format: "P %.3f R %.3f F1 %.3f | clips %d, %d without speech, claimed %.2f true %.2f",
                   score.precision, score.recall, score.f1, selected, selectedWithoutSpeech, claimedRatio, trueRatio)
        }
    }

    private func run(_ name: String, seconds: Double = 30, seed: UInt64, _ configure: (inout SampleSpec) -> Void) throws -> Outcome {
        let dir = TemporaryDirectory()
        var spec = SampleSpec()
        spec.name = name; spec.width = 64; spec.height = 64; spec.framesPerSecond = 10; spec.channels = 1
        spec.seconds = seconds; spec.seed = seed; spec.voices = .foreign
        configure(&spec)
        let sample = try SampleGenerator.generate(spec, into: dir.path)
        let audio = try ScanAudio(source: RecordingSource(videoPath: sample.videoPath), origin: 0,
                                  length: Int(spec.seconds * 32000))
        let activity = try audio.speechActivity()
        let truthIntervals = sample.annotation.speechIntervals(rate: 32000)
        var outcome = Outcome(score: SpeechActivityScore(predicted: activity, truth: truthIntervals, frameSamples: 320))
        let truth = SpeechActivity(sampleRate: 32000, totalSamples: activity.totalSamples, intervals: truthIntervals)
        var claimed = 0.0, actual = 0.0
        var start: Int64 = 0
        while start + 64000 <= activity.totalSamples {
            let clip = start..<(start + 64000)
            let p = activity.speechRatio(clip), t = truth.speechRatio(clip)
            if p >= 0.25 {
                outcome.selected += 1
                if t == 0 { outcome.selectedWithoutSpeech += 1 }
                claimed += p; actual += t
            }
            start += 64000
        }
        if outcome.selected > 0 {
            outcome.claimedRatio = claimed / Double(outcome.selected)
            outcome.trueRatio = actual / Double(outcome.selected)
        }
        print("speech activity, \(name): \(outcome.line)")
        return outcome
    }

    private func checkClips(_ o: Outcome, _ name: String) {
        XCTAssertLessThanOrEqual(Double(o.selectedWithoutSpeech), 0.05 * Double(o.selected), "\(name): \(o.line)")
        XCTAssertEqual(o.claimedRatio, o.trueRatio, accuracy: 0.1, "\(name): \(o.line)")
    }

    /// The recordings of the issue: speech at −25…−18 dBFS over pink noise and mains hum
    /// (≈ 30 dB SNR), AAC 160 kb/s, with long pauses.
    func testIssueRecordingPrecision() throws {
        let o = try run("issue", seconds: 40, seed: 3) { s in
            s.noise = [.pink, .hum]; s.snrDB = 30; s.speechDBFS = -21.5; s.speechJitterDB = 3.5
            s.audioKilobitsPerSecond = 160; s.longSilenceSeconds = 12
        }
        XCTAssertGreaterThanOrEqual(o.score.f1, 0.9, o.line)
        XCTAssertGreaterThanOrEqual(o.score.precision, 0.9, o.line)
        checkClips(o, "issue")
    }

    func testNoiseKindsAt10dB() throws {
        let kinds: [(String, [SampleSpec.NoiseKind])] = [
            ("pink", [.pink]), ("brown", [.brown]), ("fan", [.fan]), ("room", [.room]), ("doppler", [.doppler, .room]),
        ]
        for (name, noise) in kinds {
            let o = try run("\(name)10", seed: 4) { s in s.noise = noise; s.snrDB = 10 }
            XCTAssertGreaterThanOrEqual(o.score.f1, 0.9, "\(name) 10 dB: \(o.line)")
            checkClips(o, "\(name) 10 dB")
        }
    }

    func testNoiseKindsAt5dB() throws {
        for (name, noise) in [("pink", [SampleSpec.NoiseKind.pink]), ("fan", [.fan]), ("hum", [.pink, .hum])] {
            let o = try run("\(name)5", seed: 5) { s in s.noise = noise; s.snrDB = 5 }
            XCTAssertGreaterThanOrEqual(o.score.f1, 0.8, "\(name) 5 dB: \(o.line)")
        }
    }

    /// ±20 dB level changes, a second talker 10 dB quieter (speech too), clicks, MP3 at 64 kb/s.
    func testLevelChangesTalkerClicksAndMP3() throws {
        let level = try run("level", seed: 6) { s in s.noise = [.pink, .hum]; s.snrDB = 10; s.levelChangeDB = 20 }
        XCTAssertGreaterThanOrEqual(level.score.f1, 0.9, level.line)
        checkClips(level, "level changes")
        let talker = try run("talker", seed: 6) { s in s.noise = [.pink]; s.snrDB = 10; s.secondTalkerDB = 10 }
        XCTAssertGreaterThanOrEqual(talker.score.f1, 0.9, talker.line)
        let clicks = try run("clicks", seed: 6) { s in s.noise = [.fan]; s.snrDB = 10; s.clicksPerMinute = 30 }
        XCTAssertGreaterThanOrEqual(clicks.score.f1, 0.9, clicks.line)
        checkClips(clicks, "clicks")
        let mp3 = try run("mp3", seed: 6) { s in s.noise = [.pink]; s.snrDB = 10; s.audioCodec = .mp3; s.audioKilobitsPerSecond = 64 }
        XCTAssertGreaterThanOrEqual(mp3.score.f1, 0.9, mp3.line)
    }

    /// Instrumental music under the speech: harmonic, but its level hardly moves.
    func testBackgroundMusic() throws {
        let o = try run("music", seed: 9) { s in s.noise = [.music, .room]; s.snrDB = 10 }
        XCTAssertGreaterThanOrEqual(o.score.f1, 0.9, o.line)
        checkClips(o, "music")
    }

    /// A recording without speech yields no clip, whatever its noise.
    func testNoSpeechYieldsNoClip() throws {
        for (name, noise) in [("quiet", [SampleSpec.NoiseKind.pink, .hum]), ("doppler", [.doppler, .fan])] {
            let o = try run("nospeech_\(name)", seed: 8) { s in
                s.noSpeech = true; s.noise = noise; s.snrDB = 30; s.levelChangeDB = 10; s.clicksPerMinute = 20
            }
            XCTAssertEqual(o.selected, 0, "\(name): \(o.line)")
        }
    }

    func testConfigIdentityAndValidation() throws {
        XCTAssertEqual(SpeechActivityConfig().method, "spp-noise-harmonicity/2")
        var bad = SpeechActivityConfig()
        bad.noiseSmoothing = 1
        XCTAssertThrowsError(try SpeechActivityDetector(bad))
        bad = SpeechActivityConfig()
        bad.pitchLow = .nan
        XCTAssertThrowsError(try SpeechActivityDetector(bad))
    }
}
