import ArgumentParser
import Dispatch
import Foundation
import SonoCatalog
import SonoCLI
import SonoCore
import SonoTrain

/// `sono-train`: pretrain the dual model from shards; one JSON line per step and validation.
struct SonoTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-train",
        abstract: "Pretrain the dual representation model (R(2+1)D-18, ResNet-18, CNN14; MMCL + MMSL) from shards.",
        discussion: """
            Settings come from --config (a TOML run file, see data-manifests/runs/ and docs/training.md), then the \
            shorthand options below, then --set KEY=VALUE (any key, e.g. --set optimizer.schedule=cosine), in that order. \
            The resolved config is written to OUT/run.toml and into every checkpoint. SIGINT or SIGTERM stops at the \
            next step boundary with a checkpoint (exit 0); --resume continues it.
            """)

    @OptionGroup var catalog: CatalogOption
    @Option(help: "Run config (TOML).") var config: String?
    @Option(help: "Datasets (comma-separated): data.datasets.") var datasets: String?
    @Option(help: "Split to train on (train, val, test, all): data.split.") var split: String?
    @Option(help: "Steps: data.steps.") var steps: Int?
    @Option(help: "Batch size: data.batch_size.") var batchSize: Int?
    @Option(help: "Learning rate: optimizer.lr.") var lr: Double?
    @Option(help: "Weight decay: optimizer.weight_decay.") var weightDecay: Double?
    @Option(help: "Model size (full, small, tiny): model.size.") var model: String?
    @Option(help: "Objective (full, mmcl-only, mmsl-only, no-image): objective.preset.") var preset: String?
    @Option(help: "Seed: data.seed.") var seed: UInt64?
    @Option(help: "Threads: data.threads.") var threads: Int?
    @Option(help: "Checkpoint every N steps: checkpoints.every.") var checkpointEvery: Int?
    @Option(help: "Validate every N steps: validation.every.") var validateEvery: Int?
    @Option(help: "Any config key, as table.key=value (repeatable).") var set: [String] = []
    @Option(help: "Checkpoint folder.") var out: String?
    @Option(help: "Metrics log (JSON lines, appended); default: standard output.") var log: String?
    @Option(help: "Continue from this checkpoint; --steps counts from the start of the run.") var resume: String?
    @Flag(help: "Resume even though the config differs from the checkpoint's.") var allowConfigChange = false
    @Flag(help: "No progress display.") var quiet = false

    /// The shorthand options as config overrides, in the order the help lists them.
    var shorthands: [String] {
        var o: [String] = []
        if let datasets { o.append("data.datasets=[" + datasets.split(separator: ",").map { "\"\($0)\"" }.joined(separator: ",") + "]") }
        if let split { o.append("data.split=\(split)") }
        if let steps { o.append("data.steps=\(steps)") }
        if let batchSize { o.append("data.batch_size=\(batchSize)") }
        if let lr { o.append("optimizer.lr=\(lr)") }
        if let weightDecay { o.append("optimizer.weight_decay=\(weightDecay)") }
        if let model { o.append("model.size=\(model)") }
        if let preset { o.append("objective.preset=\(preset)") }
        if let seed { o.append("data.seed=\(seed)") }
        if let threads { o.append("data.threads=\(threads)") }
        if let checkpointEvery { o.append("checkpoints.every=\(checkpointEvery)") }
        if let validateEvery { o.append("validation.every=\(validateEvery)") }
        return o
    }

    func run() throws {
        // A missing checkpoint is named before any data is opened.
        if let resume, !FileManager.default.fileExists(atPath: resume) {
            throw InputError(path: resume, reason: "--resume: no such checkpoint")
        }
        var runConfig = try config.map(RunConfig.load) ?? RunConfig()
        for override in shorthands + set { try runConfig.apply(override: override) }
        let trainer = try Trainer(catalog: Catalog(path: catalog.path), config: runConfig)
        trainer.showProgress = !quiet
        if let resume { try trainer.resume(from: resume, allowConfigChange: allowConfigChange) }
        let output = try TrainingLogFile(path: log)
        let signals = StopOnSignals(trainer.stop)
        var lastValidation: ValidationReport?
        let outcome = try trainer.run(checkpointDir: out) { event in
            if case .validation(let v) = event { lastValidation = v }
            try output.write(event)
        }
        signals.cancel()
        try output.close()
        switch outcome {
        case .completed(let steps):
            if let out { print("done: \(steps) steps; checkpoints in \(out)") }
            if let lastValidation, log != nil { print("last validation retrieval, \(lastValidation.summary)") }
        case .interrupted(let steps): printError("interrupted: checkpoint at step \(steps) in \(out ?? "(no --out: nothing saved)")/last.safetensors; --resume it")
        }
    }
}

/// JSON lines to a file (appended, so a resumed run continues its log) or standard output.
final class TrainingLogFile {
    private let handle: FileHandle?
    private let encoder = JSONEncoder()

    init(path: String?) throws {
        encoder.outputFormatting = [.sortedKeys]
        guard let path else { handle = nil; return }
        try? Folders.createParent(of: path)
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw ValidationError("cannot write the log \(path)") }
        h.seekToEndOfFile()
        handle = h
    }

    func write(_ event: TrainingEvent) throws {
        let line = String(decoding: try encoder.encode(event), as: UTF8.self) + "\n"
        if let handle { handle.write(Data(line.utf8)) } else { print(line, terminator: "") }
    }

    func close() throws { try handle?.close() }
}

SonoTrainCommand.mainWithStageExitCodes()
