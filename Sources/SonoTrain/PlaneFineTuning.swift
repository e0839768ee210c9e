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
        case ("random", 2): guard let size = ModelSize(rawValue: parts[1]) else { throw InputError(path: "--init", reason: "random:SIZE takes full or tiny") }; self = .random(size)
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
    public var maxShift = 8
    public var seed: UInt64 = 0
    public var threads = 2

    public init(dataset: String) { self.dataset = dataset }
}

/// What a fine-tuning reports: per fold by scan, the test fold's metrics; their mean (sd).
public struct FineTuneReport: Codable, Sendable {
    public var dataset: String
    public var start: String
    /// SHA-256 of the start's weights file ("" for random).
    public var startHash: String
    public var classes: [String]
    public var folds: [ClassificationMetrics]
    public var summary: FoldSummary
    public var epochs: Int, batchSize: Int, learningRate: Float, seed: UInt64
}

/// Standard-plane detection by fine-tuning the image encoder (ResNet-18) with a new linear head
/// and cross-entropy, per fold of the dataset's folds by scan: train on the other folds' scans,
/// test on the fold's. Each finished fold is written (`fold-K.json`, `fold-K.safetensors`), and a
/// rerun skips it: an interrupted run resumes at the fold it was in.
public final class PlaneFineTuning {
    public let config: FineTuneConfig
    public var log: (String) -> Void = { _ in }

    public init(config: FineTuneConfig) { self.config = config }

    struct Frames {
        var pixels: [[UInt8]] = []
        var labels: [Int] = []
        var scans: [String] = []
        var size = 0
    }

