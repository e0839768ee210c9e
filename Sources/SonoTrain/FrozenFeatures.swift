import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoModels
import SonoShards
import SonoTensor

/// Which encoder's pooled output is the feature.
public enum FeatureEncoder: String, Codable, Sendable, CaseIterable {
    /// ResNet-18 on a frame dataset's frames, or on a clip dataset's stills.
    case image
    /// R(2+1)D-18 on a clip dataset's clips.
    case video
    /// CNN14 on a clip dataset's log-mels.
    case audio
}

/// Frozen features of every record of a dataset (or one split): the encoder's pooled output in
/// evaluation mode, with each record's clip id, scan and (frame datasets) class index.
public struct FeatureTable: Sendable {
    public var clipIDs: [Int64] = []
    public var scanIDs: [String] = []
    /// Class index per record (-1 for unlabelled clips).
    public var labels: [Int] = []
    /// [N, dimension] row-major.
    public var features: [Float] = []
    public var dimension = 0

    public var count: Int { clipIDs.count }

    /// Writes `F.npy` (float32 [N, D]) with `F.clip_ids.npy` and `F.labels.npy` (int64 [N]) beside it.
    public func write(to path: String) throws {
        let base = path.hasSuffix(".npy") ? String(path.dropLast(4)) : path
        try Folders.createParent(of: path)
        try NPYArray(float32: features, shape: [count, dimension]).write(to: base + ".npy")
        try NPYArray(int64: clipIDs, shape: [count]).write(to: base + ".clip_ids.npy")
        try NPYArray(int64: labels.map(Int64.init), shape: [count]).write(to: base + ".labels.npy")
    }

    /// Reads what `write` wrote; each record's scan comes from the catalog's records of `dataset`.
    public static func read(_ path: String, catalog: Catalog, dataset name: String) throws -> FeatureTable {
        let base = path.hasSuffix(".npy") ? String(path.dropLast(4)) : path
        let features = try NPYArray.read(base + ".npy")
        guard features.shape.count == 2, let ids = try NPYArray.read(base + ".clip_ids.npy").int64s, let labels = try NPYArray.read(base + ".labels.npy").int64s,
              ids.count == features.shape[0], labels.count == ids.count else {
            throw InputError(path: path, reason: "not a sono-embed feature file (F.npy [N, D] with F.clip_ids.npy and F.labels.npy of N int64)")
        }
        let dataset = try catalog.latestDataset(named: name)
        let scanOf = Dictionary(try catalog.recordSlots(datasetID: dataset.id ?? -1).map { ($0.clipID, $0.scanID) }, uniquingKeysWith: { a, _ in a })
        var table = FeatureTable()
        table.clipIDs = ids
        table.labels = labels.map(Int.init)
        table.features = features.floats
        table.dimension = features.shape[1]
        table.scanIDs = try ids.map { id in
            guard let scan = scanOf[id] else { throw InputError(path: path, reason: "clip \(id) is not a record of dataset \(dataset.label)") }
            return scan
        }
        return table
    }
}

/// Encoders for evaluation: from a SonoDual checkpoint (`last`, `best`, `encoders`), or at
/// random initialisation (the baseline), in evaluation mode.
public final class FrozenEncoders {
    public let size: ModelSize
    let video: R2Plus1D18, image: ResNet18, audio: CNN14
    let videoNormalization: InputNormalization?, imageNormalization: InputNormalization?
    /// The run's pixel input (`[normalize]`: mean, std, per-sample standardisation).
    public let pixels: PixelInput
    let logMelMean: Float, logMelStd: Float
    /// The datasets and scans the weights were pretrained on (empty for random weights).
    public let pretrainedDatasets: [String]
    public let pretrainedScans: Set<String>

    /// Random weights of `size` from `seed` (the same initialisation a run of that seed starts
    /// from), with the pixel input of the runs it is a baseline for: `perSample` as given, else
    /// sono-train's default.
    public init(randomOf size: ModelSize, seed: UInt64, perSample: Bool? = nil) {
        self.size = size
        video = R2Plus1D18(size.video, initialization: .torchvision(seed: seed &+ 1))
        image = ResNet18(size.image, initialization: .torchvision(seed: seed &+ 2))
        audio = CNN14(size.audio, initialization: .xavierUniform(seed: seed &+ 3))
        (videoNormalization, imageNormalization) = (nil, nil)
        pixels = PixelInput(perSample: perSample ?? RunConfig().perSample)
        (logMelMean, logMelStd) = (0, 1)
        pretrainedDatasets = []
        pretrainedScans = []
        setEvaluation()
    }

