import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoLoader
import SonoModels
import SonoTensor

/// One logged training step.
public struct StepLog: Codable, Sendable {
    public var step: Int
    public var epoch: Int
    public var loss: Float
    /// Each loss term (docs/training.md).
    public var terms: LossTerms
    public var lr: Float
    public var seconds: Double
    public var clipsPerSecond: Double
    /// Time blocked waiting for the loader ÷ the step's time.
    public var dataWait: Double
    public var peakRSSMiB: Double
    public var diagnostics: TrainingDiagnostics?

    public var mmcl: Float { terms.mmcl ?? 0 }
    public var mmsl: Float { terms.mmsl ?? 0 }

    enum CodingKeys: String, CodingKey {
        case step, epoch, loss, terms, lr, seconds
        case clipsPerSecond = "clips_per_s", dataWait = "data_wait", peakRSSMiB = "peak_rss_mib", diagnostics
    }
}

/// A line of the training log: a step, or a validation.
public enum TrainingEvent: Encodable, Sendable {
    case step(StepLog)
    case validation(ValidationReport)

    enum Key: String, CodingKey { case validation }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .step(let s): try s.encode(to: encoder)
        case .validation(let v):
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(v, forKey: .validation)
        }
    }
}

/// How a `run` ended.
public enum RunOutcome: Equatable, Sendable {
    case completed(steps: Int)
    /// Stopped at a step boundary on request (SIGINT/SIGTERM); `last.safetensors` holds it.
    case interrupted(steps: Int)
}

/// `sono-train`: pretrains the dual representation model from shards.
///
/// Each step: a loader batch (video [B,1,14,H,W], still, log-mel), gray repeated to 3 channels
/// for the video and image encoders (docs/training.md), the encoders the objective needs,
/// `DualHeads.loss`, backward, optional gradient clipping, Adam/AdamW at the scheduled rate.
/// Validation (retrieval over the whole val split, and the loss terms) runs every N steps and
/// at the end. Checkpoints (safetensors) hold the weights, batch-norm running statistics,
/// Adam's moments, the loader state and the resolved config: `resume(from:)` continues the run
/// where it stopped, on the same stream of batches, masks and augmentations.
public final class Trainer {
    public let config: RunConfig
    public let video: R2Plus1D18
    public let image: ResNet18
    public let audio: CNN14
    public let heads: DualHeads
    let optimizer: Adam
    let loader: ShardLoader
    let catalog: Catalog
    /// Steps of the whole run (from `steps`, or `epochs` × batches per epoch).
    public let totalSteps: Int
    /// Set from any thread (a signal handler) to stop at the next step boundary.
    public let stop = StopRequest()
    public var showProgress = false
    /// The scans whose records this run trains on: recorded in checkpoints, so an evaluation
    /// can refuse test scans that leaked into pretraining.
    public let pretrainingScans: [String]
    /// Per-channel input normalisation of encoders initialised from pretrained weights
    /// (Kinetics-400 for the video, ImageNet for the image), applied after the gray repeat.
    let videoNormalization: InputNormalization?, imageNormalization: InputNormalization?
    private var best: (metric: Double, step: Int)?
    private lazy var validationLoader: ShardLoader? = makeValidationLoader()

