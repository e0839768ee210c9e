import Foundation
import SonoCatalog
import SonoCore
import SonoEval
import SonoModels
import SonoTensor

/// One fold's saliency metrics: the means over its test frames that have gaze, each as the
/// MIT saliency benchmark defines it (`SaliencyMetrics`).
public struct SaliencyFoldMetrics: Codable, Sendable, Equatable {
    public var fold: Int
    /// Test frames with gaze (those without have no ground truth and are not scored).
    public var frames: Int
    public var kld: Double, sim: Double, nss: Double, cc: Double
}

/// One fold's scores of the model and of the prior every saliency model must beat: the mean
/// gaze map of the training frames, the same map for every test frame (where people look
/// regardless of the image; the MIT benchmark's centre-bias baselines play this part).
public struct SaliencyFold: Codable, Sendable, Equatable {
    public var model: SaliencyFoldMetrics
    public var prior: SaliencyFoldMetrics
}

/// What a saliency fine-tuning reports: per fold, and each metric's mean (sample sd) over folds.
public struct SaliencyReport: Codable, Sendable {
    public var dataset: String
    public var start: String
    public var startHash: String
    public var mapSize: Int
    public var folds: [SaliencyFold]
    /// The model's metrics over folds, then the training-gaze prior's.
    public var kld: MeanSD, sim: MeanSD, nss: MeanSD, cc: MeanSD
    public var prior: [String: MeanSD]
    public var epochs: Int, batchSize: Int, learningRate: Float, seed: UInt64

