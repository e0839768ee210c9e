import SonoCore

/// One record a loader can serve: where it is, and what the order needs to know about it.
public struct LoaderItem: Hashable, Sendable {
    public var clipID: Int64
    /// Index into the loader's open shards.
    public var shard: Int
    public var slot: Int
    /// Dense scan number (for scan-aware batching and shuffle-quality checks).
    public var scan: Int
    /// Position in storage order (dataset, shard path, slot).
    public var storageIndex: Int
}

/// Where a loader is: all it takes to restart the identical stream. Restoring recomputes the
/// epoch's permutation (O(records), milliseconds) and jumps to `step`; no batch is replayed.
public struct LoaderState: Hashable, Sendable, Codable {
    public var seed: UInt64
    public var epoch: Int
    /// Batches this rank has already yielded in `epoch`.
    public var step: Int

    public init(seed: UInt64, epoch: Int = 0, step: Int = 0) {
        self.seed = seed
        self.epoch = epoch
        self.step = step
    }
}

/// How an epoch is ordered and cut into per-rank batches: the spec is schemas/epoch-order.md
/// (also implemented by python/sonodual/order.py, tested equal). In short: a full Fisher–Yates
/// permutation seeded by (seed, epoch) — no runs from one scan and no weak start of epoch, as a
/// shard-level shuffle buffer would give; batches filled in order under an optional scan cap;
/// global batch g to rank g mod W, with the same number of batches on every rank (drop or pad).
public struct EpochPlan: Sendable {
    public var batches: [[LoaderItem]]
    /// Number of batches each rank yields this epoch.
    public var batchesPerRank: Int

    /// Fisher–Yates from the last position, j = next() mod (i + 1): written out (the spec's step 2)
    /// so that the order does not depend on the standard library's shuffle and Python can follow it.
    static func shuffle<T>(_ a: inout [T], _ rng: inout SeededGenerator) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
    }

    public static func make(items: [LoaderItem], weights: [Double]? = nil, datasetOf: ((LoaderItem) -> Int)? = nil,
                            seed: UInt64, epoch: Int, batchSize: Int, worldSize: Int, dropLast: Bool,
                            maxPerScan: Int?, scanGroup: Int? = nil) -> EpochPlan {
        precondition(batchSize > 0 && worldSize > 0)
        var epochItems = items
        if let weights, let datasetOf {
            var rng = SeededGenerator(seed: seed, stream: 0x5EED_0000 &+ UInt64(epoch))
            var chosen: [LoaderItem] = []
            for (d, w) in weights.enumerated() {
                let members = items.filter { datasetOf($0) == d }
                for _ in 0..<Int(w.rounded(.down)) { chosen += members }
                var rest = members
                shuffle(&rest, &rng)
                chosen += rest.prefix(Int((w - w.rounded(.down)) * Double(members.count)))
            }
            epochItems = chosen
        }
        var rng = SeededGenerator(seed: seed, stream: UInt64(bitPattern: Int64(epoch)))
        var order = epochItems
        shuffle(&order, &rng)
        if let k = scanGroup, k > 1 { order = groupedByScan(order, size: k) }
        var global = makeBatches(order, batchSize: batchSize, maxPerScan: maxPerScan)
        let rounds: Int
        if dropLast {
            if let last = global.last, last.count < batchSize { global.removeLast() }
            rounds = global.count / worldSize
            global = Array(global.prefix(rounds * worldSize))
        } else {
            rounds = (global.count + worldSize - 1) / worldSize
            // Pad: complete the last batch, then add whole batches, wrapping around the order.
            var wrap = 0
            func nextItem() -> LoaderItem? {
                guard !order.isEmpty else { return nil }
                defer { wrap += 1 }
                return order[wrap % order.count]
            }
            if var last = global.popLast() {
                while last.count < batchSize, let item = nextItem() { last.append(item) }
                global.append(last)
            }
            while global.count < rounds * worldSize {
                var batch: [LoaderItem] = []
                while batch.count < batchSize, let item = nextItem() { batch.append(item) }
                global.append(batch)
            }
        }
        return EpochPlan(batches: global, batchesPerRank: rounds)
    }

    /// This rank's i-th batch.
    public func batch(rank: Int, worldSize: Int, step: Int) -> [LoaderItem] {
        batches[step * worldSize + rank]
    }

    /// The spec's step 2b: the permutation regrouped into runs of `size` items of one scan, so
    /// that a batch holds other moments of a clip's own scan among its negatives. Walking the
    /// permutation, each item joins its scan's open run; a run is emitted when it is full; the
    /// runs still open at the end follow, in the order they were opened.
    static func groupedByScan(_ order: [LoaderItem], size: Int) -> [LoaderItem] {
        var out: [LoaderItem] = []
        out.reserveCapacity(order.count)
        var open: [Int: [LoaderItem]] = [:]
        var opened: [Int] = []
        for item in order {
            if open[item.scan] == nil { opened.append(item.scan) }
            open[item.scan, default: []].append(item)
            if let run = open[item.scan], run.count == size {
                out += run
                open[item.scan] = nil
                opened.removeAll { $0 == item.scan }
            }
        }
        for scan in opened { out += open[scan] ?? [] }
        return out
    }

    static func makeBatches(_ order: [LoaderItem], batchSize: Int, maxPerScan: Int?) -> [[LoaderItem]] {
        guard let cap = maxPerScan else {
            return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
        }
        var batches: [[LoaderItem]] = []
        var waiting: [LoaderItem] = []
        var next = 0
        while next < order.count || !waiting.isEmpty {
            var batch: [LoaderItem] = []
            var perScan: [Int: Int] = [:]
            var stillWaiting: [LoaderItem] = []
            for item in waiting {
                if batch.count < batchSize, perScan[item.scan, default: 0] < cap {
                    batch.append(item); perScan[item.scan, default: 0] += 1
                } else { stillWaiting.append(item) }
            }
            while batch.count < batchSize && next < order.count {
                let item = order[next]
                next += 1
                if perScan[item.scan, default: 0] < cap {
                    batch.append(item); perScan[item.scan, default: 0] += 1
                } else { stillWaiting.append(item) }
            }
            if batch.isEmpty {  // only capped items left: let them through rather than loop
                batch = Array(stillWaiting.prefix(batchSize))
                stillWaiting.removeFirst(batch.count)
            }
            waiting = stillWaiting
            batches.append(batch)
        }
        return batches
    }
}
