import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoEval
import SonoModels
import SonoTensor

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
    public var classWeighting: ClassWeighting
    /// The encoder fine-tuned (absent from reports written before it was an option: image).
    public var encoder: FeatureEncoder?
}

/// Standard-plane detection by fine-tuning the image encoder (ResNet-18) on the frames, or the
/// video encoder (R(2+1)D-18) on the clips stored with them, with a new linear head and
/// cross-entropy, per fold of the dataset's folds by scan: train on the other folds' scans,
/// test on the fold's. Each finished fold is written (`fold-K.json`, `fold-K.safetensors`), and a
/// rerun skips it: an interrupted run resumes at the fold it was in.
public final class PlaneFineTuning {
    /// The settings (after `run` starts, with the frame-size defaults filled in).
    public private(set) var config: FineTuneConfig
    public var log: (String) -> Void = { _ in }
    /// Set from any thread (a signal handler) to stop at the next epoch boundary.
    public let stop = StopRequest()

    public init(config: FineTuneConfig) { self.config = config }

    public func run(catalog: Catalog, out: String) throws -> FineTuneReport {
        let run = try FoldedRun(config: config, catalog: catalog, out: out)
        config = run.config
        let (dataset, data) = (run.dataset, run.data)
        let present = Set(data.labels).sorted()
        let classList = dataset.parsedRecipe?.frames?.classes ?? .paper
        let classes = try ClassList(present.map { classList[$0] })
        let index = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($0.element, $0.offset) })
        let labels = data.labels.map { index[$0] ?? 0 }
        let metrics = try run.eachFold(log: log) { fold -> ClassificationMetrics in
            let (trainRows, test) = run.split(fold: fold, of: Array(data.scans.indices))
            let (encoder, head) = try model(classes: classes.count)
            try train(encoder, head, data: data, labels: labels, rows: trainRows, fold: fold, state: run.file(fold: fold, "epoch.safetensors"))
            let predicted = predict(encoder, head, data: data, rows: test)
            let m = try ClassificationMetrics(trueLabels: test.map { labels[$0] }, predicted: predicted, classes: classes)
            log(String(format: "fold %d: %d train, %d test frames; accuracy %.3f, macro F1 %.3f", fold, trainRows.count, test.count, m.accuracy, m.macroSubset.f1))
            let tensors = FineTunedWeights.tensors([(encoder.field.rawValue, encoder.module)], extra: [("head.weight", head.weight), ("head.bias", head.bias)])
            try SafeTensors.write(tensors, metadata: ["classes": classes.ids.joined(separator: ","), "fold": "\(fold)", "start": config.start.description,
                                                      "encoder": encoder.field.rawValue],
                                  to: run.file(fold: fold, "safetensors"))
            return m
        }
        return FineTuneReport(dataset: dataset.label, start: config.start.description, startHash: try config.startHash(), classes: classes.ids,
                              folds: metrics, summary: try FoldSummary(metrics), epochs: config.epochs, batchSize: config.batchSize,
                              learningRate: config.learningRate, seed: config.seed, classWeighting: config.classWeighting, encoder: config.encoder)
    }

    /// The start's encoder and a new linear head.
    private func model(classes: Int) throws -> (TunedEncoder, LinearLayer) {
        let encoder = try config.startTunedEncoder()
        return (encoder, LinearLayer(encoder.outputFeatures, classes, initialization: .torchvision(seed: config.seed), salt: 31))
    }

    private func train(_ encoder: TunedEncoder, _ head: LinearLayer, data: FineTuneFrames, labels: [Int], rows: [Int], fold: Int, state: String) throws {
        encoder.module.setTraining(true)
        let classWeights = config.classWeighting.weights(labels: rows.map { labels[$0] }, classes: head.bias.count)
        let checkpoint = FoldCheckpoint(path: state, modules: [(encoder.field.rawValue, encoder.module)], extra: [("head.weight", head.weight), ("head.bias", head.bias)],
                                        identity: config.identity.merging(["task": "planes"]) { a, _ in a })
        try config.trainFold(rows: rows, fold: fold, checkpoint: checkpoint, stop: stop, log: log, lossName: "loss") { chunk, epoch in
            head(encoder(data, rows: chunk, jitter: chunk.map { config.jitter(epoch: epoch, row: $0) }))
                .crossEntropy(targets: chunk.map { labels[$0] }, classWeights: classWeights)
        }
        checkpoint.remove()
    }

    private func predict(_ encoder: TunedEncoder, _ head: LinearLayer, data: FineTuneFrames, rows: [Int]) -> [Int] {
        encoder.module.setTraining(false)
        defer { encoder.module.setTraining(true) }
        var predicted: [Int] = []
        GradientMode.withoutGradients {
            var start = 0
            while start < rows.count {
                let chunk = Array(rows[start..<min(rows.count, start + config.batchSize)])
                start += chunk.count
                let logits = head(encoder(data, rows: chunk))
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