    public init(catalog: Catalog, config: RunConfig) throws {
        self.config = config
        self.catalog = catalog
        Engine.setThreads(config.threads)
        Engine.reuseFreedMemory()
        let size = config.modelSize
        video = R2Plus1D18(size.video, initialization: .torchvision(seed: config.seed &+ 1))
        image = ResNet18(size.image, initialization: .torchvision(seed: config.seed &+ 2))
        audio = CNN14(size.audio, initialization: .xavierUniform(seed: config.seed &+ 3))
        audio.dropoutSeed = config.seed
        audio.specAugment = config.specAugment ? SpecAugment() : nil
        var objective = config.resolvedObjective
        if let latent = size.latent { objective.latent = latent }
        try Self.initialise(video: video, image: image, audio: audio, config: config)
        for encoder in config.frozen { Self.module(encoder, video, image, audio).setTraining(false) }
        videoNormalization = config.initVideo.isEmpty ? nil : PretrainedLayout.torchvisionR2Plus1D18.inputNormalization
        imageNormalization = config.initImage.isEmpty ? nil : PretrainedLayout.torchvisionResNet18.inputNormalization
        heads = DualHeads(videoFeatures: video.outputFeatures, audioFeatures: audio.outputFeatures,
                          imageFeatures: image.outputFeatures, config: objective, initialization: .xavierUniform(seed: config.seed &+ 4))
        loader = try ShardLoader(catalog: catalog, datasets: config.datasets, options: Self.loaderOptions(config, split: config.split, training: true),
                                 seed: config.seed)
        guard loader.batchesPerEpoch > 0 else {
            throw InputError(path: catalog.path, reason: "fewer records than one batch of \(config.batchSize) in \(config.datasets.joined(separator: ","))")
        }
        if let short = loader.plan(epoch: 0).batches.first(where: { $0.count < 2 }) {
            throw InputError(path: catalog.path, reason: Self.singleClipBatch(short.count, config: config))
        }
        totalSteps = config.epochs > 0 ? config.epochs * loader.batchesPerEpoch : config.steps
        pretrainingScans = try Set(config.datasets.flatMap { name in
            try catalog.recordSlots(datasetID: try catalog.latestDataset(named: name).id ?? -1, split: config.split).map(\.scanID)
        }).sorted()
        let group = ParameterGroup(Self.parameters(video, image, audio, heads).map(\.1), learningRate: config.learningRate, weightDecay: config.weightDecay)
        optimizer = Adam([group], beta1: config.beta1, beta2: config.beta2, epsilon: config.epsilon, decoupled: config.optimizer == .adamw)
    }

    /// Loads the configured pretrained weights into the encoders (all checked before any copy).
    static func initialise(video: R2Plus1D18, image: ResNet18, audio: CNN14, config: RunConfig) throws {
        if !config.initVideo.isEmpty { _ = try PretrainedWeights.load(config.initVideo, into: video) }
        if !config.initImage.isEmpty { _ = try PretrainedWeights.load(config.initImage, into: image) }
        if !config.initAudio.isEmpty { _ = try PretrainedWeights.load(config.initAudio, into: audio, keyPrefix: config.initAudioKeyPrefix) }
    }

    static func module(_ encoder: FeatureEncoder, _ v: R2Plus1D18, _ i: ResNet18, _ a: CNN14) -> any Module {
        switch encoder {
        case .video: v
        case .image: i
        case .audio: a
        }
    }

    /// Runs an encoder as the step needs it: a frozen one (`init.freeze`) outside the gradient
    /// graph, so it takes no gradient and no update and costs no backward pass.
    private func encode(_ encoder: FeatureEncoder, _ forward: () -> Tensor) -> Tensor {
        config.frozen.contains(encoder) ? GradientMode.withoutGradients(forward) : forward()
    }

