import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoEval
import SonoModels
import SonoShards
import SonoTensor

/// Where a fine-tuned image encoder starts.
public enum FineTuneStart: Sendable, Equatable {
    /// torchvision's initialisation of a ResNet-18 of this size (seeded).
    case random(ModelSize)
    /// A torchvision `resnet18` safetensors file (ImageNet weights); ImageNet normalisation.
    case imagenet(String)
    /// The image encoder of a sono-train checkpoint (`last`, `best` or `encoders`).
    case checkpoint(String)

    /// Parses `random`, `random:tiny`, `imagenet:FILE`, `checkpoint:FILE`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("random", 1): self = .random(.full)
        case ("random", 2): guard let size = ModelSize(rawValue: parts[1]) else { throw InputError(path: "--init", reason: "random:SIZE takes \(ModelSize.allCases.map(\.rawValue).joined(separator: ", ")), not \(parts[1])") }; self = .random(size)
        case ("imagenet", 2): self = .imagenet(parts[1])
        case ("checkpoint", 2): self = .checkpoint(parts[1])
        default: throw InputError(path: "--init", reason: "\(text): expected random[:tiny], imagenet:FILE or checkpoint:FILE")
        }
    }

    public var description: String {
        switch self {
        case .random(let s): return "random:\(s.rawValue)"
        case .imagenet(let f): return "imagenet:\(f)"
        case .checkpoint(let f): return "checkpoint:\(f)"
        }
    }
}

/// Settings of a standard-plane fine-tuning (`sono-finetune planes`).
public struct FineTuneConfig: Sendable {
    public var dataset: String
    public var start: FineTuneStart = .random(.full)
    public var epochs = 10
    public var batchSize = 16
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 1e-4
    /// Per-clip random horizontal flip and shift (pixels) of the frames, as the loader's.
    public var flip = true
    /// nil: the frame side / 16 (8 pixels on 128² frames), so small frames move as far in proportion.
    public var maxShift: Int?
    public var seed: UInt64 = 0
    /// Plane detection's loss: plain cross-entropy, or weighted by class frequency.
    public var classWeighting: ClassWeighting = .none
    /// Plane detection's encoder: the image encoder on the frames, or the video encoder on the
    /// clips stored with them (`[frames] clip_s`).
    public var encoder: FeatureEncoder = .image
    public var threads = 2

    public init(dataset: String) { self.dataset = dataset }
}

extension FineTuneConfig {
    /// The start's image encoder and the input its weights want: as the start's weights were
    /// trained (a sono-train checkpoint's `[normalize]`; ImageNet's statistics after the gray repeat).
    func startEncoder() throws -> (ResNet18, FrameInput) {
        switch start {
        case .random(let size):
            // As the encoders of a run with sono-train's default input (the baseline of its checkpoints).
            return (ResNet18(size.image, initialization: .torchvision(seed: seed &+ 2)), FrameInput(pixels: PixelInput(perSample: RunConfig().perSample)))
        case .imagenet(let file):
            let encoder = ResNet18(ModelSize.full.image, initialization: .zeros)
            _ = try PretrainedWeights.load(file, into: encoder)
            return (encoder, FrameInput(normalization: PretrainedLayout.torchvisionResNet18.inputNormalization))
        case .checkpoint(let file):
            let frozen = try FrozenEncoders(checkpoint: file)
            frozen.image.setTraining(true)
            return (frozen.image, FrameInput(pixels: frozen.pixels, normalization: frozen.imageNormalization))
        }
    }

    /// The start's video encoder and its input, as `startEncoder` for the image encoder.
    func startVideoEncoder() throws -> (R2Plus1D18, FrameInput) {
        switch start {
        case .random(let size):
            return (R2Plus1D18(size.video, initialization: .torchvision(seed: seed &+ 1)), FrameInput(pixels: PixelInput(perSample: RunConfig().perSample)))
        case .imagenet(let file):
            throw InputError(path: file, reason: "imagenet:FILE holds a ResNet-18 (the image encoder): the video encoder starts from random or checkpoint:FILE")
        case .checkpoint(let file):
            let frozen = try FrozenEncoders(checkpoint: file)
            frozen.video.setTraining(true)
            return (frozen.video, FrameInput(pixels: frozen.pixels, normalization: frozen.videoNormalization))
        }
    }

