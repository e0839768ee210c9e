import Foundation
import XCTest
import SonoCatalog
import SonoCore
import SonoShards
import SonoTestSupport
@testable import SonoLoader

final class LoaderTests: XCTestCase {
    private func dataset(_ dir: TemporaryDirectory, count: Int, scans: Int) throws -> Catalog {
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        _ = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("ds")), name: "d",
                                       layout: SyntheticDataset.tinyLayout, count: count, seed: 1, targetBytes: 64 * 4096, scans: scans)
        return catalog
    }

    private func epochs(_ loader: ShardLoader, _ n: Int) throws -> [[[Int64]]] {
        var out: [[[Int64]]] = []
        for _ in 0..<n {
            var epoch: [[Int64]] = []
            while let b = try loader.next() { epoch.append(b.clipIDs) }
            out.append(epoch)
        }
        return out
    }

    /// Across 3 ranks × 2 workers, every record comes exactly once per epoch; every rank gets
    /// the same number of batches.
    func testEveryRecordOncePerEpochAcrossRanks() throws {
        let dir = TemporaryDirectory()
        let catalog = try dataset(dir, count: 120, scans: 5)
        var seen: [Int64] = []
        var counts: [Int] = []
        for rank in 0..<3 {
            var o = LoaderOptions()
            o.batchSize = 8; o.rank = rank; o.worldSize = 3; o.workers = 2
            let loader = try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 42)
            let batches = try epochs(loader, 1)[0]
            counts.append(batches.count)
            seen += batches.flatMap { $0 }
        }
        XCTAssertEqual(counts, [5, 5, 5])
        XCTAssertEqual(seen.sorted(), Array(1...120))

        // 100 records, batch 8, 3 ranks: 13 batches. drop_last keeps 4 rounds of 3 full batches;
        // padding gives 5 rounds, wrapping to the start so every record still appears.
        let small = TemporaryDirectory()
        let c2 = try dataset(small, count: 100, scans: 5)
        for dropLast in [true, false] {
            var all: [Int64] = []
            var perRank: [Int] = []
            for rank in 0..<3 {
                var o = LoaderOptions()
                o.batchSize = 8; o.rank = rank; o.worldSize = 3; o.dropLast = dropLast
                let batches = try epochs(try ShardLoader(catalog: c2, datasets: ["d"], options: o, seed: 1), 1)[0]
                perRank.append(batches.count)
                XCTAssertTrue(batches.allSatisfy { $0.count == 8 })
                all += batches.flatMap { $0 }
            }
            XCTAssertEqual(Set(perRank).count, 1, "equal batches per rank")
            if dropLast {
                XCTAssertEqual(all.count, 96); XCTAssertEqual(Set(all).count, 96)
            } else {
                XCTAssertEqual(all.count, 120); XCTAssertEqual(Set(all).count, 100)
            }
        }
    }

    func testOrderIsAFunctionOfSeedAndEpoch() throws {
        let dir = TemporaryDirectory()
        let catalog = try dataset(dir, count: 64, scans: 4)
        var o = LoaderOptions()
        o.batchSize = 4
        let a = try epochs(try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 9), 2)
        var unbuffered = o
        unbuffered.prefetch = 0; unbuffered.workers = 1
        let b = try epochs(try ShardLoader(catalog: catalog, datasets: ["d"], options: unbuffered, seed: 9), 2)
        let c = try epochs(try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 10), 1)
        XCTAssertEqual(a, b, "prefetch and workers do not change the stream")
        XCTAssertNotEqual(a[0], a[1])
        XCTAssertNotEqual(a[0], c[0])
    }

    /// Restoring the state at random steps (including at an epoch's end) continues the
    /// identical stream, batch contents included.
    func testResumeAtRandomStepsEqualsTheUninterruptedStream() throws {
        let dir = TemporaryDirectory()
        let catalog = try dataset(dir, count: 50, scans: 5)
        var o = LoaderOptions()
        o.batchSize = 4; o.augmentation = Augmentation()
        let reference = try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 3)
        var stream: [(LoaderState, Batch?)] = []
        for _ in 0..<40 {
            let state = reference.state
            stream.append((state, try reference.next()))
        }
        var rng = SeededGenerator(seed: 77)
        for _ in 0..<6 {
            let k = Int(rng.next() % UInt64(stream.count - 5))
            let resumed = try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 999)
            try resumed.restore(stream[k].0)
            for j in k..<min(k + 5, stream.count) {
                let batch = try resumed.next()
                XCTAssertEqual(batch?.clipIDs, stream[j].1?.clipIDs, "resume at \(k), batch \(j)")
                XCTAssertTrue(batch?.video == stream[j].1?.video, "pixels of batch \(j) after resuming at \(k)")
            }
        }
        XCTAssertTrue(stream.contains { $0.1 == nil }, "the stream crossed an epoch boundary")
    }

    /// Batches hold the records' bytes as floats, normalised as asked.
    func testBatchValuesAndNormalisation() throws {
        let dir = TemporaryDirectory()
        let catalog = try dataset(dir, count: 8, scans: 1)
        var o = LoaderOptions()
        o.batchSize = 4
        o.pixelNormalization = (mean: 0.5, std: 0.25)
        o.logMelNormalization = (mean: -40, std: 20)
        let batch = try XCTUnwrap(try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 1).next())
        XCTAssertEqual(batch.video.count, 4 * 2 * 8 * 8)
        XCTAssertEqual(batch.logMel.count, 4 * 3 * 4)
        let layout = SyntheticDataset.tinyLayout
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.stride, alignment: 64)
        defer { buffer.deallocate() }
        for (b, clipID) in batch.clipIDs.enumerated() {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            SyntheticDataset.fill(RecordBuilder(base: buffer.baseAddress!, layout: layout), layout: layout, seed: 1, index: Int(clipID - 1))
            let v = try XCTUnwrap(layout.field("video"))
            for i in 0..<(2 * 64) {
                XCTAssertEqual(batch.video[b * 128 + i], (Float(buffer[v.offset + i]) / 255 - 0.5) / 0.25, accuracy: 1e-5)
            }
        }
    }

    /// `standardizePerSample`: every clip (all its frames together) and every still of a batch at
    /// mean 0 and std 1, the same values whatever the pixel normalisation before it (an affine
    /// map of each sample); the log-mel is untouched; a blank sample is only centred.
    func testPerSampleStandardization() throws {
        let dir = TemporaryDirectory()
        let catalog = try dataset(dir, count: 8, scans: 1)
        var o = LoaderOptions()
        o.batchSize = 4
        o.standardizePerSample = true
        let plain = try XCTUnwrap(try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 1).next())
        o.pixelNormalization = (mean: 0.5, std: 0.25)
        let normalised = try XCTUnwrap(try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 1).next())
        o.standardizePerSample = false
        let raw = try XCTUnwrap(try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 1).next())
        XCTAssertEqual(plain.logMel, raw.logMel)
        for (values, size) in [(plain.video, plain.frames * plain.size * plain.size), (plain.still, plain.size * plain.size)] {
            for b in 0..<4 {
                let x = values[(b * size)..<((b + 1) * size)].map(Double.init)
                let mean = x.reduce(0, +) / Double(size)
                let std = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(size)).squareRoot()
                XCTAssertEqual(mean, 0, accuracy: 1e-5)
                XCTAssertEqual(std, 1, accuracy: 1e-4)
            }
        }
        for (a, b) in zip(plain.video, normalised.video) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        var blank = [Float](repeating: 3, count: 16)
        SampleStandardization.apply(&blank, sampleSize: 8)
        XCTAssertEqual(blank, [Float](repeating: 0, count: 16))
    }

    /// Weights repeat or subsample a dataset within each epoch.
    func testDatasetWeights() throws {
        let dir = TemporaryDirectory()
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        let a = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("a")), name: "a",
                                           layout: SyntheticDataset.tinyLayout, count: 20, seed: 1, targetBytes: 1 << 20)
        let b = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("b")), name: "b",
                                           layout: SyntheticDataset.tinyLayout, count: 40, seed: 2, targetBytes: 1 << 20)
        var o = LoaderOptions()
        o.batchSize = 5; o.weights = [2, 0.5]
        let loader = try ShardLoader(catalog: catalog, datasets: ["a", "b"], options: o, seed: 3)
        var ids: [Int64] = []
        while let batch = try loader.next() { ids += batch.clipIDs }
        let fromA = ids.filter { a.clipIDs.contains($0) }, fromB = ids.filter { b.clipIDs.contains($0) }
        XCTAssertEqual(fromA.count, 40, "each of a's 20 records twice")
        XCTAssertEqual(Set(fromA).count, 20)
        XCTAssertEqual(fromB.count, 20, "half of b's 40 records")
        XCTAssertEqual(Set(fromB).count, 20)
    }

    func testScanCapPerBatch() throws {
        let items = (0..<200).map { LoaderItem(clipID: Int64($0), shard: 0, slot: $0, scan: $0 < 150 ? 0 : 1 + $0 % 5, storageIndex: $0) }
        let plan = EpochPlan.make(items: items, seed: 1, epoch: 0, batchSize: 10, worldSize: 1, dropLast: false, maxPerScan: 4)
        XCTAssertEqual(Set(plan.batches.flatMap { $0 }.map(\.clipID)).count, 200)
        // Scan 0 holds 75 % of the clips: batches take at most 4 of it while others remain.
        let early = plan.batches.prefix(8)
        XCTAssertTrue(early.allSatisfy { b in b.filter { $0.scan == 0 }.count <= 4 }, "\(early.map { $0.map(\.scan) })")
    }

    /// Shuffle quality over ≥ 5 scans stored one after another: no trace of storage order, and
    /// neighbours come from the same scan no more often than chance.
    func testShuffleQuality() {
        let n = 50_000, scans = 10
        let items = (0..<n).map { LoaderItem(clipID: Int64($0), shard: 0, slot: $0, scan: $0 * scans / n, storageIndex: $0) }
        for epoch in 0..<3 {
            let order = EpochPlan.make(items: items, seed: 5, epoch: epoch, batchSize: 64, worldSize: 1, dropLast: false, maxPerScan: nil)
                .batches.flatMap { $0 }.prefix(n)
            // Spearman ρ between position and storage index (ranks are the values themselves).
            let positions = Array(0..<order.count).map(Double.init), ranks = order.map { Double($0.storageIndex) }
            let mean = Double(order.count - 1) / 2
            var num = 0.0, den = 0.0
            for (p, r) in zip(positions, ranks) { num += (p - mean) * (r - mean); den += (p - mean) * (p - mean) }
            let rho = num / den
            XCTAssertLessThanOrEqual(abs(rho), 0.02, "epoch \(epoch): ρ = \(rho)")
            let orderArray = Array(order)
            let same = zip(orderArray, orderArray.dropFirst()).filter { $0.scan == $1.scan }.count
            let observed = Double(same) / Double(order.count - 1)
            XCTAssertLessThanOrEqual(observed, 1.5 * (1.0 / Double(scans)), "epoch \(epoch)")
        }
    }
}

