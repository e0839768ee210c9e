import ArgumentParser
import Foundation
import SonoCatalog
import SonoCLI
import SonoCore
import SonoEval
import SonoTrain

/// `sono-finetune`: downstream fine-tuning with the paper's protocol (folds by scan).
struct SonoFinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-finetune", abstract: "Fine-tune pretrained encoders on labelled data, per fold by scan, and write the tables.",
        subcommands: [Planes.self, Saliency.self])
}

/// What every fine-tuning takes: the dataset, the start, the optimiser, the output.
struct FineTuneOptions: ParsableArguments {
    @OptionGroup var catalog: CatalogOption
    @Option(help: "A labelled frame dataset with folds (data-manifests/recipes/planes.toml or saliency.toml).") var dataset: String
    @Option(name: .customLong("init"), help: "Start: random[:small|:tiny], imagenet:FILE (torchvision resnet18 safetensors) or checkpoint:FILE (sono-train).") var initialisation: String = "random"
    @Option(help: "Epochs per fold.") var epochs = 10
    @Option(help: "Batch size.") var batchSize = 16
    @Option(help: "Learning rate (Adam).") var lr: Float = 1e-3
    @Option(help: "Weight decay.") var weightDecay: Float = 1e-4
    @Option(help: "Largest random shift of a training frame, pixels (its gaze map moves with it); default the frame side / 16 (8 on 128²).") var maxShift: Int?
    @Flag(help: "No random horizontal flips of the training frames.") var noFlip = false
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Threads.") var threads = 2
    @Option(help: "Output folder.") var out: String
    @Flag(help: "No per-epoch lines.") var quiet = false

    func validate() throws {
        guard epochs >= 1, batchSize >= 2, threads >= 1 else { throw ValidationError("--epochs ≥ 1, --batch-size ≥ 2, --threads ≥ 1") }
        guard lr.isFinite, lr > 0, lr <= 10 else { throw ValidationError("--lr must be in (0, 10] (got \(lr))") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw ValidationError("--weight-decay must be ≥ 0 (got \(weightDecay))") }
        guard maxShift.map({ (0...1024).contains($0) }) ?? true else { throw ValidationError("--max-shift must be in 0…1024 pixels (got \(maxShift ?? 0))") }
        _ = try FineTuneStart(parsing: initialisation)
    }

    func config() throws -> FineTuneConfig {
        var config = FineTuneConfig(dataset: dataset)
        config.start = try FineTuneStart(parsing: initialisation)
        config.epochs = epochs; config.batchSize = batchSize; config.learningRate = lr; config.weightDecay = weightDecay
        config.seed = seed; config.threads = threads; config.maxShift = maxShift; config.flip = !noFlip
        return config
    }

    /// Runs `body` with SIGINT/SIGTERM asking it to stop at the next epoch boundary; nil (exit 0,
    /// the state saved, a rerun continues) when it did.
    func untilStopped<T>(_ stop: StopRequest, _ body: () throws -> T) throws -> T? {
        let signals = StopOnSignals(stop)
        defer { signals.cancel() }
        do { return try body() } catch let stopped as FineTuneStopped {
            printError("sono-finetune: \(stopped)")
            return nil
        }
    }

    /// Writes OUT/report.{json,md,csv}.
    func write(json: Data, markdown: String, csv: String) throws {
        try json.write(to: URL(fileURLWithPath: out).appendingPathComponent("report.json"))
        try markdown.write(toFile: out + "/report.md", atomically: true, encoding: .utf8)
        try csv.write(toFile: out + "/report.csv", atomically: true, encoding: .utf8)
    }
}

/// `sono-finetune planes`: the image (or video) encoder with a new linear head, cross-entropy, Adam.
struct Planes: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Standard-plane detection: ResNet-18 on the frames (or R(2+1)D-18 on their clips) + a linear head trained on the other folds' scans, tested on each fold's; accuracy, macro P/R/F1 (planes, all classes), per class, confusion, mean (sd).",
        discussion: "Writes OUT/report.{json,md,csv} and OUT/fold-K.{json,safetensors}; a rerun keeps finished folds. SIGINT or SIGTERM stops after the current epoch with its state in OUT/fold-K.epoch.safetensors (exit 0); a rerun continues there.")
    @OptionGroup var options: FineTuneOptions
    @Option(help: "Cross-entropy class weights: none, or balanced (n / (K · n_c) over the fold's training frames).") var classWeights: String = "none"
    @Option(help: "The encoder: image (ResNet-18 on the frames) or video (R(2+1)D-18 on the clips the dataset stores around them: [frames] clip_s in its recipe).") var encoder: String = "image"

    func validate() throws {
        guard ClassWeighting(rawValue: classWeights) != nil else { throw ValidationError("--class-weights takes none or balanced (got \(classWeights))") }
        guard let e = FeatureEncoder(rawValue: encoder), e != .audio else { throw ValidationError("--encoder takes image or video (got \(encoder))") }
    }

    func run() throws {
        var config = try options.config()
        config.classWeighting = ClassWeighting(rawValue: classWeights) ?? .none
        config.encoder = FeatureEncoder(rawValue: encoder) ?? .image
        let tuning = PlaneFineTuning(config: config)
        if !options.quiet { tuning.log = { printError($0) } }
        guard let report = try options.untilStopped(tuning.stop, { try tuning.run(catalog: Catalog(path: options.catalog.path), out: options.out) }) else { return }
        try options.write(json: EvalJSON.encode(report), markdown: report.summary.markdownTable(), csv: report.csv)
        let s = report.summary
        print(String(format: "fine-tune %@ (%@ encoder) from %@: %d folds; accuracy %.3f (%.3f), macro F1 over the planes %.3f (%.3f); tables in %@",
                     report.dataset, config.encoder.rawValue, report.start, report.folds.count, s.accuracy.mean, s.accuracy.sd ?? 0, s.macroSubset.f1.mean, s.macroSubset.f1.sd ?? 0, options.out))
    }
}

/// `sono-finetune saliency`: the image encoder with an upsampling decoder, KL divergence to the gaze maps.
struct Saliency: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Saliency prediction: ResNet-18 up to layer4 + an upsampling decoder (softmax over the map's pixels, KL divergence to the gaze map) trained on the other folds' scans; KLD, SIM, NSS, CC on each fold's frames with gaze, mean (sd).",
        discussion: "Writes OUT/report.{json,md,csv} and OUT/fold-K.{json,safetensors}; a rerun keeps finished folds. SIGINT or SIGTERM stops after the current epoch with its state in OUT/fold-K.epoch.safetensors (exit 0); a rerun continues there. Flips and shifts move the frame and its gaze map together.")
    @OptionGroup var options: FineTuneOptions

    func run() throws {
        let tuning = SaliencyFineTuning(config: try options.config())
        if !options.quiet { tuning.log = { printError($0) } }
        guard let report = try options.untilStopped(tuning.stop, { try tuning.run(catalog: Catalog(path: options.catalog.path), out: options.out) }) else { return }
        try options.write(json: EvalJSON.encode(report), markdown: report.markdownTable(), csv: report.csv)
        print(String(format: "saliency %@ from %@: %d folds; KLD %.3f (%.3f), SIM %.3f (%.3f), NSS %.3f (%.3f), CC %.3f (%.3f); tables in %@",
                     report.dataset, report.start, report.folds.count, report.kld.mean, report.kld.sd ?? 0, report.sim.mean, report.sim.sd ?? 0,
                     report.nss.mean, report.nss.sd ?? 0, report.cc.mean, report.cc.sd ?? 0, options.out))
    }
}

SonoFinetuneCommand.mainWithStageExitCodes()