    /// The encoder `encoder` names, from the start.
    func startTunedEncoder() throws -> TunedEncoder {
        switch encoder {
        case .image:
            let (e, input) = try startEncoder()
            return TunedEncoder(field: .image, module: e, outputFeatures: e.outputFeatures, input: input) { e($0) }
        case .video:
            let (e, input) = try startVideoEncoder()
            return TunedEncoder(field: .video, module: e, outputFeatures: e.outputFeatures, input: input) { e($0) }
        case .audio:
            throw InputError(path: "--encoder", reason: "labelled frames have no audio: fine-tune the image or the video encoder")
        }
    }

    /// SHA-256 of the start's weights file ("" for random).
    func startHash() throws -> String {
        switch start {
        case .random: return ""
        case .imagenet(let f), .checkpoint(let f):
            guard let data = FileManager.default.contents(atPath: f) else { throw InputError(path: f, reason: "cannot read the start's weights") }
            return SHA256.hex(data)
        }
    }

    /// This config with the frame-size-dependent defaults filled in.
    func resolved(frameSize: Int) -> FineTuneConfig {
        var c = self
        if c.maxShift == nil { c.maxShift = frameSize / 16 }
        return c
    }

    /// Frame `row`'s flip and shift in `epoch` (seeded per epoch and frame). The shift is drawn
    /// in steps of `unit` pixels, so that maps `unit` times coarser than the frame move with it.
    func jitter(epoch: Int, row: Int, unit: Int = 1) -> FrameJitter {
        var rng = SeededGenerator(seed: seed &+ UInt64(epoch) &* 1_000_003, stream: UInt64(row))
        let flip = self.flip && rng.next() & 1 == 1
        let steps = (maxShift ?? 0) / max(1, unit)
        let dx = steps > 0 ? Int.random(in: -steps...steps, using: &rng) * unit : 0
        let dy = steps > 0 ? Int.random(in: -steps...steps, using: &rng) * unit : 0
        return FrameJitter(flip: flip, dx: dx, dy: dy)
    }
}

/// How frames become the encoder's input.
struct FrameInput {
    var pixels = PixelInput()
    var normalization: InputNormalization?
}

/// The encoder a fine-tune trains, its input, and its pooled forward pass.
struct TunedEncoder {
    /// image: on the frames; video: on the clips stored with them. Also the prefix of its keys
    /// in the fold's weights (as sono-train's).
    let field: FeatureEncoder
    let module: any Module
    let outputFeatures: Int
    let input: FrameInput
    let forward: (Tensor) -> Tensor

    /// The encoder's input for `rows` of `data`, each moved by its jitter (none when empty).
    func batch(_ data: FineTuneFrames, rows: [Int], jitter: [FrameJitter] = []) -> Tensor {
        field == .video ? data.clipBatch(rows: rows, input: input, jitter: jitter) : data.batch(rows: rows, input: input, jitter: jitter)
    }

    func callAsFunction(_ data: FineTuneFrames, rows: [Int], jitter: [FrameJitter] = []) -> Tensor { forward(batch(data, rows: rows, jitter: jitter)) }
}

/// One frame's augmentation: a horizontal flip, then a shift (pixels; what it exposes is black).
struct FrameJitter {
    var flip = false, dx = 0, dy = 0

    /// out[y][x] = src[y − dy][x − dx], the source column mirrored first when `flip`; `fill` where exposed.
    func apply<T>(_ src: [T], side s: Int, fill: T, into out: inout [T], at offset: Int) {
        for y in 0..<s {
            let sy = y - dy
            for x in 0..<s {
                var sx = x - dx
                guard sy >= 0 && sy < s && sx >= 0 && sx < s else { out[offset + y * s + x] = fill; continue }
                if flip { sx = s - 1 - sx }
                out[offset + y * s + x] = src[sy * s + sx]
            }
        }
    }

