import Foundation
import XCTest
import SonoCore
@testable import SonoSpectral

/// Our FFTW front end against librosa (references made by
/// scripts/reference/make_logmel_references.py and committed).
final class LogMelReferenceTests: XCTestCase {
    static let references = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("References")

    struct Case: Decodable {
        var sr: Int, n_fft: Int, win_length: Int, hop_length: Int, n_mels: Int, fmin: Double, fmax: Double
    }

    func testMatchesLibrosaWithin001dB() throws {
        struct Index: Decodable { var cases: [String: Case] }
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: Self.references.appendingPathComponent("index.json")))
        XCTAssertGreaterThanOrEqual(index.cases.count, 10)
        for (name, c) in index.cases.sorted(by: { $0.key < $1.key }) {
            var config = LogMelConfig()
            config.sampleRate = c.sr; config.fftSize = c.n_fft; config.windowLength = c.win_length
            config.hopLength = c.hop_length; config.melBins = c.n_mels; config.fMin = c.fmin; config.fMax = c.fmax
            let input = try NPYArray.read(Self.references.appendingPathComponent("\(name).input.npy").path)
            let reference = try NPYArray.read(Self.references.appendingPathComponent("\(name).logmel.npy").path)
            let ours = try LogMelSpectrogram(config).compute(input.floats, sampleRate: c.sr, source: name)
            XCTAssertEqual([ours.frames, ours.mels], reference.shape, name)
            XCTAssertEqual(ours.frames, config.frameCount(samples: input.shape[0]), name)
            var worst: Float = 0, checked = 0
            for (a, b) in zip(ours.values, reference.floats) where b > -100 {
                worst = max(worst, abs(a - b))
                checked += 1
            }
            XCTAssertLessThanOrEqual(worst, 0.01, "\(name): max |Δ| = \(worst) dB over \(checked) values")
            if name == "silence" {
                XCTAssertTrue(ours.values.allSatisfy { $0 == -100 }, "silence is exactly 10·log10(1e-10)")
            }
        }
    }

    /// Single precision is close where the signal is not 100 dB below the frame's peak.
    func testSinglePrecisionOnNoiseAndSpeech() throws {
        var config = LogMelConfig()
        config.fftPrecision = .single
        for name in ["white_noise", "speech"] {
            let input = try NPYArray.read(Self.references.appendingPathComponent("\(name).input.npy").path)
            let reference = try NPYArray.read(Self.references.appendingPathComponent("\(name).logmel.npy").path).floats
            let ours = try LogMelSpectrogram(config).compute(input.floats, sampleRate: 32000, source: name)
            let worst = zip(ours.values, reference).filter { $0.1 > -60 }.map { abs($0.0 - $0.1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 0.01, name)
        }
    }

    func testFrameCountsAndFloat16() throws {
        let config = LogMelConfig.cnn14
        XCTAssertEqual(config.frameCount(samples: 32000), 101)
        XCTAssertEqual(config.frameCount(samples: 64000), 201)   // 2 s clips
        XCTAssertEqual(config.frameCount(samples: 192_000), 601) // 6 s clips
        let mel = try LogMelSpectrogram().compute([Float](repeating: 0.1, count: 3200), sampleRate: 32000, source: "dc")
        let halves = mel.float16Bits
        for (v, h) in zip(mel.values, halves) {
            XCTAssertEqual(Float(Float16(bitPattern: h)), v, accuracy: max(abs(v) / 1024, 1e-3))
        }
    }

    func testReflectIndexMatchesNumpy() {
        // np.pad(np.arange(3), 7, mode='reflect') = [1 2 1 0 1 2 1 | 0 1 2 | 1 0 1 2 1 0 1]
        let left = (-7..<0).map { LogMelSpectrogram.reflectIndex($0, 3) }
        XCTAssertEqual(left, [1, 2, 1, 0, 1, 2, 1])
        let right = (3..<10).map { LogMelSpectrogram.reflectIndex($0, 3) }
        XCTAssertEqual(right, [1, 0, 1, 2, 1, 0, 1])
        XCTAssertEqual(LogMelSpectrogram.reflectIndex(-5, 1), 0)
    }

    func testBadInputIsATypedErrorNamingTheSource() throws {
        let mel = try LogMelSpectrogram()
        let cases: [([Float], Int, String)] = [
            ([], 32000, "empty audio"),
            ([0, .nan, 0], 32000, "non-finite sample (nan) at index 1"),
            ([0, .infinity], 32000, "non-finite sample (inf) at index 1"),
            ([0, 0, 0], 44100, "44100 Hz but the log-mel expects 32000 Hz"),
        ]
        for (samples, rate, expected) in cases {
            XCTAssertThrowsError(try mel.compute(samples, sampleRate: rate, source: "scan_7.mp4")) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("scan_7.mp4: "), text)
                XCTAssertTrue(text.contains(expected), text)
            }
        }
        var bad = LogMelConfig()
        bad.fMax = 20000
        XCTAssertThrowsError(try LogMelSpectrogram(bad))
    }

    func testConcurrentUseGivesIdenticalResults() throws {
        let mel = try LogMelSpectrogram()
        let signal = (0..<32000).map { Float(sin(Double($0) * 0.05)) * 0.3 }
        let expected = try mel.compute(signal, sampleRate: 32000, source: "s")
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            results.add((try? mel.compute(signal, sampleRate: 32000, source: "s")) == expected)
        }
        XCTAssertEqual(results.all, Array(repeating: true, count: 8))
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Bool] = []
    func add(_ v: Bool) { lock.lock(); values.append(v); lock.unlock() }
    var all: [Bool] { lock.lock(); defer { lock.unlock() }; return values }
}
