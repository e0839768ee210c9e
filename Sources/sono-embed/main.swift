import ArgumentParser
import SonoCatalog
import SonoCLI
import SonoDataset
import SonoTrain

extension FeatureEncoder: ExpressibleByArgument {}

/// `sono-embed`: frozen features of a dataset's records, readable by numpy.
struct SonoEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-embed",
        abstract: "Write an encoder's frozen features (pooled output, evaluation mode) of a dataset's records as F.npy, with F.clip_ids.npy and F.labels.npy beside it.")

    @OptionGroup var catalog: CatalogOption
    @Option(help: "A sono-train checkpoint (last/best/encoders.safetensors); without it, random initialisation.") var checkpoint: String?
    @Option(help: "Model size for random initialisation (full, small, tiny).") var model = "full"
    @Option(help: "Seed for random initialisation.") var seed: UInt64 = 0
    @Option(help: "Encoder: image, video or audio.") var encoder: FeatureEncoder = .image
    @Option(help: "Dataset name (latest version).") var dataset: String
    @Option(help: "Only this split (train, val, test).") var split: Split?
    @Option(help: "Output .npy path.") var out: String
    @Option(help: "Records per forward pass.") var batchSize = 16
    @Flag(inversion: .prefixedNo, help: "With random initialisation: standardise each still or clip on its own, as a run with normalize.per_sample (default: sono-train's default; a checkpoint carries its own setting).") var perSample: Bool?
    @Flag(help: "Embed scans the checkpoint was pretrained on (otherwise refused: an evaluation on them measures memorisation).") var allowOverlap = false

    func validate() throws {
        guard ModelSize(rawValue: model) != nil else { throw ValidationError("--model must be one of \(ModelSize.allCases.map(\.rawValue).joined(separator: ", ")), not \(model)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard perSample == nil || checkpoint == nil else {
            throw ValidationError("--per-sample and --no-per-sample apply to random initialisation only: a checkpoint carries its run's normalisation")
        }
    }

    func run() throws {
        let encoders = try checkpoint.map { try FrozenEncoders(checkpoint: $0) } ?? FrozenEncoders(randomOf: ModelSize(rawValue: model) ?? .full, seed: seed, perSample: perSample)
        let table = try encoders.features(of: encoder, catalog: Catalog(path: catalog.path), dataset: dataset, split: split, batchSize: batchSize)
        try encoders.checkNoLeak(table, allowOverlap: allowOverlap, source: checkpoint ?? out)
        try table.write(to: out)
        print("embed: \(table.count) records × \(table.dimension) features of \(encoder.rawValue) → \(out)")
    }
}

SonoEmbedCommand.mainWithStageExitCodes()
