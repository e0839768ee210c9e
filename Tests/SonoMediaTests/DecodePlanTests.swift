import XCTest
import SonoCore
import SonoSample
import SonoTestSupport
@testable import SonoMedia

/// Decoding only what is needed (issue 18): the frames a plan decodes come out byte for byte as
/// a full decode gives them, while non-reference frames and stretches before a clean start
/// that hold no needed frame are not decoded.
final class DecodePlanTests: XCTestCase {
    /// Every frame of a full decode: presentation time → gray pixels at the coded size.
    private func fullDecode(_ path: String) throws -> [(Microseconds, [UInt8])] {
        let decoder = try VideoDecoder(path: path, threads: 2)
        let conversion = GrayConversion(width: decoder.info.width, height: decoder.info.height)
        var frames: [(Microseconds, [UInt8])] = []
        while let t = try decoder.nextFrame() {
            var pixels = [UInt8](repeating: 0, count: decoder.info.width * decoder.info.height)
            try pixels.withUnsafeMutableBufferPointer { try decoder.convertCurrentFrame(conversion, into: $0) }
            frames.append((t.pts, pixels))
        }
        return frames
    }

    func testPlannedFramesEqualTheFullDecode() throws {
        let dir = TemporaryDirectory()
        var spec = SampleSpec()
        spec.name = "plain"; spec.width = 160; spec.height = 128; spec.seconds = 8; spec.seed = 2; spec.noSpeech = true
        let plain = try SampleGenerator.generate(spec, into: dir.path).videoPath
        // Short closed GOPs (an IDR every second) and a B-pyramid, so both savings apply.
        let gops = dir.file("gops.mp4")
        try FFmpegCLI.run(["-i", plain, "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-bf", "3", "-x264-params", "b-pyramid=normal",
                           "-c:a", "copy", gops])
        for path in [plain, gops] {
            let full = try fullDecode(path)
            let packets = try DecodePlan.packets(path: path)
            XCTAssertEqual(packets.map(\.pts).sorted(), full.map(\.0), "the demux pass sees every decoded frame")
            XCTAssertTrue(packets.contains { !$0.isReference }, "x264's B-frames are non-reference")
            // Needed: frames in 2.0–2.5 s and around 6 s, as a few clips would take.
            let needed = Set(full.map(\.0).filter { (2_000_000..<2_500_000).contains($0) || (6_000_000..<6_100_000).contains($0) })
            let plan = DecodePlan(packets: packets, needed: needed)
            let decoder = try VideoDecoder(path: path, threads: 2, plan: plan)
            let conversion = GrayConversion(width: decoder.info.width, height: decoder.info.height)
            let reference = Dictionary(uniqueKeysWithValues: full)
            var seen = Set<Microseconds>()
            while let t = try decoder.nextFrame() {
                guard needed.contains(t.pts) else { continue }
                var pixels = [UInt8](repeating: 0, count: decoder.info.width * decoder.info.height)
                try pixels.withUnsafeMutableBufferPointer { try decoder.convertCurrentFrame(conversion, into: $0) }
                XCTAssertEqual(pixels, reference[t.pts], "\(path): frame at \(t.pts) µs")
                seen.insert(t.pts)
            }
            XCTAssertEqual(seen, needed, "\(path): every needed frame decoded")
            XCTAssertEqual(decoder.stats.corruptPackets, 0)
            print(String(format: "decode plan %@: %d of %d packets decoded (%.0f %%), %d needed frames",
                         (path as NSString).lastPathComponent, plan.decodedCount, packets.count, 100 * Double(plan.decodedCount) / Double(packets.count), needed.count))
            XCTAssertLessThan(plan.decodedCount, packets.count)
        }
    }

    func testNonH264IsNotPlanned() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("m4v.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=1", "-c:v", "mpeg4", path])
        XCTAssertThrowsError(try DecodePlan.packets(path: path)) { error in
            XCTAssertTrue("\(error)".contains("only H.264 is planned"), "\(error)")
        }
    }
}
