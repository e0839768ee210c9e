import CSonoKernels
import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoShards

/// Options of a `ShardLoader`; the defaults serve a single-process trainer.
public struct LoaderOptions: Sendable {
    public var batchSize = 32
    public var rank = 0
    public var worldSize = 1
    /// Background threads assembling batches (each takes every `workers`-th batch).
    public var workers = 2
    /// Batches assembled ahead of the consumer (bounds memory: prefetch × batch bytes).
    public var prefetch = 4
    public var dropLast = true
    /// Only clips of this split; nil: all.
    public var split: Split?
    /// At most this many clips of one scan in a batch (contrastive negatives from one scan are weak).
    public var maxPerScan: Int?
    /// Batches made of runs of this many clips of one scan (EpochPlan.groupedByScan); nil: off.
    public var scanGroup: Int?
    /// Per-dataset weights (1 = each record once per epoch).
    public var weights: [Double]?
    /// (x/255 − mean) / std for video and still; nil leaves x/255.
    public var pixelNormalization: (mean: Float, std: Float)?
    /// Each still and each clip to zero mean and unit std after the above (`SampleStandardization`).
    public var standardizePerSample = false
    /// (x − mean) / std for the log-mel; nil leaves dB values.
    public var logMelNormalization: (mean: Float, std: Float)?
    /// Random flip and shift of frames, off by default.
    public var augmentation: Augmentation?

    public init() {}
}

/// One batch, contiguous Float32, ready for the model.
public struct Batch: Sendable {
    public var epoch: Int
    public var step: Int
    public var clipIDs: [Int64]
    /// [B, 1, T, H, W]
    public var video: [Float]
    /// [B, 1, H, W]
    public var still: [Float]
    /// [B, 1, F, M]
    public var logMel: [Float]
    public var frames: Int, size: Int, melFrames: Int, mels: Int
}

/// Shuffled, deterministic, resumable batches from the shards of one or more datasets.
///
/// The order is an `EpochPlan`; batches are assembled by background threads (`workers`), at
/// most `prefetch` ahead, so the consumer waits only if it is faster than the page cache.
/// ```swift
/// let loader = try ShardLoader(catalog: catalog, datasets: ["medium"], options: options, seed: 7)
/// while let batch = try loader.next() { … }      // one epoch; loader.state to checkpoint
/// ```
public final class ShardLoader: @unchecked Sendable {
    public let options: LoaderOptions
    public let items: [LoaderItem]
    public let layout: RecordLayout
    private let readers: [ShardReader]
    private let itemDataset: [Int]
    public private(set) var state: LoaderState
    private var plan: EpochPlan
    /// The (seed, epoch) `plan` was made for.
    private var planKey: (seed: UInt64, epoch: Int)?

    // Prefetching.
    private let lock = NSCondition()
    private var ready: [Int: Result<Batch, Error>] = [:]
    private var scheduled = 0
    private var generation = 0

    public init(catalog: Catalog, datasets names: [String], options: LoaderOptions, seed: UInt64) throws {
        self.options = options
        var readers: [ShardReader] = []
        var items: [LoaderItem] = []
        var itemDataset: [Int] = []
        var layout: RecordLayout? = nil
        var scans: [String: Int] = [:]
        for (d, name) in names.enumerated() {
            let dataset = try catalog.latestDataset(named: name)
            guard let id = dataset.id else { continue }
            let shards = try catalog.shards(datasetID: id)
            var shardIndex: [Int64: Int] = [:]
            for shard in shards {
                let reader = try catalog.openShard(shard, of: dataset)
                if let layout, layout != reader.layout {
                    throw InputError(path: reader.path, reason: "record layout differs from the other datasets' (batches need one shape)")
                }
                layout = reader.layout
                shardIndex[shard.id ?? -1] = readers.count
                readers.append(reader)
            }
            for row in try catalog.recordSlots(datasetID: id, split: options.split) {
                let scan = scans[row.scanID] ?? scans.count
                scans[row.scanID] = scan
                guard let shard = shardIndex[row.shardID] else { continue }
                items.append(LoaderItem(clipID: row.clipID, shard: shard, slot: row.slot, scan: scan, storageIndex: items.count))
                itemDataset.append(d)
            }
        }
        guard let layout, !items.isEmpty else {
            throw InputError(path: catalog.path, reason: "no extracted records in \(names.joined(separator: ","))\(options.split.map { " (split \($0.rawValue))" } ?? "")")
        }
        for field in ClipField.allCases where layout.field(field) == nil {
            throw InputError(path: catalog.path, reason: "records lack the field \(field.rawValue)")
        }
        self.readers = readers
        self.items = items
        self.itemDataset = itemDataset
        self.layout = layout
        state = LoaderState(seed: seed)
        plan = EpochPlan(batches: [], batchesPerRank: 0)
        try restore(state)
    }

    deinit {
        lock.lock()
        generation += 1  // let in-flight work see it is stale
        lock.unlock()
    }

    /// Batches per epoch for this rank.
    public var batchesPerEpoch: Int { plan.batchesPerRank }

    /// Continues exactly where `state` says; O(records) to rebuild the epoch's permutation.
    public func restore(_ state: LoaderState) throws {
        lock.lock()
        generation += 1
        ready = [:]
        self.state = state
        scheduled = state.step
        lock.unlock()
        if planKey?.seed != state.seed || planKey?.epoch != state.epoch {
            plan = plan(epoch: state.epoch)
            planKey = (state.seed, state.epoch)
        }
        schedule()
    }