    /// The encoders of a checkpoint, with the input normalisation its run used.
    public init(checkpoint path: String) throws {
        let file: SafeTensors.File
        do { file = try SafeTensors.read(path) } catch {
            throw InputError(path: path, reason: "not a readable safetensors checkpoint (\(error.localizedDescription))")
        }
        guard let sizeName = file.metadata["model_size"], let size = ModelSize(rawValue: sizeName) else {
            throw InputError(path: path, reason: "not a SonoDual checkpoint (no model_size in its metadata)")
        }
        let config = try file.metadata["config"].map { try RunConfig.stored(toml: $0, source: path + " (its config)") } ?? RunConfig.stored(toml: "", source: path)
        self.size = size
        video = R2Plus1D18(size.video, initialization: .zeros)
        image = ResNet18(size.image, initialization: .zeros)
        audio = CNN14(size.audio, initialization: .zeros)
        videoNormalization = config.initVideo.isEmpty ? nil : PretrainedLayout.torchvisionR2Plus1D18.inputNormalization
        imageNormalization = config.initImage.isEmpty ? nil : PretrainedLayout.torchvisionResNet18.inputNormalization
        pixels = PixelInput(config)
        (logMelMean, logMelStd) = (config.logMelMean, config.logMelStd)
        pretrainedDatasets = config.datasets
        pretrainedScans = Set((file.metadata["scans"] ?? "").split(separator: ",").map(String.init))
        let stored = Dictionary(file.tensors.map { ($0.0, $0.2) }, uniquingKeysWith: { a, _ in a })
        for (prefix, module) in [("video", video as any Module), ("image", image), ("audio", audio)] {
            for (name, p) in prefixed(prefix, module.namedParameters()) {
                guard let values = stored[name], values.count == p.count else { throw InputError(path: path, reason: "missing or misshapen tensor \(name)") }
                p.data = values
            }
            for (name, bn) in prefixed(prefix, module.namedBatchNorms()) {
                guard let mean = stored["\(name).running_mean"], let variance = stored["\(name).running_var"],
                      mean.count == bn.channels, variance.count == bn.channels else {
                    throw InputError(path: path, reason: "missing running statistics of \(name)")
                }
                bn.runningMean = mean
                bn.runningVar = variance
            }
        }
        setEvaluation()
    }

    /// Refuses features whose scans were pretrained on, unless `allowOverlap`: a probe on
    /// them would measure memorisation, not transfer.
    public func checkNoLeak(_ table: FeatureTable, allowOverlap: Bool, source: String) throws {
        let leaked = Set(table.scanIDs).intersection(pretrainedScans).sorted()
        guard leaked.isEmpty || allowOverlap else {
            throw InputError(path: source, reason: "\(leaked.count) evaluation scan(s) were in the checkpoint's pretraining data (\(leaked.prefix(5).joined(separator: ", "))\(leaked.count > 5 ? ", …" : "")); pass --allow-overlap to evaluate anyway")
        }
    }

    private func setEvaluation() {
        for m in [video as any Module, image, audio] { m.setTraining(false) }
    }

    /// Features of every stored record of `dataset` (optionally one split), `batchSize` at a time.
    public func features(of encoder: FeatureEncoder, catalog: Catalog, dataset name: String, split: Split? = nil, batchSize: Int = 16) throws -> FeatureTable {
        let dataset = try catalog.latestDataset(named: name)
        guard let id = dataset.id, let layout = dataset.layout else {
            throw InputError(path: catalog.path, reason: "dataset \(dataset.label) has an unreadable record layout")
        }
        let isFrameDataset = FrameRecordShape(layout: layout) != nil
        let field: String
        switch (encoder, isFrameDataset) {
        case (.image, true): field = FrameField.frame.rawValue
        case (.image, false): field = ClipField.still.rawValue
        case (.video, false): field = ClipField.video.rawValue
        case (.video, true) where layout.field(ClipField.video.rawValue) != nil: field = ClipField.video.rawValue
        case (.audio, false): field = ClipField.logmel.rawValue
        case (.video, true): throw InputError(path: catalog.path, reason: "dataset \(dataset.label) holds single frames without clips (give its [frames] clip_s): the video encoder needs them")
        default: throw InputError(path: catalog.path, reason: "dataset \(dataset.label) holds single frames: the audio encoder does not apply")
        }
        guard let spec = layout.field(field) else { throw InputError(path: catalog.path, reason: "dataset \(dataset.label) has no field \(field)") }
        var readers: [Int64: ShardReader] = [:]
        for shard in try catalog.shards(datasetID: id) { readers[shard.id ?? -1] = try catalog.openShard(shard, of: dataset) }
        let slots = try catalog.recordSlots(datasetID: id, split: split)
        var table = FeatureTable()
        try GradientMode.withoutGradients {
            var start = 0
            while start < slots.count {
                let batch = Array(slots[start..<min(slots.count, start + batchSize)])
                start += batch.count
                var values: [Float] = []
                for slot in batch {
                    guard let reader = readers[slot.shardID] else { continue }
                    let record = reader.record(slot.slot)
                    guard reader.recordIsIntact(slot.slot) else {
                        throw InputError(path: reader.path, reason: "record \(slot.slot) (clip \(slot.clipID)) fails its CRC-32C")
                    }
                    values += spec.type == .f16 ? record.f16AsFloat(field).map { ($0 - logMelMean) / logMelStd }
                        : pixels.values(of: record.u8(field))
                    table.clipIDs.append(slot.clipID)
                    table.scanIDs.append(slot.scanID)
                    let label = isFrameDataset ? Int(record.bytes(FrameField.label.rawValue).loadUnaligned(as: Int64.self)) : -1
                    table.labels.append(label)
                }
                let out = forward(encoder, values, count: batch.count, shape: spec.shape)
                table.dimension = out.shape[1]
                table.features += out.data
            }
        }
        return table
    }

    private func forward(_ encoder: FeatureEncoder, _ values: [Float], count b: Int, shape: [Int]) -> Tensor {
        switch encoder {
        case .image:
            let gray = Tensor(shape: [b, 1, shape[0], shape[1]], data: values)
            let rgb = Tensor.concat([gray, gray, gray], axis: 1)
            return image(imageNormalization.map { $0.apply(to: rgb) } ?? rgb)
        case .video:
            let gray = Tensor(shape: [b, 1] + shape, data: values)
            let rgb = Tensor.concat([gray, gray, gray], axis: 1)
            return video(videoNormalization.map { $0.apply(to: rgb) } ?? rgb)
        case .audio:
            return audio(Tensor(shape: [b, 1] + shape, data: values))
        }
    }
}
