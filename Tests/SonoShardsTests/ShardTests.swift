import Foundation
import XCTest
import SonoCatalog
import SonoCore
import SonoTestSupport
@testable import SonoShards

final class ShardTests: XCTestCase {
    /// Random records written through the writer come back identical, by slot and by clip id.
    func testRoundTripAcrossShards() throws {
        let dir = TemporaryDirectory()
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        let layout = RecordLayout.clip(frames: 3, size: 16, melFrames: 5, mels: 8)
        let root = URL(fileURLWithPath: dir.file("ds"))
        let written = try SyntheticDataset.write(catalog: catalog, root: root, name: "rt", layout: layout,
                                                 count: 25, seed: 7, targetBytes: 4096 * 10)
        XCTAssertEqual(written.shards.count, 3)  // 9 records per 40 KiB shard
        XCTAssertEqual(written.shards.map(\.recordCount), [9, 9, 7])
        let expected = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.stride, alignment: 64)
        defer { expected.deallocate() }
        for (k, clipID) in written.clipIDs.enumerated() {
            let location = try XCTUnwrap(catalog.location(ofClip: clipID))
            let reader = try ShardReader(path: root.appendingPathComponent(location.shard.path).path, expect: location.shard.expectation)
            let record = reader.record(location.slot)
            XCTAssertEqual(record.clipID, clipID)
            XCTAssertTrue(reader.recordIsIntact(location.slot))
            expected.initializeMemory(as: UInt8.self, repeating: 0)
            SyntheticDataset.fill(RecordBuilder(base: expected.baseAddress!, layout: layout), layout: layout, seed: 7, index: k)
            for name in ["video", "still", "logmel"] {
                let f = try XCTUnwrap(layout.field(name))
                XCTAssertEqual(Array(record.bytes(name)), Array(expected[f.offset..<(f.offset + f.byteCount)]), "\(name) of clip \(k)")
            }
        }
        // Offsets are computable: record i at 4096 + i × stride, fields on 64-byte boundaries.
        XCTAssertEqual(layout.stride % 4096, 0)
        XCTAssertTrue(layout.fields.allSatisfy { $0.offset % 64 == 0 })
        let reader = try ShardReader(path: written.shards[0].path)
        XCTAssertEqual(reader.fileSize, 4096 + 9 * layout.stride)
        XCTAssertTrue(reader.verify().isIntact)
        XCTAssertEqual(reader.header.datasetName, "rt")
    }

    func testStandardClipLayouts() {
        let large = RecordLayout.clip(melFrames: 201), medium = RecordLayout.clip(melFrames: 601)
        XCTAssertEqual(large.field("video")?.byteCount, 14 * 128 * 128)
        XCTAssertEqual(large.field("logmel")?.shape, [201, 64])
        XCTAssertEqual(medium.field("logmel")?.byteCount, 601 * 64 * 2)
        XCTAssertEqual(large.fields.last?.name, "crc32c")
        XCTAssertEqual(large.stride, 274_432)  // 67 pages for a 2 s clip (271,556 bytes of record)
    }

    /// Flipping any single byte of a shard (header, record, padding) is detected.
    func testVerifyDetectsEverySingleByteFlip() throws {
        let dir = TemporaryDirectory()
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        let written = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("ds")), name: "flip",
                                                 layout: SyntheticDataset.tinyLayout, count: 2, seed: 3, targetBytes: 1 << 20)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: written.shards[0].path)))
        XCTAssertEqual(bytes.count, 3 * 4096)
        var undetected: [Int] = []
        for i in bytes.indices {
            bytes[i] ^= 0x5A
            let detected = bytes.withUnsafeBytes { raw -> Bool in
                guard let view = try? ShardView(raw, path: "flip") else { return true }
                return !view.verify().isIntact
            }
            if !detected { undetected.append(i) }
            bytes[i] ^= 0x5A
        }
        XCTAssertEqual(undetected, [], "flips at these offsets went unnoticed")
        XCTAssertTrue(bytes.withUnsafeBytes { (try? ShardView($0, path: "ok"))?.verify().isIntact ?? false })
    }

    /// 10,000 random header mutations: the reader rejects or accepts, never crashes or reads
    /// out of bounds. Half the mutants get a recomputed header CRC, so the validation behind
    /// the checksum is exercised too.
    func testFuzzedHeadersNeverCrashTheReader() throws {
        let dir = TemporaryDirectory()
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        let written = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("ds")), name: "fuzz",
                                                 layout: SyntheticDataset.tinyLayout, count: 3, seed: 5, targetBytes: 1 << 20)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: written.shards[0].path)))
        var rng = SeededGenerator(seed: 2026)
        var accepted = 0
        let interesting: [Int] = Array(0..<128) + Array(128..<(128 + 5 * 64))
        for _ in 0..<10_000 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let at = rng.next() % 3 == 0 ? Int(rng.next() % 4096) : interesting[Int(rng.next() % UInt64(interesting.count))]
                switch rng.next() % 4 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes[at] = 0xFF
                case 2: bytes[at] = 0
                default: bytes[at] ^= UInt8(1 << (rng.next() % 8))
                }
            }
            if rng.next() % 2 == 0 {
                let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<4092])) }
                withUnsafeBytes(of: crc.littleEndian) { for (i, b) in $0.enumerated() { bytes[4092 + i] = b } }
            }
            if rng.next() % 8 == 0 { bytes.removeLast(Int(rng.next() % UInt64(bytes.count))) }
            bytes.withUnsafeBytes { raw in
                guard let view = try? ShardView(raw, path: "fuzz") else { return }
                accepted += 1
                for slot in 0..<view.header.recordCount {
                    let record = view.record(slot)
                    for f in view.header.layout.fields { _ = record.bytes(f.name).reduce(0) { $0 &+ $1 } }
                }
                _ = view.verify()
            }
        }
        XCTAssertGreaterThan(accepted, 0, "some mutants (e.g. of reserved bytes) should still parse")
    }

    /// Headers that lie about the file are refused with a reason naming the file.
    func testTruncatedAndForeignFilesAreTypedErrors() throws {
        let dir = TemporaryDirectory()
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        let written = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("ds")), name: "t",
                                                 layout: SyntheticDataset.tinyLayout, count: 2, seed: 1, targetBytes: 1 << 20)
        let data = try Data(contentsOf: URL(fileURLWithPath: written.shards[0].path))
        let cases: [(String, Data, String)] = [
            ("cut.shard", data.prefix(data.count - 100), "truncated or padded"),
            ("short.shard", data.prefix(100), "shorter than the 4096-byte header"),
            ("text.shard", Data(repeating: 0x41, count: 8192), "bad magic"),
        ]
        for (name, bytes, reason) in cases {
            let path = dir.file(name)
            try bytes.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try ShardReader(path: path)) { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
                XCTAssertTrue("\(error)".contains(reason), "\(error)")
            }
        }
        let row = try XCTUnwrap(catalog.shards(datasetID: written.dataset.id ?? 0).first)
        var wrong = row.expectation
        wrong.recordCount += 1
        XCTAssertThrowsError(try ShardReader(path: written.shards[0].path, expect: wrong)) { error in
            XCTAssertTrue("\(error)".contains("does not match the catalog"))
        }
    }

    /// Kill the writer between write and rename, and between rename and commit: the catalog
    /// indexes only complete shards, a rerun cleans up and finishes, and every record verifies.
    func testCrashesLeaveAConsistentCatalog() throws {
        for point in ["shard-before-rename", "shard-before-index"] {
            let dir = TemporaryDirectory()
            let args = ["shards", "--catalog", dir.file("c.sqlite"), "--root", dir.file("ds"), "--records", "6",
                        "--layout", "tiny", "--shard-mib", "1"]
            let crashed = try BuiltProducts.run("sono-bench", args, environment: ["SONODUAL_CRASH_POINT": point])
            XCTAssertEqual(crashed.status, 9, "\(point): killed by SIGKILL (\(crashed.stderr))")
            let catalog = try Catalog(path: dir.file("c.sqlite"))
            let dataset = try XCTUnwrap(catalog.datasets().first)
            XCTAssertEqual(try catalog.shards(datasetID: dataset.id ?? 0), [], "\(point): nothing indexed")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.file("ds"))
            XCTAssertEqual(leftovers.count, 1, "\(point): one leftover file, \(leftovers)")

            let removed = try ShardStore.removeLeftovers(root: URL(fileURLWithPath: dir.file("ds")), indexed: [])
            XCTAssertEqual(removed, leftovers)
            let rerun = try BuiltProducts.run("sono-bench", args + ["--name", "again"])
            XCTAssertEqual(rerun.status, 0, rerun.stderr)
            let again = try XCTUnwrap(catalog.datasets().last)
            for shard in try catalog.shards(datasetID: again.id ?? 0) {
                let reader = try ShardReader(path: dir.file("ds/" + shard.path), expect: shard.expectation)
                XCTAssertTrue(reader.verify().isIntact)
            }
        }
    }
}