    /// `metric,mean,sd` rows.
    public var csv: String {
        var lines = ["metric,mean,sd"]
        for (name, v) in metrics { lines.append("\(name),\(v.mean),\(v.sd.map { "\($0)" } ?? "")") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per fold and the mean (sd), as the paper's Table 2 reports them, the model's and the prior's.
    public func markdownTable() -> String {
        var lines = ["| fold | predictor | frames | KLD ↓ | SIM ↑ | NSS ↑ | CC ↑ |", "|---|---|---|---|---|---|---|"]
        for f in folds {
            for (name, m) in [("model", f.model), ("training-gaze prior", f.prior)] {
                lines.append(String(format: "| %d | %@ | %d | %.3f | %.3f | %.3f | %.3f |", m.fold, name, m.frames, m.kld, m.sim, m.nss, m.cc))
            }
        }
        func cell(_ v: MeanSD?) -> String { v.map { v in v.sd.map { String(format: "%.3f (%.3f)", v.mean, $0) } ?? String(format: "%.3f", v.mean) } ?? "" }
        let frames = folds.reduce(0) { $0 + $1.model.frames }
        lines.append("| mean (sd) | model | \(frames) | \(cell(kld)) | \(cell(sim)) | \(cell(nss)) | \(cell(cc)) |")
        lines.append("| mean (sd) | training-gaze prior | \(frames) | \(cell(prior["kld"])) | \(cell(prior["sim"])) | \(cell(prior["nss"])) | \(cell(prior["cc"])) |")
        return lines.joined(separator: "\n") + "\n"
    }

    var metrics: [(String, MeanSD)] {
        [("kld", kld), ("sim", sim), ("nss", nss), ("cc", cc)]
            + ["kld", "sim", "nss", "cc"].compactMap { name in prior[name].map { ("prior_\(name)", $0) } }
    }
}

/// Saliency prediction by fine-tuning (issue 15): the start's ResNet-18 up to layer4, its
/// pooling and fc replaced by `SaliencyDecoder`, a softmax over the map's pixels, trained with KL
/// divergence to the gaze map, per fold of the dataset's folds by scan (train on the other folds'
/// scans, score the fold's). Frames without gaze take no part. Each finished fold is written
/// (`fold-K.json`, `fold-K.safetensors`), and a rerun skips it, as `PlaneFineTuning` does.
public final class SaliencyFineTuning {
    /// The settings (after `run` starts, with the frame-size defaults filled in).
    public private(set) var config: FineTuneConfig
    public var log: (String) -> Void = { _ in }
    /// Set from any thread (a signal handler) to stop at the next epoch boundary.
    public let stop = StopRequest()

    public init(config: FineTuneConfig) { self.config = config }

    public func run(catalog: Catalog, out: String) throws -> SaliencyReport {
        let run = try FoldedRun(config: config, catalog: catalog, out: out)
        config = run.config
        let (dataset, data) = (run.dataset, run.data)
        guard let m = data.mapSize else { throw InputError(path: catalog.path, reason: "dataset \(dataset.label) has no gaze maps (a [saliency] recipe makes them)") }
        let featureSide = ResNet18.featureSide(input: data.size)
        guard let stages = SaliencyDecoder.stages(from: featureSide, to: m), data.size % m == 0 else {
            throw InputError(path: catalog.path, reason: "dataset \(dataset.label): map size \(m) is not ResNet-18's \(featureSide)×\(featureSide) features (frames of \(data.size)) times a power of two")
        }
        let withGaze = data.density.indices.filter { data.density[$0].contains { $0 > 0 } }
        let results = try run.eachFold(log: log) { fold -> SaliencyFold in
            let (trainRows, test) = run.split(fold: fold, of: withGaze)
            guard trainRows.count >= 2, !test.isEmpty else {
                throw InputError(path: catalog.path, reason: "dataset \(dataset.label), fold \(fold): \(trainRows.count) training and \(test.count) test frames with gaze")
            }
            let (encoder, input) = try config.startEncoder()
            let decoder = SaliencyDecoder(inputChannels: encoder.outputFeatures, stages: stages, initialization: .torchvision(seed: config.seed &+ 5))
            try train(encoder, decoder, input, data: data, rows: trainRows, fold: fold, state: run.file(fold: fold, "epoch.safetensors"))
            let predicted = predict(encoder, decoder, input, data: data, rows: test)
            let model = score(data: data, rows: test, fold: fold, predicted: predicted)
            let shown = Array(test.indices.prefix(SaliencyExamples.perFold))
            try SaliencyExamples(fold: fold, frames: shown.map { data.pixels[test[$0]] }, truth: shown.map { data.density[test[$0]] },
                                 predicted: shown.map { predicted[$0].map(Float.init) }, size: data.size, mapSize: m).write(to: out)
            let meanMap = trainRows.reduce(into: [Double](repeating: 0, count: m * m)) { sum, row in
                for k in sum.indices { sum[k] += Double(data.density[row][k]) / Double(trainRows.count) }
            }
            let scores = SaliencyFold(model: model, prior: score(data: data, rows: test, fold: fold, predicted: test.map { _ in meanMap }))
            log(String(format: "fold %d: %d train, %d test frames; KLD %.3f, SIM %.3f, NSS %.3f, CC %.3f (training-gaze prior: %.3f, %.3f, %.3f, %.3f)",
                       fold, trainRows.count, test.count, model.kld, model.sim, model.nss, model.cc,
                       scores.prior.kld, scores.prior.sim, scores.prior.nss, scores.prior.cc))
            try SafeTensors.write(FineTunedWeights.tensors([("image", encoder), ("decoder", decoder)]),
                                  metadata: ["fold": "\(fold)", "start": config.start.description, "map_size": "\(m)"],
                                  to: run.file(fold: fold, "safetensors"))
            return scores
        }
        let priors = results.map(\.prior)
        return SaliencyReport(dataset: dataset.label, start: config.start.description, startHash: try config.startHash(), mapSize: m, folds: results,
                              kld: MeanSD(results.map(\.model.kld)), sim: MeanSD(results.map(\.model.sim)), nss: MeanSD(results.map(\.model.nss)),
                              cc: MeanSD(results.map(\.model.cc)),
                              prior: ["kld": MeanSD(priors.map(\.kld)), "sim": MeanSD(priors.map(\.sim)), "nss": MeanSD(priors.map(\.nss)), "cc": MeanSD(priors.map(\.cc))],
                              epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, seed: config.seed)
    }

    /// Log-probabilities of the map's pixels, [B, m·m].
    private func logMaps(_ encoder: ResNet18, _ decoder: SaliencyDecoder, _ x: Tensor) -> Tensor {
        let logits = decoder(encoder.featureMap(x))
        return logits.reshaped([logits.shape[0], logits.shape[2] * logits.shape[3]]).logSoftmax()
    }

    private func train(_ encoder: ResNet18, _ decoder: SaliencyDecoder, _ input: FrameInput, data: FineTuneFrames, rows: [Int], fold: Int, state: String) throws {
        encoder.setTraining(true)
        decoder.setTraining(true)
        let unit = data.size / (data.mapSize ?? data.size)
        let checkpoint = FoldCheckpoint(path: state, modules: [("image", encoder), ("decoder", decoder)], extra: [],
                                        identity: config.identity.merging(["task": "saliency"]) { a, _ in a })
        try config.trainFold(rows: rows, fold: fold, checkpoint: checkpoint, stop: stop, log: log, lossName: "KL") { chunk, epoch in
            let jitter = chunk.map { config.jitter(epoch: epoch, row: $0, unit: unit) }
            let logp = logMaps(encoder, decoder, data.batch(rows: chunk, input: input, jitter: jitter))
            return logp.klDivergence(target: Tensor(shape: logp.shape, data: data.gazeMaps(rows: chunk, jitter: jitter)))
        }
        checkpoint.remove()
    }

    /// The predicted map of each of `rows`: the softmax over the map's pixels.
    private func predict(_ encoder: ResNet18, _ decoder: SaliencyDecoder, _ input: FrameInput, data: FineTuneFrames, rows: [Int]) -> [[Double]] {
        encoder.setTraining(false)
        decoder.setTraining(false)
        var maps: [[Double]] = []
        GradientMode.withoutGradients {
            var start = 0
            while start < rows.count {
                let chunk = Array(rows[start..<min(rows.count, start + config.batchSize)])
                start += chunk.count
                let logp = logMaps(encoder, decoder, data.batch(rows: chunk, input: input))
                let cells = logp.shape[1]
                for b in chunk.indices { maps.append((0..<cells).map { exp(Double(logp.data[b * cells + $0])) }) }
            }
        }
        return maps
    }

    /// The mean metrics over `rows` of the maps `predicted` for them.
    private func score(data: FineTuneFrames, rows: [Int], fold: Int, predicted: [[Double]]) -> SaliencyFoldMetrics {
        var sums = (kld: 0.0, sim: 0.0, nss: 0.0, cc: 0.0)
        for (row, p) in zip(rows, predicted) {
            let q = data.density[row].map(Double.init)
            sums.kld += SaliencyMetrics.kld(prediction: p, density: q)
            sums.sim += SaliencyMetrics.sim(prediction: p, density: q)
            sums.nss += SaliencyMetrics.nss(prediction: p, fixations: data.fixations[row])
            sums.cc += SaliencyMetrics.cc(prediction: p, density: q)
        }
        let n = Double(rows.count)
        return SaliencyFoldMetrics(fold: fold, frames: rows.count, kld: sums.kld / n, sim: sums.sim / n, nss: sums.nss / n, cc: sums.cc / n)
    }
}

/// A few test frames of a saliency fold with their ground-truth and predicted maps, written
/// beside the fold's weights (`fold-K.examples-*.npy`) so a report can show them.
public struct SaliencyExamples: Sendable {
    public var fold: Int
    /// Frames u8 [n, size, size]; maps (each summing to 1) [n, mapSize, mapSize].
    public var frames: [[UInt8]], truth: [[Float]], predicted: [[Float]]
    public var size: Int, mapSize: Int

    public static let perFold = 4
    static func path(_ dir: String, fold: Int, _ part: String) -> String {
        URL(fileURLWithPath: dir).appendingPathComponent("fold-\(fold).examples-\(part).npy").path
    }

    public func write(to dir: String) throws {
        let n = frames.count
        try NPYArray(dtype: .uint8, shape: [n, size, size], data: Data(frames.flatMap { $0 })).write(to: Self.path(dir, fold: fold, "frames"))
        try NPYArray(float32: truth.flatMap { $0 }, shape: [n, mapSize, mapSize]).write(to: Self.path(dir, fold: fold, "truth"))
        try NPYArray(float32: predicted.flatMap { $0 }, shape: [n, mapSize, mapSize]).write(to: Self.path(dir, fold: fold, "predicted"))
    }

    /// The examples of every fold found in `dir` (a saliency fine-tune's output), fold order.
    public static func read(from dir: String) throws -> [SaliencyExamples] {
        var out: [SaliencyExamples] = []
        var fold = 0
        while FileManager.default.fileExists(atPath: path(dir, fold: fold, "frames")) {
            let f = try NPYArray.read(path(dir, fold: fold, "frames")), t = try NPYArray.read(path(dir, fold: fold, "truth")),
                p = try NPYArray.read(path(dir, fold: fold, "predicted"))
            guard f.shape.count == 3, t.shape.count == 3, p.shape == t.shape, f.shape[0] == t.shape[0], f.dtype == .uint8 else {
                throw InputError(path: path(dir, fold: fold, "frames"), reason: "saliency examples of unexpected shapes \(f.shape), \(t.shape), \(p.shape)")
            }
            let n = f.shape[0], s = f.shape[1], m = t.shape[1]
            let bytes = [UInt8](f.data), tv = t.floats, pv = p.floats
            out.append(SaliencyExamples(fold: fold, frames: (0..<n).map { Array(bytes[($0 * s * s)..<(($0 + 1) * s * s)]) },
                                        truth: (0..<n).map { Array(tv[($0 * m * m)..<(($0 + 1) * m * m)]) },
                                        predicted: (0..<n).map { Array(pv[($0 * m * m)..<(($0 + 1) * m * m)]) }, size: s, mapSize: m))
            fold += 1
        }
        return out
    }
}
