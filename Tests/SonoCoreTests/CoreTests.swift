import XCTest
@testable import SonoCore

final class CoreTests: XCTestCase {
    func testCRC32CCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        // Incremental updates equal one-shot, across the 8-byte fast path boundary.
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var c = CRC32C()
        c.update(bytes[0..<13])
        c.update(bytes[13...])
        XCTAssertEqual(c.value, CRC32C.checksum(bytes))
        // The table path agrees with the hardware path on every length and alignment.
        for start in 0..<9 {
            for length in [0, 1, 7, 8, 9, 63, 64, 65, 500] where start + length <= bytes.count {
                var t = CRC32C()
                bytes[start..<(start + length)].withUnsafeBytes { t.updateWithTables($0) }
                XCTAssertEqual(t.value, CRC32C.checksum(bytes[start..<(start + length)]), "\(start) \(length)")
            }
        }
    }

    func testRationalScaleRoundsAndSurvivesLargeValues() {
        XCTAssertEqual(Rational(1, 90000).scale(180_000, toUnit: 1_000_000), 2_000_000)
        XCTAssertEqual(Rational(1001, 30000).scale(1, toUnit: 1_000_000), 33_367)  // 33366.67
        XCTAssertEqual(Rational(1, 3).scale(-1, toUnit: 1_000_000), -333_333)
        XCTAssertNil(Rational(1, 0).scale(5, toUnit: 1))
        XCTAssertEqual(Rational(1, 1).scale(Int64.max / 2, toUnit: 4), nil)
    }

    func testTimeMathRoundTrip() {
        for rate in [8000, 16000, 22050, 32000, 44100, 48000] {
            for i: Int64 in [0, 1, 320, 31_999, 57_600_000] {
                XCTAssertEqual(TimeMath.sampleIndex(at: TimeMath.micros(ofSample: i, rate: rate), rate: rate), i)
            }
        }
    }

    func testSeededGeneratorIsDeterministicPerStream() {
        var a = SeededGenerator(seed: 7, stream: 1), b = SeededGenerator(seed: 7, stream: 1)
        var c = SeededGenerator(seed: 7, stream: 2)
        let xa = (0..<4).map { _ in a.next() }
        XCTAssertEqual(xa, (0..<4).map { _ in b.next() })
        XCTAssertNotEqual(xa, (0..<4).map { _ in c.next() })
    }
}

final class SHA256Tests: XCTestCase {
    func testKnownDigests() {
        XCTAssertEqual(SHA256.hex(Array("".utf8)), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
