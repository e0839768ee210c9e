import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoLoader
import SonoModels
import SonoTensor

/// The files of a run's checkpoint folder: `run.toml` (the resolved config), `step-NNNNNN`
/// (the newest `keepLast` kept), `last`, `best` (by the validation metric) and `encoders`
/// (weights only, for fine-tuning and export).
struct CheckpointStore {
    let folder: URL
    let keepLast: Int

    init(folder: String, keepLast: Int) {
        self.folder = URL(fileURLWithPath: folder)
        self.keepLast = keepLast
    }

    var last: String { folder.appendingPathComponent("last.safetensors").path }
    var best: String { folder.appendingPathComponent("best.safetensors").path }
    var encoders: String { folder.appendingPathComponent("encoders.safetensors").path }
    func stepPath(_ step: Int) -> String { folder.appendingPathComponent(String(format: "step-%06d.safetensors", step)).path }

    func writeConfig(_ toml: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("run.toml")
        do { try toml.write(to: path, atomically: true, encoding: .utf8) } catch {
            throw InputError(path: path.path, reason: "cannot write the run config (\(error.localizedDescription))")
        }
    }

    /// Deletes step checkpoints beyond the newest `keepLast`.
    func prune() throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let steps = names.filter { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }.sorted()
        for name in steps.dropLast(keepLast) { try? FileManager.default.removeItem(at: folder.appendingPathComponent(name)) }
    }
}

extension Trainer {
    static let checkpointFormat = "sonodual-dual-v1"

    /// Weights, running statistics, Adam's moments (where a parameter has them), the loader's
    /// state and the resolved config, as safetensors (written to a temporary name, then renamed).
    public func saveCheckpoint(to path: String, step: Int) throws {
        try Folders.createParent(of: path)
        var tensors = weightTensors(Self.parameters(video, image, audio, heads), batchNorms)
        var adamStep = 0
        for (name, p) in Self.parameters(video, image, audio, heads) {
            guard let s = optimizer.state(of: p) else { continue }
            tensors.append(("optimizer.m.\(name)", p.shape, s.m))
            tensors.append(("optimizer.v.\(name)", p.shape, s.v))
            adamStep = s.step
        }
        let state = loader.state
        let temporary = path + ".partial"
        try SafeTensors.write(tensors, metadata: [
            "format": Self.checkpointFormat, "step": "\(step)", "model_size": config.modelSize.rawValue,
            "loader_seed": "\(state.seed)", "loader_epoch": "\(state.epoch)", "loader_step": "\(state.step)",
            "datasets": config.datasets.joined(separator: ","), "adam_step": "\(adamStep)", "config": config.toml,
            "scans": pretrainingScans.joined(separator: ","),
        ], to: temporary)
        guard rename(temporary, path) == 0 else { throw InputError(path: path, reason: Errno.reason("cannot rename \(temporary)")) }
    }

    /// The encoders' weights and running statistics only (PyTorch names under `video.`,
    /// `image.`, `audio.`): what fine-tuning and other frameworks load.
    public func exportEncoders(to path: String) throws {
        let encoders = prefixed("video", video.namedParameters()) + prefixed("image", image.namedParameters()) + prefixed("audio", audio.namedParameters())
        let tensors = weightTensors(encoders, batchNorms.filter { !$0.0.hasPrefix("heads.") })
        try SafeTensors.write(tensors, metadata: ["format": "sonodual-encoders-v1", "model_size": config.modelSize.rawValue,
                                                  "step": "\(completedSteps)", "config": config.toml,
                                                  "scans": pretrainingScans.joined(separator: ",")], to: path)
    }

    /// Parameters, then each batch norm's running statistics, as safetensors entries.
    private func weightTensors(_ parameters: [(String, Tensor)], _ norms: [(String, BatchNorm)]) -> [(String, [Int], [Float])] {
        var tensors = parameters.map { ($0.0, $0.1.shape, $0.1.data) }
        for (name, bn) in norms {
            tensors.append(("\(name).running_mean", [bn.channels], bn.runningMean))
            tensors.append(("\(name).running_var", [bn.channels], bn.runningVar))
        }
        return tensors
    }

    /// Restores weights, running statistics, Adam's moments and the loader's position from a
    /// checkpoint; the next `run` continues from its step. A checkpoint made with another
    /// config is refused with the list of what changed, unless `allowConfigChange`; only the
    /// run's length, validation and checkpoint cadence and threads may change freely.
    public func resume(from path: String, allowConfigChange: Bool = false) throws {
        let file: SafeTensors.File
        do { file = try SafeTensors.read(path) } catch {
            throw InputError(path: path, reason: "not a readable safetensors checkpoint (\(error.localizedDescription))")
        }
        guard file.metadata["format"] == Self.checkpointFormat else { throw InputError(path: path, reason: "not a SonoDual dual-model checkpoint") }
        guard file.metadata["model_size"] == config.modelSize.rawValue else {
            throw InputError(path: path, reason: "checkpoint is for the \(file.metadata["model_size"] ?? "?") model, not \(config.modelSize.rawValue)")
        }
        if let stored = file.metadata["config"] {
            let previous = try RunConfig.stored(toml: stored, source: path + " (its config)")
            let changed = config.differences(from: previous).filter { !RunConfig.resumableChanges.contains($0.key) }
            if !changed.isEmpty && !allowConfigChange {
                throw InputError(path: path, reason: "the run config differs from the checkpoint's: "
                    + changed.map { "\($0.key) \($0.was) → \($0.now)" }.joined(separator: "; ") + " (pass --allow-config-change to resume anyway)")
            }
        }
        let stored = Dictionary(file.tensors.map { ($0.0, ($0.1, $0.2)) }, uniquingKeysWith: { a, _ in a })
        func values(_ name: String, count: Int) throws -> [Float] {
            guard let (_, v) = stored[name], v.count == count else { throw InputError(path: path, reason: "missing or misshapen tensor \(name)") }
            return v
        }
        let adamStep = Int(file.metadata["adam_step"] ?? "0") ?? 0
        for (name, p) in Self.parameters(video, image, audio, heads) {
            p.data = try values(name, count: p.count)
            // Parameters an objective never trains (the image encoder without the image) have no moments.
            if adamStep > 0, stored["optimizer.m.\(name)"] != nil {
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
        audio.forwardPasses = UInt64(step)  // one training audio forward per step: the same dropout masks follow
        completedSteps = step
    }
}

extension Trainer {
    /// Retrieval and loss terms of a checkpoint over one split of a clip dataset: the run's
    /// validation code, on that split (`sono-eval retrieval`).
    public static func retrieval(checkpoint path: String, catalog: Catalog, dataset: String, split: Split) throws -> ValidationReport {
        let file: SafeTensors.File
        do { file = try SafeTensors.read(path) } catch {
            throw InputError(path: path, reason: "not a readable safetensors checkpoint (\(error.localizedDescription))")
        }
        guard file.metadata["format"] == checkpointFormat, let toml = file.metadata["config"] else {
            throw InputError(path: path, reason: "not a sono-train checkpoint with its config (encoders.safetensors has no heads: use last or best)")
        }
        var config = try RunConfig.stored(toml: toml, source: path + " (its config)")
        config.datasets = [dataset]
        config.split = nil
        config.validationSplit = split
        config.datasetWeights = []
        let trainer = try Trainer(catalog: catalog, config: config)
        try trainer.resume(from: path, allowConfigChange: true)
        guard let report = try trainer.validate(step: trainer.completedSteps) else {
            throw InputError(path: catalog.path, reason: "dataset \(dataset) has no records in split \(split.rawValue)")
        }
        return report
    }
}
