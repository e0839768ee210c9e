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

    /// Streams whose structure is not read are not planned, and say why: another codec, and
    /// H.264 as an Annex B elementary stream (start codes, no avcC record).
    func testUnreadStructuresAreNotPlanned() throws {
        let dir = TemporaryDirectory()
        let vp9 = dir.file("vp9.mkv"), annexB = dir.file("annexb.h264")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=1", "-c:v", "libvpx-vp9", vp9])
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=1", "-c:v", "libx264", "-f", "h264", annexB])
        XCTAssertThrowsError(try DecodePlan.packets(path: vp9)) { error in
            XCTAssertTrue("\(error)".contains("codec vp9: only H.264, HEVC and MPEG-4 Part 2 are planned"), "\(error)")
        }
        XCTAssertThrowsError(try DecodePlan.packets(path: annexB)) { error in
            XCTAssertTrue(error is DecodePlan.Unplannable, "\(error)")
        }
    }

    /// MPEG-4 Part 2's B-VOPs and HEVC's top sub-layer non-reference pictures are read as such.
    func testMPEG4AndHEVCNonReferencePicturesAreFound() throws {
        let dir = TemporaryDirectory()
        let m4v = dir.file("m4v.mp4"), hevc = dir.file("hevc.mp4")
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=3", "-c:v", "mpeg4", "-bf", "2", m4v])
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=3", "-c:v", "libx265", "-x265-params", "bframes=4:keyint=10:log-level=error", hevc])
        for path in [m4v, hevc] {
            let packets = try DecodePlan.packets(path: path)
            XCTAssertEqual(packets.count, 30, path)
            XCTAssertTrue(packets.contains { !$0.isReference }, path)
            XCTAssertTrue(packets.allSatisfy(\.isIntact), path)
            XCTAssertTrue(packets[0].isReference, path)
        }
        XCTAssertTrue(try DecodePlan.packets(path: hevc)[0].isCleanStart, "x265 starts with an IDR")
        XCTAssertFalse(try DecodePlan.packets(path: m4v).contains(where: \.isCleanStart), "MPEG-4 Part 2 has no clean starts in the plan")
    }
}
