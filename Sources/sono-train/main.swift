import ArgumentParser
import Foundation
import SonoCatalog
import SonoCLI
import SonoDataset
import SonoTrain

extension ModelSize: ExpressibleByArgument {}

/// `sono-train`: pretrain the dual model from shards; one JSON line per step.
struct SonoTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-train",
        abstract: "Pretrain the dual representation model (R(2+1)D-18, ResNet-18, CNN14; MMCL + MMSL) from shards.")

    @OptionGroup var catalog: CatalogOption
    @Option(help: "Datasets (comma-separated).") var datasets = "medium"
    @Option(help: "Split to train on (train, val, test, all).") var split = "train"
    @Option(help: "Steps.") var steps = 10
    @Option(help: "Batch size.") var batchSize = 8
    @Option(help: "Learning rate (Adam).") var lr: Float = 3e-3
    @Option(help: "Weight decay (L2, as torch.optim.Adam).") var weightDecay: Float = 1e-4
    @Option(help: "Model size: full or tiny.") var model = ModelSize.full
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Option(help: "Threads.") var threads = 2
    @Option(help: "Checkpoint folder.") var out: String?
    @Option(help: "Also checkpoint every N steps (0: only at the end).") var checkpointEvery = 0
    @Option(help: "Metrics log (JSON lines); default: standard output.") var log: String?
    @Option(help: "Continue from this checkpoint (same model size); --steps counts from the start of the run.") var resume: String?

    func validate() throws {
        guard split == "all" || Split(rawValue: split) != nil else { throw ValidationError("--split must be train, val, test or all") }
        guard steps >= 1, batchSize >= 2 else { throw ValidationError("--steps ≥ 1 and --batch-size ≥ 2 (in-batch negatives)") }
    }

    func run() throws {
        var config = TrainConfig()
        config.datasets = datasets.split(separator: ",").map(String.init)
        config.split = Split(rawValue: split)
        config.steps = steps; config.batchSize = batchSize; config.learningRate = lr; config.weightDecay = weightDecay
        config.modelSize = model; config.seed = seed; config.threads = threads; config.checkpointEvery = checkpointEvery
        let trainer = try Trainer(catalog: Catalog(path: catalog.path), config: config)
        if let resume { try trainer.resume(from: resume) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var logFile: FileHandle? = nil
        if let log {
            guard FileManager.default.createFile(atPath: log, contents: nil), let handle = FileHandle(forWritingAtPath: log) else {
                throw ValidationError("cannot write the log \(log)")
            }
            logFile = handle
        }
        try trainer.run(checkpointDir: out) { entry in
            let line = String(decoding: try encoder.encode(entry), as: UTF8.self) + "\n"
            if let logFile { logFile.write(Data(line.utf8)) } else { print(line, terminator: "") }
        }
        try logFile?.close()
        if let out { print("checkpoint: \(out)/last.safetensors") }
    }
}

SonoTrainCommand.mainWithStageExitCodes()