    /// The same move on a map `factor` times coarser than the frame (the shift divides by it).
    func scaled(down factor: Int) -> FrameJitter { FrameJitter(flip: flip, dx: dx / factor, dy: dy / factor) }
}

/// What both fine-tunes do around their model: the engine set up, the dataset with its folds by
/// scan (at least two), its frames in memory, the config with its frame-size defaults, and the
/// folds run in order, each finished one stored in `fold-K.json` and kept by a rerun.
struct FoldedRun {
    let dataset: DatasetRecord
    let folds: [String: Int]
    let data: FineTuneFrames
    let config: FineTuneConfig
    let out: String

    init(config given: FineTuneConfig, catalog: Catalog, out: String) throws {
        Engine.setThreads(given.threads)
        Engine.reuseFreedMemory()
        dataset = try catalog.latestDataset(named: given.dataset)
        folds = try catalog.folds(datasetID: dataset.id ?? -1)
        guard Set(folds.values).count >= 2 else { throw InputError(path: catalog.path, reason: "dataset \(dataset.label) has fewer than two folds (add [folds] to its recipe)") }
        data = try FineTuneFrames(catalog: catalog, dataset: dataset, clips: given.encoder == .video)
        if given.encoder == .video, data.clipFrames == nil {
            throw InputError(path: catalog.path, reason: "dataset \(dataset.label) holds no clips around its frames (give its recipe's [frames] clip_s and clip_frames): the video encoder needs them")
        }
        config = given.resolved(frameSize: data.size)
        self.out = out
    }

    /// `OUT/fold-K.<suffix>`.
    func file(fold: Int, _ suffix: String) -> String { URL(fileURLWithPath: out).appendingPathComponent("fold-\(fold).\(suffix)").path }

    /// The frames (among `rows`) of the other folds' scans and of this fold's.
    func split(fold: Int, of rows: [Int]) -> (train: [Int], test: [Int]) {
        (rows.filter { folds[data.scans[$0]].map { $0 != fold } ?? false }, rows.filter { folds[data.scans[$0]] == fold })
    }

    /// Each fold in order: the result a run stored for it, else `body`'s, then stored.
    func eachFold<Result: Codable>(log: (String) -> Void, _ body: (Int) throws -> Result) throws -> [Result] {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var results: [Result] = []
        for fold in Set(folds.values).sorted() {
            let stored = URL(fileURLWithPath: file(fold: fold, "json"))
            if let done = try? JSONDecoder().decode(Result.self, from: Data(contentsOf: stored)) {
                log("fold \(fold): done before, kept")
                results.append(done)
                continue
            }
            let result = try body(fold)
            try EvalJSON.encode(result).write(to: stored)
            results.append(result)
        }
        return results
    }
}

/// A labelled frame dataset in memory: each frame's pixels, class index and scan, and for
/// saliency datasets its gaze map and fixation map.
struct FineTuneFrames {
    var pixels: [[UInt8]] = []
    /// Each frame's clip ([clipFrames, size, size]), when the dataset stores them and they were asked for.
    var clips: [[UInt8]] = []
    var clipFrames: Int?
    var labels: [Int] = []
    var scans: [String] = []
    var density: [[Float]] = []
    var fixations: [[UInt8]] = []
    var size = 0
    var mapSize: Int?

