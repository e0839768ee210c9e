import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoLoader
import SonoModels
import SonoTensor

/// What a pretraining run uses. Defaults follow the paper (Adam, lr 3e-3, weight decay 1e-4).
public struct TrainConfig: Sendable {
    public var datasets: [String] = ["medium"]
    /// The split trained on; nil: all.
    public var split: Split? = .train
    public var batchSize = 8
    public var steps = 10
    public var learningRate: Float = 3e-3
    public var weightDecay: Float = 1e-4
    public var seed: UInt64 = 0
    public var modelSize = ModelSize.full
    public var threads = 2
    public var checkpointEvery = 0
    public var objective = DualObjectiveConfig()
    public init() {}
}

/// One logged step.
public struct StepLog: Codable, Sendable {
    public var step: Int
    public var epoch: Int
    public var loss: Float
    public var mmcl: Float
    public var mmsl: Float
    public var seconds: Double
}

/// `sono-train`: pretrains the dual representation model from shards.
///
/// Each step: a loader batch (video [B,1,14,H,W], still, log-mel), gray repeated to 3 channels
/// for the video and image encoders (docs/training.md), the three encoders, `DualHeads.loss`,
/// backward, Adam. Checkpoints are safetensors holding the weights, batch-norm running
/// statistics, Adam's moments and the loader state: `resume(from:)` continues the run where it
/// stopped, on the same stream of batches.
public final class Trainer {
    public let config: TrainConfig
    public let video: R2Plus1D18
    public let image: ResNet18
    public let audio: CNN14
    public let heads: DualHeads
    let optimizer: Adam
    let loader: ShardLoader

    public init(catalog: Catalog, config: TrainConfig) throws {
        self.config = config
        Engine.setThreads(config.threads)
        let size = config.modelSize
        video = R2Plus1D18(size.video, initialization: .torchvision(seed: config.seed &+ 1))
        image = ResNet18(size.image, initialization: .torchvision(seed: config.seed &+ 2))
        audio = CNN14(size.audio, initialization: .xavierUniform(seed: config.seed &+ 3))
        audio.dropoutSeed = config.seed
        var objective = config.objective
        if size == .tiny { objective.latent = 32 }
        heads = DualHeads(videoFeatures: video.outputFeatures, audioFeatures: audio.outputFeatures,
                          imageFeatures: image.outputFeatures, config: objective)
        var options = LoaderOptions()
        options.batchSize = config.batchSize
        options.split = config.split
        options.maxPerScan = max(1, config.batchSize / 2)
        loader = try ShardLoader(catalog: catalog, datasets: config.datasets, options: options, seed: config.seed)
        guard loader.batchesPerEpoch > 0 else {
            throw InputError(path: catalog.path, reason: "fewer records than one batch of \(config.batchSize) in \(config.datasets.joined(separator: ","))")
        }
        optimizer = Adam([ParameterGroup(Self.parameters(video, image, audio, heads).map(\.1),
                                         learningRate: config.learningRate, weightDecay: config.weightDecay)])
    }

    static func parameters(_ v: R2Plus1D18, _ i: ResNet18, _ a: CNN14, _ h: DualHeads) -> [(String, Tensor)] {
        prefixed("video", v.namedParameters()) + prefixed("image", i.namedParameters())
            + prefixed("audio", a.namedParameters()) + prefixed("heads", h.namedParameters())
    }

    var batchNorms: [(String, BatchNorm)] {
        prefixed("video", video.namedBatchNorms()) + prefixed("image", image.namedBatchNorms())
            + prefixed("audio", audio.namedBatchNorms()) + prefixed("heads", heads.namedBatchNorms())
    }

    /// Steps done so far (after `resume`, the checkpoint's).
    public private(set) var completedSteps = 0