    public func run(catalog: Catalog, out: String) throws -> FineTuneReport {
        Engine.setThreads(config.threads)
        Engine.reuseFreedMemory()
        let dataset = try catalog.latestDataset(named: config.dataset)
        let folds = try catalog.folds(datasetID: dataset.id ?? -1)
        guard Set(folds.values).count >= 2 else { throw InputError(path: catalog.path, reason: "dataset \(dataset.label) has fewer than two folds (add [folds] to its recipe)") }
        let data = try load(catalog: catalog, dataset: dataset)
        let present = Set(data.labels).sorted()
        let classList = dataset.parsedRecipe?.frames?.classes ?? .paper
        let classes = try ClassList(present.map { classList[$0] })
        let index = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($0.element, $0.offset) })
        let labels = data.labels.map { index[$0] ?? 0 }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var metrics: [ClassificationMetrics] = []
        for fold in Set(folds.values).sorted() {
            let reportURL = URL(fileURLWithPath: out).appendingPathComponent("fold-\(fold).json")
            if let done = try? JSONDecoder().decode(ClassificationMetrics.self, from: Data(contentsOf: reportURL)) {
                log("fold \(fold): done before, kept")
                metrics.append(done)
                continue
            }
            let trainRows = data.scans.indices.filter { folds[data.scans[$0]].map { $0 != fold } ?? false }
            let test = data.scans.indices.filter { folds[data.scans[$0]] == fold }
            let (encoder, head, input) = try model(classes: classes.count)
            try train(encoder, head, input, data: data, labels: labels, rows: trainRows, fold: fold)
            let predicted = predict(encoder, head, input, data: data, rows: test)
            let m = try ClassificationMetrics(trueLabels: test.map { labels[$0] }, predicted: predicted, classes: classes)
            log(String(format: "fold %d: %d train, %d test frames; accuracy %.3f, macro F1 %.3f", fold, trainRows.count, test.count, m.accuracy, m.macroSubset.f1))
            let tensors = prefixed("image", encoder.namedParameters()).map { ($0.0, $0.1.shape, $0.1.data) }
                + prefixed("head", [("weight", head.weight), ("bias", head.bias)]).map { ($0.0, $0.1.shape, $0.1.data) }
                + prefixed("image", encoder.namedBatchNorms()).flatMap { name, bn in
                    [("\(name).running_mean", [bn.channels], bn.runningMean), ("\(name).running_var", [bn.channels], bn.runningVar)]
                }
            try SafeTensors.write(tensors, metadata: ["classes": classes.ids.joined(separator: ","), "fold": "\(fold)", "start": config.start.description],
                                  to: URL(fileURLWithPath: out).appendingPathComponent("fold-\(fold).safetensors").path)
            try EvalJSON.encode(m).write(to: reportURL)
            metrics.append(m)
        }
        return FineTuneReport(dataset: dataset.label, start: config.start.description, startHash: try startHash(), classes: classes.ids,
                              folds: metrics, summary: try FoldSummary(metrics), epochs: config.epochs, batchSize: config.batchSize,
                              learningRate: config.learningRate, seed: config.seed)
    }

    private func startHash() throws -> String {
        switch config.start {
        case .random: return ""
        case .imagenet(let f), .checkpoint(let f):
            guard let data = FileManager.default.contents(atPath: f) else { throw InputError(path: f, reason: "cannot read the start's weights") }
            return SHA256.hex(data)
        }
    }

    /// How frames become the encoder's input: as the start's weights were trained (a sono-train
    /// checkpoint's `[normalize]`; ImageNet's statistics after the gray repeat).
    struct FrameInput {
        var pixels = PixelInput()
        var normalization: InputNormalization?
    }

    /// The start's encoder, a new head, and the input its weights want.
    private func model(classes: Int) throws -> (ResNet18, LinearLayer, FrameInput) {
        switch config.start {
        case .random(let size):
            // As the encoders of a run with sono-train's default input (the baseline of its checkpoints).
            let encoder = ResNet18(size.image, initialization: .torchvision(seed: config.seed &+ 2))
            return (encoder, LinearLayer(encoder.outputFeatures, classes, initialization: .torchvision(seed: config.seed), salt: 31),
                    FrameInput(pixels: PixelInput(perSample: RunConfig().perSample)))
        case .imagenet(let file):
            let encoder = ResNet18(ModelSize.full.image, initialization: .zeros)
            _ = try PretrainedWeights.load(file, into: encoder)
            return (encoder, LinearLayer(encoder.outputFeatures, classes, initialization: .torchvision(seed: config.seed), salt: 31),
                    FrameInput(normalization: PretrainedLayout.torchvisionResNet18.inputNormalization))
        case .checkpoint(let file):
            let frozen = try FrozenEncoders(checkpoint: file)
            frozen.image.setTraining(true)
            return (frozen.image, LinearLayer(frozen.image.outputFeatures, classes, initialization: .torchvision(seed: config.seed), salt: 31),
                    FrameInput(pixels: frozen.pixels, normalization: frozen.imageNormalization))
        }
    }

    private func load(catalog: Catalog, dataset: DatasetRecord) throws -> Frames {
        guard let layout = dataset.layout, let shape = FrameRecordShape(layout: layout) else {
            throw InputError(path: catalog.path, reason: "dataset \(dataset.label) is not a labelled frame dataset")
        }
        var readers: [Int64: ShardReader] = [:]
        for shard in try catalog.shards(datasetID: dataset.id ?? -1) { readers[shard.id ?? -1] = try catalog.openShard(shard, of: dataset) }
        var frames = Frames()
        frames.size = shape.size
        for slot in try catalog.recordSlots(datasetID: dataset.id ?? -1) {
            guard let reader = readers[slot.shardID] else { continue }
            guard reader.recordIsIntact(slot.slot) else { throw InputError(path: reader.path, reason: "record \(slot.slot) (clip \(slot.clipID)) fails its CRC-32C") }
            let record = reader.record(slot.slot)
            frames.pixels.append(record.u8(FrameField.frame.rawValue))
            frames.labels.append(Int(record.bytes(FrameField.label.rawValue).loadUnaligned(as: Int64.self)))
            frames.scans.append(slot.scanID)
        }
        return frames
    }

    /// A batch of frames as [B, 3, S, S], augmented when `augment` (seeded per epoch and frame).
    private func batch(_ data: Frames, rows: [Int], input: FrameInput, augment: (epoch: Int, on: Bool)) -> Tensor {
        let s = data.size
        var values = [Float](repeating: input.pixels.value(0), count: rows.count * s * s)  // black where a shift exposes
        for (b, row) in rows.enumerated() {
            var rng = SeededGenerator(seed: config.seed &+ UInt64(augment.epoch) &* 1_000_003, stream: UInt64(row))
            let flip = augment.on && config.flip && rng.next() & 1 == 1
            let dx = augment.on && config.maxShift > 0 ? Int.random(in: -config.maxShift...config.maxShift, using: &rng) : 0
            let dy = augment.on && config.maxShift > 0 ? Int.random(in: -config.maxShift...config.maxShift, using: &rng) : 0
            let px = data.pixels[row]
            for y in 0..<s {
                let sy = y - dy
                guard sy >= 0 && sy < s else { continue }
                for x in 0..<s {
                    var sx = x - dx
                    guard sx >= 0 && sx < s else { continue }
                    if flip { sx = s - 1 - sx }
                    values[(b * s + y) * s + x] = input.pixels.value(px[sy * s + sx])
                }
            }
        }
        input.pixels.standardize(&values, sampleSize: s * s)
        let gray = Tensor(shape: [rows.count, 1, s, s], data: values)
        let rgb = Tensor.concat([gray, gray, gray], axis: 1)
        return input.normalization.map { $0.apply(to: rgb) } ?? rgb
    }

    private func train(_ encoder: ResNet18, _ head: LinearLayer, _ input: FrameInput, data: Frames, labels: [Int], rows: [Int], fold: Int) throws {
        encoder.setTraining(true)
        let parameters = encoder.namedParameters().map(\.1) + [head.weight, head.bias]
        let optimizer = Adam([ParameterGroup(parameters, learningRate: config.learningRate, weightDecay: config.weightDecay)])
        for epoch in 0..<config.epochs {
            var order = rows
            var rng = SeededGenerator(seed: config.seed, stream: UInt64(fold * 10_007 + epoch))
            order.shuffle(using: &rng)
            var total: Float = 0, batches = 0
            var start = 0
            while start + 1 < order.count {  // batch norm needs at least two frames
                let chunk = Array(order[start..<min(order.count, start + config.batchSize)])
                start += chunk.count
                guard chunk.count >= 2 else { break }
                let loss = head(encoder(batch(data, rows: chunk, input: input, augment: (epoch, true)))).crossEntropy(targets: chunk.map { labels[$0] })
                loss.backward()
                optimizer.step()
                optimizer.zeroGrad()
                total += loss.item
                batches += 1
            }
            log(String(format: "fold %d epoch %d: loss %.4f", fold, epoch + 1, total / Float(max(1, batches))))
        }
    }

    private func predict(_ encoder: ResNet18, _ head: LinearLayer, _ input: FrameInput, data: Frames, rows: [Int]) -> [Int] {
        encoder.setTraining(false)
        defer { encoder.setTraining(true) }
        var predicted: [Int] = []
        GradientMode.withoutGradients {
            var start = 0
            while start < rows.count {
                let chunk = Array(rows[start..<min(rows.count, start + config.batchSize)])
                start += chunk.count
                let logits = head(encoder(batch(data, rows: chunk, input: input, augment: (0, false))))
                let k = logits.shape[1]
                for b in 0..<chunk.count {
                    let row = logits.data[(b * k)..<((b + 1) * k)]
                    predicted.append(row.indices.max { row[$0] < row[$1] }.map { $0 - b * k } ?? 0)
                }
            }
        }
        return predicted
    }
}

extension FineTuneReport {
    /// `metric,mean,sd` rows: accuracy, macro P/R/F1 over the planes and over all classes, per-class F1.
    public var csv: String {
        func row(_ name: String, _ v: MeanSD) -> String { "\(name),\(v.mean),\(v.sd.map { "\($0)" } ?? "")" }
        var lines = ["metric,mean,sd", row("accuracy", summary.accuracy)]
        for (prefix, s) in [("planes", summary.macroSubset), ("all", summary.macroAll)] {
            lines += [row("\(prefix)_precision", s.precision), row("\(prefix)_recall", s.recall), row("\(prefix)_f1", s.f1)]
        }
        lines += summary.perClass.map { row("f1_\($0.id)", $0.f1) }
        return lines.joined(separator: "\n") + "\n"
    }
}