    static func loaderOptions(_ config: RunConfig, split: Split?, training: Bool) -> LoaderOptions {
        var options = LoaderOptions()
        options.batchSize = config.batchSize
        options.split = split
        options.weights = config.datasetWeights.isEmpty ? nil : config.datasetWeights
        options.pixelNormalization = (config.pixelMean, config.pixelStd)
        options.standardizePerSample = config.perSample
        options.logMelNormalization = (config.logMelMean, config.logMelStd)
        if training {
            options.maxPerScan = config.resolvedMaxPerScan
            options.scanGroup = config.scanGroup > 1 ? config.scanGroup : nil
            let augmentation = Augmentation(horizontalFlip: config.flip, maxShift: config.maxShift, minCropArea: Double(config.minCropArea),
                                            intensity: Double(config.intensity), independentStill: config.independentStill,
                                            maxRotation: Double(config.maxRotation), maxZoom: Double(config.maxZoom))
            if augmentation != Augmentation(horizontalFlip: false, maxShift: 0) { options.augmentation = augmentation }
        } else {
            options.dropLast = false
            options.workers = 1
        }
        return options
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
    public internal(set) var completedSteps = 0

    /// The learning rate of a step: linear warm-up, then constant or cosine to `min_lr`.
    public func learningRate(at step: Int) -> Float {
        let schedule = WarmupCosineSchedule(base: config.learningRate, warmupSteps: config.warmupSteps, totalSteps: totalSteps,
                                            minimum: config.minLearningRate)
        if config.schedule == .constant && step >= config.warmupSteps { return config.learningRate }
        return schedule.learningRate(at: step)
    }

    /// Trains until `totalSteps` (or a stop request), calling `log` for every step and
    /// validation; checkpoints go to `checkpointDir`.
    @discardableResult
    public func run(checkpointDir: String?, log: (TrainingEvent) throws -> Void) throws -> RunOutcome {
        let store = checkpointDir.map { CheckpointStore(folder: $0, keepLast: config.keepLast) }
        try store?.writeConfig(config.toml)
        let progress = ProgressReporter(label: "train", total: totalSteps, enabled: showProgress)
        progress.advance(by: completedSteps)
        defer { progress.finish() }
        while completedSteps < totalSteps {
            if stop.isRequested {
                try store.map { try saveCheckpoint(to: $0.last, step: completedSteps) }
                return .interrupted(steps: completedSteps)
            }
            guard let entry = try trainStep() else { continue }  // epoch boundary
            try log(.step(entry))
            progress.advance(note: String(format: "loss %.3f, %.1f clips/s", entry.loss, entry.clipsPerSecond))
            let step = completedSteps
            if config.validateEvery > 0, step % config.validateEvery == 0, step < totalSteps {
                try validateAndKeepBest(step: step, store: store, log: log)
            }
            if let store, config.checkpointEvery > 0, step % config.checkpointEvery == 0 {
                try saveCheckpoint(to: store.stepPath(step), step: step)
                try store.prune()
            }
        }
        try validateAndKeepBest(step: completedSteps, store: store, log: log)
        if let store {
            try saveCheckpoint(to: store.last, step: completedSteps)
            try exportEncoders(to: store.encoders)
        }
        return .completed(steps: completedSteps)
    }

    /// Why a batch of fewer than 2 clips cannot train (batch norm and the contrastive terms need
    /// two), and what to change.
    static func singleClipBatch(_ count: Int, config: RunConfig) -> String {
        "a training batch would hold \(count) clip: batch norm and the contrastive terms need at least 2. A batch takes at most data.max_per_scan = \(config.resolvedMaxPerScan) clips of one scan, and the clips of \(config.datasets.joined(separator: ",")) (split \(config.split?.rawValue ?? "all")) come from too few scans to fill data.batch_size = \(config.batchSize): raise data.max_per_scan, or add scans"
    }

    /// One optimisation step; nil at an epoch boundary (no batch).
    private func trainStep() throws -> StepLog? {
        let clock = ContinuousClock()
        let start = clock.now
        guard let batch = try loader.next() else { return nil }
        guard batch.clipIDs.count >= 2 else { throw InputError(path: catalog.path, reason: Self.singleClipBatch(batch.clipIDs.count, config: config)) }
        let waited = (clock.now - start).inSeconds
        let lr = learningRate(at: completedSteps)
        for group in optimizer.groups { group.learningRate = lr }
        heads.config.maxViolation = completedSteps >= config.maxViolationAfter
        let inputs = BatchInputs(batch, needsImage: heads.config.useImage, secondView: heads.config.imageSelf > 0,
                                 video: videoNormalization, image: imageNormalization)
        let fi = inputs.still.map { still in encode(.image) { image(still) } }
        let fiView = inputs.frame.map { frame in encode(.image) { image(frame) } }
        let fv = encode(.video) { video(inputs.clip) }, fa = encode(.audio) { audio(inputs.mel) }
        let losses = heads.loss(video: fv, audio: fa, image: fi, imageView: fiView)
        losses.total.backward()
        var diagnostics = TrainingDiagnostics()
        diagnostics.gapToTrivial = TrainingDiagnostics.gaps(losses.terms, batch: batch.clipIDs.count, objective: heads.config)
        for (name, z) in losses.latents { diagnostics.spread[name] = TrainingDiagnostics.spread(z) }
        for (name, module) in [("video", video as any Module), ("image", image), ("audio", audio)] {
            diagnostics.gradientNorm[name] = TrainingDiagnostics.gradientNorm(module.namedParameters())
        }
        diagnostics.gradientNorm["heads"] = TrainingDiagnostics.gradientNorm(heads.namedParameters())
        if config.clipNorm > 0 { optimizer.clipGradientNorm(config.clipNorm) }
        optimizer.step()
        optimizer.zeroGrad()
        completedSteps += 1
        let seconds = (clock.now - start).inSeconds
        return StepLog(step: completedSteps, epoch: batch.epoch, loss: losses.total.item, terms: losses.terms, lr: lr, seconds: seconds,
                       clipsPerSecond: Double(batch.clipIDs.count) / max(seconds, 1e-9), dataWait: waited / max(seconds, 1e-9),
                       peakRSSMiB: Double(ResourceUsage.peakResidentBytes) / 1_048_576, diagnostics: diagnostics)
    }

    /// Validates, logs, and saves `best.safetensors` when the chosen metric improved.
    private func validateAndKeepBest(step: Int, store: CheckpointStore?, log: (TrainingEvent) throws -> Void) throws {
        guard let report = try validate(step: step) else { return }
        try log(.validation(report))
        guard let value = report.metrics[config.bestMetric], ValidationReport.isBetter(value, than: best?.metric, metric: config.bestMetric) else { return }
        best = (value, step)
        if let store { try saveCheckpoint(to: store.best, step: step) }
    }

    /// One pass over the validation split in evaluation mode; nil when the split has no clips.
    public func validate(step: Int) throws -> ValidationReport? {
        guard let loader = validationLoader else { return nil }
        try loader.restore(LoaderState(seed: 0))
        let modules: [any Module] = FeatureEncoder.allCases.filter { !config.frozen.contains($0) }.map { Self.module($0, video, image, audio) }
        for m in modules { m.setTraining(false) }
        for (_, bn) in heads.namedBatchNorms() { bn.training = false }
        let passes = audio.forwardPasses  // validation must not move the training dropout stream
        defer {
            for m in modules { m.setTraining(true) }
            for (_, bn) in heads.namedBatchNorms() { bn.training = true }
            audio.forwardPasses = passes
        }
        var table = EmbeddingTable()
        try GradientMode.withoutGradients {
            while let batch = try loader.next() {
                let inputs = BatchInputs(batch, needsImage: heads.config.useImage, video: videoNormalization, image: imageNormalization)
                let fv = video(inputs.clip), fa = audio(inputs.mel), fi = inputs.still.map { image($0) }
                let spaces = heads.retrievalSpaces(video: fv, audio: fa, image: fi)
                table.add(clipIDs: batch.clipIDs, latent: spaces.latent, similarity: spaces.similarity,
                          losses: heads.loss(video: fv, audio: fa, image: fi).terms)
            }
        }
        return table.report(step: step)
    }

    private func makeValidationLoader() -> ShardLoader? {
        let loader = try? ShardLoader(catalog: catalog, datasets: config.datasets,
                                      options: Self.loaderOptions(config, split: config.validationSplit, training: false), seed: 0)
        guard let loader, loader.batchesPerEpoch > 0 else { return nil }
        return loader
    }
}

/// A batch as the encoders take it: gray repeated to 3 channels, normalised per channel for
/// encoders with pretrained weights (the loader's scalar normalisation should then be left at
/// x/255).
struct BatchInputs {
    let clip: Tensor
    let still: Tensor?
    /// The middle frame of each clip as an image (`secondView`): the second view of the moment
    /// for `objective.image_self`, augmented as its clip (the still has its own draw with
    /// `augment.independent_still`).
    let frame: Tensor?
    let mel: Tensor