    /// `clips`: load the clips stored with the frames too (the video encoder's input; 14 frames
    /// each, so only when asked).
    init(catalog: Catalog, dataset: DatasetRecord, clips withClips: Bool = false) throws {
        guard let layout = dataset.layout, let shape = FrameRecordShape(layout: layout) else {
            throw InputError(path: catalog.path, reason: "dataset \(dataset.label) is not a labelled frame dataset")
        }
        var readers: [Int64: ShardReader] = [:]
        for shard in try catalog.shards(datasetID: dataset.id ?? -1) { readers[shard.id ?? -1] = try catalog.openShard(shard, of: dataset) }
        size = shape.size
        mapSize = shape.mapSize
        clipFrames = withClips ? shape.clipFrames : nil
        for slot in try catalog.recordSlots(datasetID: dataset.id ?? -1) {
            guard let reader = readers[slot.shardID] else { continue }
            guard reader.recordIsIntact(slot.slot) else { throw InputError(path: reader.path, reason: "record \(slot.slot) (clip \(slot.clipID)) fails its CRC-32C") }
            let record = reader.record(slot.slot)
            pixels.append(record.u8(FrameField.frame.rawValue))
            labels.append(Int(record.bytes(FrameField.label.rawValue).loadUnaligned(as: Int64.self)))
            scans.append(slot.scanID)
            if clipFrames != nil { clips.append(record.u8(.video)) }
            if mapSize != nil {
                density.append(Array(record.bytes(FrameField.gazeMap.rawValue).bindMemory(to: Float.self)))
                fixations.append(record.u8(FrameField.fixations.rawValue))
            }
        }
    }

    /// Frames `rows` as [B, 3, S, S] (the gray repeated), each moved by its jitter (none when empty).
    func batch(rows: [Int], input: FrameInput, jitter: [FrameJitter] = []) -> Tensor {
        let s = size
        var values = [Float](repeating: 0, count: rows.count * s * s)
        for (b, row) in rows.enumerated() {
            let frame = pixels[row].map(input.pixels.value)
            (jitter.isEmpty ? FrameJitter() : jitter[b]).apply(frame, side: s, fill: input.pixels.value(0), into: &values, at: b * s * s)
        }
        input.pixels.standardize(&values, sampleSize: s * s)
        let gray = Tensor(shape: [rows.count, 1, s, s], data: values)
        let rgb = Tensor.concat([gray, gray, gray], axis: 1)
        return input.normalization.map { $0.apply(to: rgb) } ?? rgb
    }

    /// The clips of `rows` as [B, 3, T, S, S] (the gray repeated), every frame of a clip moved
    /// by its jitter, each clip standardised as a whole when per-sample (as sono-train's clips).
    func clipBatch(rows: [Int], input: FrameInput, jitter: [FrameJitter] = []) -> Tensor {
        let s = size, t = clipFrames ?? 0, n = t * s * s
        var values = [Float](repeating: 0, count: rows.count * n)
        var frame = [Float](repeating: 0, count: s * s)
        for (b, row) in rows.enumerated() {
            let move = jitter.isEmpty ? FrameJitter() : jitter[b]
            for f in 0..<t {
                for k in 0..<(s * s) { frame[k] = input.pixels.value(clips[row][f * s * s + k]) }
                move.apply(frame, side: s, fill: input.pixels.value(0), into: &values, at: b * n + f * s * s)
            }
        }
        input.pixels.standardize(&values, sampleSize: n)
        let gray = Tensor(shape: [rows.count, 1, t, s, s], data: values)
        let rgb = Tensor.concat([gray, gray, gray], axis: 1)
        return input.normalization.map { $0.apply(to: rgb) } ?? rgb
    }

    /// The gaze maps of `rows` as [B, m·m], moved as their frames were and renormalised to sum 1
    /// (a shift can push gaze out of the map; a map left empty stays all zeros).
    func gazeMaps(rows: [Int], jitter: [FrameJitter] = []) -> [Float] {
        guard let m = mapSize else { return [] }
        var out = [Float](repeating: 0, count: rows.count * m * m)
        for (b, row) in rows.enumerated() {
            (jitter.isEmpty ? FrameJitter() : jitter[b].scaled(down: size / m)).apply(density[row], side: m, fill: 0, into: &out, at: b * m * m)
            let total = out[(b * m * m)..<((b + 1) * m * m)].reduce(0, +)
            if total > 0 { for k in (b * m * m)..<((b + 1) * m * m) { out[k] /= total } }
        }
        return out
    }
}