final class OrderCommandTests: XCTestCase {
    /// `sono-inspect order` prints the loader's batches; from a step, the tail of the same list.
    func testOrderCommandMatchesTheLoaderAndResumes() throws {
        let dir = TemporaryDirectory()
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        _ = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("ds")), name: "d",
                                       layout: SyntheticDataset.tinyLayout, count: 40, seed: 1, targetBytes: 1 << 20, scans: 4)
        let args = ["order", "--catalog", dir.file("c.sqlite"), "--dataset", "d", "--seed", "5", "--epoch", "1",
                    "--rank", "1", "--world-size", "2", "--batch-size", "4"]
        let full = try BuiltProducts.run("sono-inspect", args)
        XCTAssertEqual(full.status, 0, full.stderr)
        let lines = full.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        let tail = try BuiltProducts.run("sono-inspect", args + ["--from-step", "3"])
        XCTAssertEqual(tail.stdout.split(separator: "\n").map(String.init), Array(lines[3...]))

        var o = LoaderOptions()
        o.batchSize = 4; o.rank = 1; o.worldSize = 2
        let loader = try ShardLoader(catalog: catalog, datasets: ["d"], options: o, seed: 5)
        try loader.restore(LoaderState(seed: 5, epoch: 1, step: 0))
        var fromLoader: [String] = []
        while let b = try loader.next() { fromLoader.append(b.clipIDs.map(String.init).joined(separator: " ")) }
        XCTAssertEqual(fromLoader, lines)
    }
}