    /// The plan of `epoch` (for `sono-inspect order` and tests).
    public func plan(epoch: Int) -> EpochPlan {
        let dataset = itemDataset
        return EpochPlan.make(items: items, weights: options.weights, datasetOf: options.weights == nil ? nil : { dataset[$0.storageIndex] },
                              seed: state.seed, epoch: epoch, batchSize: options.batchSize, worldSize: options.worldSize,
                              dropLast: options.dropLast, maxPerScan: options.maxPerScan, scanGroup: options.scanGroup)
    }

    /// The next batch of this epoch, or nil at its end (the state then points at the next epoch).
    public func next() throws -> Batch? {
        lock.lock()
        let step = state.step
        if step >= plan.batchesPerRank {
            lock.unlock()
            try restore(LoaderState(seed: state.seed, epoch: state.epoch + 1, step: 0))
            return nil
        }
        while ready[step] == nil { lock.wait() }
        let result = ready.removeValue(forKey: step)!
        state.step += 1
        lock.unlock()
        schedule()
        return try result.get()
    }

    /// Queues batches up to `prefetch` ahead on the workers.
    private func schedule() {
        lock.lock()
        defer { lock.unlock() }
        // At least the batch the consumer waits for, whatever `prefetch` says (0 must not hang).
        while scheduled < min(state.step + max(1, options.prefetch), plan.batchesPerRank) {
            let step = scheduled
            scheduled += 1
            let batchItems = plan.batch(rank: options.rank, worldSize: options.worldSize, step: step)
            let myGeneration = generation
            let epoch = state.epoch
            let seed = state.seed
            Self.queues[step % max(1, options.workers) % Self.queues.count].async { [weak self] in
                guard let self else { return }
                let result = Result { try self.assemble(batchItems, epoch: epoch, step: step, seed: seed) }
                self.lock.lock()
                if self.generation == myGeneration { self.ready[step] = result }
                self.lock.broadcast()
                self.lock.unlock()
            }
        }
    }

    private static let queues = (0..<8).map { DispatchQueue(label: "sonodual.loader.\($0)") }

    /// Copies and converts one batch's records (zero-copy reads from the mapped shards).
    func assemble(_ batch: [LoaderItem], epoch: Int, step: Int, seed: UInt64) throws -> Batch {
        guard let v = layout.field(.video), layout.field(.still) != nil, let m = layout.field(.logmel) else {
            throw InputError(path: "", reason: "layout lacks fields")
        }
        let (t, h, w) = (v.shape[0], v.shape[1], v.shape[2])
        let (f, mels) = (m.shape[0], m.shape[1])
        let frameSize = h * w
        let pixelScale: Float, pixelBias: Float
        if let n = options.pixelNormalization {
            pixelScale = 1 / (255 * n.std); pixelBias = -n.mean / n.std
        } else {
            pixelScale = 1 / 255; pixelBias = 0
        }
        let melScale = options.logMelNormalization.map { 1 / $0.std } ?? 1
        let melBias = options.logMelNormalization.map { -$0.mean / $0.std } ?? 0
        // Every element is written below: skip zero-filling (it would double the memory traffic).
        func uninitialized(_ count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
            [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                fill(buffer.baseAddress!)
                initialized = count
            }
        }
        if options.augmentation != nil, h != w {
            throw InputError(path: "", reason: "augmentation needs square frames (records are \(w)×\(h))")
        }
        let augmentations = batch.map {
            options.augmentation?.draw(seed: seed, clipID: $0.clipID, epoch: epoch, size: w) ?? (video: FrameTransform(), still: FrameTransform())
        }
        let records = batch.map { readers[$0.shard].record($0.slot) }
        func convert(_ src: UnsafePointer<UInt8>, _ transform: FrameTransform, into dst: UnsafeMutablePointer<Float>) {
            if transform.isIdentity {
                sono_u8_to_f32(src, dst, frameSize, pixelScale, pixelBias)  // also for non-square records
            } else {
                transform.apply(src, side: w, into: dst, scale: pixelScale, bias: pixelBias)
            }
        }
        let standardize = options.standardizePerSample
        let video = uninitialized(batch.count * t * frameSize) { out in
            for (b, record) in records.enumerated() {
                let src = record.bytes(.video).baseAddress!.assumingMemoryBound(to: UInt8.self)
                for k in 0..<t {
                    convert(src + k * frameSize, augmentations[b].video, into: out + (b * t + k) * frameSize)
                }
                if standardize { SampleStandardization.apply(out + b * t * frameSize, count: t * frameSize) }
            }
        }
        let still = uninitialized(batch.count * frameSize) { out in
            for (b, record) in records.enumerated() {
                convert(record.bytes(.still).baseAddress!.assumingMemoryBound(to: UInt8.self), augmentations[b].still,
                        into: out + b * frameSize)
                if standardize { SampleStandardization.apply(out + b * frameSize, count: frameSize) }
            }
        }
        let logMel = uninitialized(batch.count * f * mels) { out in
            for (b, record) in records.enumerated() {
                // Fields are 64-byte aligned in the record: the log-mel is aligned for UInt16.
                let mel = record.bytes(.logmel).baseAddress!.assumingMemoryBound(to: UInt16.self)
                sono_f16_to_f32(mel, out + b * f * mels, f * mels, melScale, melBias)
            }
        }
        return Batch(epoch: epoch, step: step, clipIDs: batch.map(\.clipID), video: video, still: still, logMel: logMel,
                     frames: t, size: h, melFrames: f, mels: mels)
    }
}