/// What a fine-tuned fold's safetensors file holds: each module's parameters and batch-norm
/// running statistics under its prefix (the encoder under "image", as sono-train's keys), then `extra`.
enum FineTunedWeights {
    static func parameters(_ modules: [(String, any Module)], extra: [(String, Tensor)] = []) -> [(String, Tensor)] {
        modules.flatMap { prefixed($0.0, $0.1.namedParameters()) } + extra
    }

    static func batchNorms(_ modules: [(String, any Module)]) -> [(String, BatchNorm)] {
        modules.flatMap { prefixed($0.0, $0.1.namedBatchNorms()) }
    }

    static func tensors(_ modules: [(String, any Module)], extra: [(String, Tensor)] = []) -> [(String, [Int], [Float])] {
        parameters(modules, extra: extra).map { ($0.0, $0.1.shape, $0.1.data) }
            + batchNorms(modules).flatMap { name, bn in
                [("\(name).running_mean", [bn.channels], bn.runningMean), ("\(name).running_var", [bn.channels], bn.runningVar)]
            }
    }
}

/// A fine-tune stopped on request (SIGINT/SIGTERM) at an epoch boundary; a rerun continues there.
public struct FineTuneStopped: Error, CustomStringConvertible {
    public let fold: Int, epochsDone: Int, path: String
    public var description: String { "stopped after fold \(fold)'s epoch \(epochsDone); the state is in \(path), a rerun continues there" }
}

/// A fold's training state at an epoch boundary (`fold-K.epoch.safetensors`): weights, running
/// statistics, Adam's moments and the epochs done. Every epoch's shuffle and augmentation are
/// seeded by (seed, fold, epoch), so continuing from it gives the straight run's result. It is
/// refused when the settings that shape training differ, and removed once the fold is done.
struct FoldCheckpoint {
    let path: String
    let modules: [(String, any Module)]
    let extra: [(String, Tensor)]
    /// The settings the state belongs to.
    let identity: [String: String]

    func save(_ optimizer: Adam, epochsDone: Int) throws {
        var tensors = FineTunedWeights.tensors(modules, extra: extra)
        var step = 0
        for (name, p) in FineTunedWeights.parameters(modules, extra: extra) {
            guard let s = optimizer.state(of: p) else { continue }
            tensors += [("optimizer.m.\(name)", p.shape, s.m), ("optimizer.v.\(name)", p.shape, s.v)]
            step = s.step
        }
        let temporary = path + ".partial"
        try SafeTensors.write(tensors, metadata: identity.merging(["epochs_done": "\(epochsDone)", "adam_step": "\(step)"]) { a, _ in a }, to: temporary)
        guard rename(temporary, path) == 0 else { throw InputError(path: path, reason: Errno.reason("cannot rename \(temporary)")) }
    }

