import Foundation
import XCTest
import SonoCore
import SonoTestSupport

/// Damaged recordings (random bytes overwritten, cut, zeroed) never crash or hang the decoder:
/// each run ends with status 0 (decoded what was there) or 1 (a typed error naming the file).
/// The decoder runs in a child process so that a crash would show as a signal, not kill the tests.
final class HostileInputTests: XCTestCase {
    func testMutatedRecordingsFailCleanly() throws {
        let dir = TemporaryDirectory()
        let source = dir.file("ok.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=15:duration=2", "-f", "lavfi", "-i", "sine=duration=2",
                           "-c:v", "libx264", "-preset", "ultrafast", "-g", "8", "-c:a", "aac", "-movflags", "+faststart", source])
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        var rng = SeededGenerator(seed: 404)
        var outcomes: [Int32: Int] = [:]
        for k in 0..<40 {
            var bytes = original
            switch k % 4 {
            case 0:  // scattered random bytes, header included
                for _ in 0..<(1 + Int(rng.next() % 40)) { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1:  // a zeroed run
                let at = Int(rng.next() % UInt64(bytes.count)), n = min(bytes.count - at, 1 + Int(rng.next() % 4096))
                for i in at..<(at + n) { bytes[i] = 0 }
            case 2:  // cut anywhere
                bytes.removeLast(Int(rng.next() % UInt64(bytes.count - 1)) + 1)
            default:  // bytes of the first 512 (boxes, sizes) flipped
                for _ in 0..<(1 + Int(rng.next() % 8)) { bytes[Int(rng.next() % 512)] ^= UInt8(1 << (rng.next() % 8)) }
            }
            let path = dir.file("mutant\(k).mp4")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let result = try BuiltProducts.run("sono-bench", ["decode", path, "--size", "32"], timeout: 20)
            XCTAssertTrue(result.status == 0 || result.status == 1, "mutant \(k): status \(result.status) (signal or hang)\n\(result.stderr)")
            if result.status == 1 { XCTAssertTrue(result.stderr.contains(path), "mutant \(k): error names the file: \(result.stderr)") }
            outcomes[result.status, default: 0] += 1
        }
        print("hostile inputs: \(outcomes)")
    }
}