    /// Runs until `config.steps` steps in all, calling `log` after each; writes checkpoints to `checkpointDir`.
    public func run(checkpointDir: String?, log: (StepLog) throws -> Void) throws {
        let clock = ContinuousClock()
        var step = completedSteps
        defer { completedSteps = step }
        while step < config.steps {
            guard let batch = try loader.next() else { continue }  // epoch boundary
            let start = clock.now
            let b = batch.clipIDs.count
            let gray = Tensor(shape: [b, 1, batch.frames, batch.size, batch.size], data: batch.video)
            let clip = Tensor.concat([gray, gray, gray], axis: 1)
            let still1 = Tensor(shape: [b, 1, batch.size, batch.size], data: batch.still)
            let still = Tensor.concat([still1, still1, still1], axis: 1)
            let mel = Tensor(shape: [b, 1, batch.melFrames, batch.mels], data: batch.logMel)
            let losses = heads.loss(video: video(clip), audio: audio(mel), image: image(still))
            losses.total.backward()
            optimizer.step()
            optimizer.zeroGrad()
            step += 1
            try log(StepLog(step: step, epoch: batch.epoch, loss: losses.total.item, mmcl: losses.mmcl, mmsl: losses.mmsl,
                            seconds: (clock.now - start).inSeconds))
            if let dir = checkpointDir, config.checkpointEvery > 0, step % config.checkpointEvery == 0 {
                try saveCheckpoint(to: URL(fileURLWithPath: dir).appendingPathComponent(String(format: "step-%06d.safetensors", step)).path, step: step)
            }
        }
        if let dir = checkpointDir {
            try saveCheckpoint(to: URL(fileURLWithPath: dir).appendingPathComponent("last.safetensors").path, step: step)
        }
    }

    /// Weights, running statistics and the loader's state as safetensors.
    public func saveCheckpoint(to path: String, step: Int) throws {
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        var tensors = Self.parameters(video, image, audio, heads).map { ($0.0, $0.1.shape, $0.1.data) }
        for (name, bn) in batchNorms {
            tensors.append(("\(name).running_mean", [bn.channels], bn.runningMean))
            tensors.append(("\(name).running_var", [bn.channels], bn.runningVar))
        }
        var adamStep = 0
        for (name, p) in Self.parameters(video, image, audio, heads) {
            guard let s = optimizer.state(of: p) else { continue }
            tensors.append(("optimizer.m.\(name)", p.shape, s.m))
            tensors.append(("optimizer.v.\(name)", p.shape, s.v))
            adamStep = s.step
        }
        let state = loader.state
        try SafeTensors.write(tensors, metadata: [
            "format": "sonodual-dual-v1", "step": "\(step)", "model_size": config.modelSize.rawValue,
            "loader_seed": "\(state.seed)", "loader_epoch": "\(state.epoch)", "loader_step": "\(state.step)",
            "datasets": config.datasets.joined(separator: ","), "adam_step": "\(adamStep)",
        ], to: path)
    }

    /// Restores weights, running statistics, Adam's moments and the loader's position from a
    /// checkpoint of the same model size; the next `run` continues from its step.
    public func resume(from path: String) throws {
        let file: SafeTensors.File
        do { file = try SafeTensors.read(path) } catch {
            throw InputError(path: path, reason: "not a readable safetensors checkpoint (\(error.localizedDescription))")
        }
        guard file.metadata["format"] == "sonodual-dual-v1" else { throw InputError(path: path, reason: "not a SonoDual dual-model checkpoint") }
        guard file.metadata["model_size"] == config.modelSize.rawValue else {
            throw InputError(path: path, reason: "checkpoint is for the \(file.metadata["model_size"] ?? "?") model, not \(config.modelSize.rawValue)")
        }
        let stored = Dictionary(file.tensors.map { ($0.0, ($0.1, $0.2)) }, uniquingKeysWith: { a, _ in a })
        func values(_ name: String, count: Int) throws -> [Float] {
            guard let (_, v) = stored[name], v.count == count else { throw InputError(path: path, reason: "missing or misshapen tensor \(name)") }
            return v
        }
        let adamStep = Int(file.metadata["adam_step"] ?? "0") ?? 0
        for (name, p) in Self.parameters(video, image, audio, heads) {
            p.data = try values(name, count: p.count)
            if adamStep > 0 {
                optimizer.restoreState(of: p, AdamMoments(m: try values("optimizer.m.\(name)", count: p.count),
                                                          v: try values("optimizer.v.\(name)", count: p.count), step: adamStep))
            }
        }
        for (name, bn) in batchNorms {
            bn.runningMean = try values("\(name).running_mean", count: bn.channels)
            bn.runningVar = try values("\(name).running_var", count: bn.channels)
        }
        guard let seed = UInt64(file.metadata["loader_seed"] ?? ""), let epoch = Int(file.metadata["loader_epoch"] ?? ""),
              let loaderStep = Int(file.metadata["loader_step"] ?? ""), let step = Int(file.metadata["step"] ?? "") else {
            throw InputError(path: path, reason: "checkpoint metadata lacks the loader state")
        }
        try loader.restore(LoaderState(seed: seed, epoch: epoch, step: loaderStep))
        audio.forwardPasses = UInt64(step)  // one audio forward per step: the same dropout masks follow
        completedSteps = step
    }
}