    init(_ batch: Batch, needsImage: Bool, secondView: Bool = false, video: InputNormalization? = nil, image: InputNormalization? = nil) {
        let b = batch.clipIDs.count
        let gray = Tensor(shape: [b, 1, batch.frames, batch.size, batch.size], data: batch.video)
        let rgb = Tensor.concat([gray, gray, gray], axis: 1)
        clip = video.map { $0.apply(to: rgb) } ?? rgb
        func asImage(_ pixels: [Float]) -> Tensor {
            let one = Tensor(shape: [b, 1, batch.size, batch.size], data: pixels)
            let three = Tensor.concat([one, one, one], axis: 1)
            return image.map { $0.apply(to: three) } ?? three
        }
        still = needsImage ? asImage(batch.still) : nil
        if needsImage && secondView {
            let area = batch.size * batch.size, middle = batch.frames / 2
            var pixels = [Float](repeating: 0, count: b * area)
            for k in 0..<b {
                let from = (k * batch.frames + middle) * area
                pixels[(k * area)..<((k + 1) * area)] = batch.video[from..<(from + area)]
            }
            frame = asImage(pixels)
        } else {
            frame = nil
        }
        mel = Tensor(shape: [b, 1, batch.melFrames, batch.mels], data: batch.logMel)
    }
}

/// A request to stop at the next step boundary, safe to set from a signal handler's queue.
public final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false
    public init() {}
    public func request() { lock.lock(); requested = true; lock.unlock() }
    public var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return requested }
}

/// SIGINT and SIGTERM ask a run (training, fine-tuning) to stop at its next boundary.
public final class StopOnSignals {
    private let sources: [DispatchSourceSignal]

    public init(_ stop: StopRequest) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.request() }
            source.resume()
            return source
        }
    }

    public func cancel() { for s in sources { s.cancel() } }
}