    /// Restores the state if there is one; the epochs already done (0 without a file).
    func restore(_ optimizer: Adam) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        let file: SafeTensors.File
        do { file = try SafeTensors.read(path) } catch { throw InputError(path: path, reason: "not a readable fine-tune state (\(error.localizedDescription))") }
        let changed = identity.keys.sorted().filter { file.metadata[$0] != identity[$0] }
        guard changed.isEmpty else {
            throw InputError(path: path, reason: "made with other settings (" + changed.map { "\($0) \(file.metadata[$0] ?? "–") → \(identity[$0] ?? "–")" }.joined(separator: "; ")
                + "): rerun with them, or delete it to start the fold again")
        }
        let stored = Dictionary(file.tensors.map { ($0.0, $0.2) }, uniquingKeysWith: { a, _ in a })
        func values(_ name: String, count: Int) throws -> [Float] {
            guard let v = stored[name], v.count == count else { throw InputError(path: path, reason: "missing or misshapen tensor \(name)") }
            return v
        }
        let step = Int(file.metadata["adam_step"] ?? "0") ?? 0
        for (name, p) in FineTunedWeights.parameters(modules, extra: extra) {
            p.data = try values(name, count: p.count)
            if step > 0, stored["optimizer.m.\(name)"] != nil {
                optimizer.restoreState(of: p, AdamMoments(m: try values("optimizer.m.\(name)", count: p.count), v: try values("optimizer.v.\(name)", count: p.count), step: step))
            }
        }
        for (name, bn) in FineTunedWeights.batchNorms(modules) {
            bn.runningMean = try values("\(name).running_mean", count: bn.channels)
            bn.runningVar = try values("\(name).running_var", count: bn.channels)
        }
        guard let done = Int(file.metadata["epochs_done"] ?? "") else { throw InputError(path: path, reason: "lacks epochs_done") }
        return done
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

extension FineTuneConfig {
    /// What a fold's saved state must agree on to be continued.
    var identity: [String: String] {
        ["format": "sonodual-finetune-state-v1", "dataset": dataset, "start": start.description, "epochs": "\(epochs)", "batch_size": "\(batchSize)",
         "lr": "\(learningRate)", "weight_decay": "\(weightDecay)", "flip": "\(flip)", "max_shift": "\(maxShift ?? 0)", "seed": "\(seed)",
         "class_weighting": classWeighting.rawValue, "encoder": encoder.rawValue]
    }

    /// Trains one fold on `rows`: per epoch a seeded shuffle (seed, fold, epoch), batches of
    /// `batchSize` (the last kept when it has two frames, which batch norm needs), `loss(batch
    /// rows, epoch)`, backward and an Adam step; the state saved after each epoch, continued from
    /// it on a rerun, and `FineTuneStopped` thrown after saving when `stop` is requested.
    func trainFold(rows: [Int], fold: Int, checkpoint: FoldCheckpoint, stop: StopRequest?, log: (String) -> Void,
                   lossName: String, _ loss: ([Int], Int) -> Tensor) throws {
        let parameters = FineTunedWeights.parameters(checkpoint.modules, extra: checkpoint.extra).map(\.1)
        let optimizer = Adam([ParameterGroup(parameters, learningRate: learningRate, weightDecay: weightDecay)])
        let done = try checkpoint.restore(optimizer)
        if done > 0 { log("fold \(fold): continuing after epoch \(done) (\(checkpoint.path))") }
        for epoch in done..<epochs {
            var order = rows
            var rng = SeededGenerator(seed: seed, stream: UInt64(fold * 10_007 + epoch))
            order.shuffle(using: &rng)
            var total: Float = 0, batches = 0, start = 0
            while start + 1 < order.count {
                let chunk = Array(order[start..<min(order.count, start + batchSize)])
                start += chunk.count
                guard chunk.count >= 2 else { break }
                let value = loss(chunk, epoch)
                value.backward()
                optimizer.step()
                optimizer.zeroGrad()
                total += value.item
                batches += 1
            }
            log(String(format: "fold %d epoch %d: %@ %.4f", fold, epoch + 1, lossName, total / Float(max(1, batches))))
            try checkpoint.save(optimizer, epochsDone: epoch + 1)
            if let stop, stop.isRequested, epoch + 1 < epochs { throw FineTuneStopped(fold: fold, epochsDone: epoch + 1, path: checkpoint.path) }
        }
    }
}

/// How the plane classifier's cross-entropy weighs the classes.
public enum ClassWeighting: String, Codable, Sendable, CaseIterable {
    case none
    /// scikit-learn's `class_weight="balanced"`: w_c = n / (K · n_c) over the fold's training
    /// frames (K classes present), so a rare plane counts as much as the background.
    case balanced

    /// The weights of `classes` classes for these training labels (1 for a class absent from them).
    func weights(labels: [Int], classes: Int) -> [Float]? {
        guard self == .balanced else { return nil }
        var counts = [Int](repeating: 0, count: classes)
        for l in labels { counts[l] += 1 }
        let present = counts.filter { $0 > 0 }.count
        return counts.map { $0 > 0 ? Float(labels.count) / Float(present * $0) : 1 }
    }
}
