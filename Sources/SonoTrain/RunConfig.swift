import Foundation
import SonoCore
import SonoDataset
import SonoModels
import SonoTensor

/// Everything a pretraining run depends on. Written as TOML (a run file, `--set key=value` on
/// the command line, the resolved `run.toml` saved beside the checkpoints and in their
/// metadata); every key is listed once, in `RunConfig.keys`, with its reader and writer.
public struct RunConfig: Equatable, Sendable {
    public enum OptimizerKind: String, Sendable, CaseIterable { case adam, adamw }
    public enum ScheduleKind: String, Sendable, CaseIterable { case constant, cosine }

    // [data]
    public var datasets: [String] = ["medium"]
    /// Per-dataset weights (empty: each record once per epoch).
    public var datasetWeights: [Double] = []
    /// The split trained on; nil: all.
    public var split: Split? = .train
    public var batchSize = 8
    /// At most this many clips of one scan per batch (0: half the batch).
    public var maxPerScan = 0
    /// `maxPerScan` as the loader applies it (0 resolved to half the batch, at least 1).
    public var resolvedMaxPerScan: Int { maxPerScan > 0 ? maxPerScan : max(1, batchSize / 2) }
    /// Batches made of runs of this many clips of one scan (0 or 1: off), so that other moments
    /// of a clip's own scan are among its negatives and telling the scans apart does not solve
    /// the contrastive terms (docs/training.md, "Why it collapsed", session 6).
    public var scanGroup = 0
    /// Steps in all, or, when `epochs` > 0, epochs × batches per epoch.
    public var steps = 10
    public var epochs = 0
    /// Everything random follows it: weights, heads, loader order, augmentation, dropout.
    public var seed: UInt64 = 0
    public var threads = 2
    // [model]
    public var modelSize = ModelSize.full
    // [init]: pretrained weights per encoder (safetensors in torchvision / PANNs layout; "" = random).
    public var initVideo = "", initImage = "", initAudio = ""
    /// Prefix of the audio file's keys ("model." for a converted PANNs checkpoint).
    public var initAudioKeyPrefix = ""
    /// Encoders kept as initialised (pretrained features used as they are, as a linear probe
    /// keeps them): evaluation mode, outside the gradient graph, never updated.
    public var frozen: Set<FeatureEncoder> = []
    // [optimizer]
    public var optimizer = OptimizerKind.adam
    /// 1e-3 with a 10-step warm-up by default: the paper's 3e-3 from step 0 gives from-scratch
    /// gradient norms in the thousands (docs/training.md, "Why it collapsed"); data-manifests/runs/paper.toml keeps 3e-3.
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 1e-4
    public var beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
    public var warmupSteps = 10
    public var schedule = ScheduleKind.constant
    public var minLearningRate: Float = 0
    /// Global gradient-norm clip (0: off).
    public var clipNorm: Float = 0
    // [objective]
    public var preset = ObjectivePreset.full
    /// The learning objective (docs/training.md, "Deviations"): the paper's terms with the fused
    /// terms against the other modality, MMSL averaged over the batch and BatchNorm on the MMCL
    /// projections. `DualObjectiveConfig()` itself is the paper's; paper.toml selects it.
    public var objective: DualObjectiveConfig = {
        var o = DualObjectiveConfig()
        o.fusionTarget = .cross
        o.rankingReduction = .mean
        o.latentBatchNorm = true
        return o
    }()
    /// VSE++'s warm-up: MMSL sums the violations over all negatives for this many steps, then
    /// takes the hardest negative (0: max violation from the first step, the paper's).
    public var maxViolationAfter = 30
    // [augment]
    /// Flip and shift by default: with them the still is no longer a pixel copy of a clip frame
    /// at a fixed place (docs/training.md, "Deviations").
    public var flip = true
    public var maxShift = 6
    /// Random resized crop (lower bound of the area fraction; 1: off), brightness/contrast
    /// jitter (0: off), and a draw of its own for the still (`Augmentation`).
    public var minCropArea: Float = 1
    public var intensity: Float = 0
    public var independentStill = false
    /// Rotation (± degrees) and zoom (1/z…z) about the centre, each view its own draw with
    /// `independentStill` (docs/training.md, session 7). 0 and 1: off.
    public var maxRotation: Float = 0
    public var maxZoom: Float = 1
    public var specAugment = false
    // [normalize]: (x/255 − mean)/std for pixels, (x − mean)/std for the log-mel.
    public var pixelMean: Float = 0, pixelStd: Float = 1
    /// Each still and clip standardised on its own (`SampleStandardization`: removes the gain,
    /// the shortcut that matched a clip to its still; docs/training.md, "Why it collapsed").
    public var perSample = true
    public var logMelMean: Float = 0, logMelStd: Float = 1
    // [validation]
    /// Validate every this many steps (0: only at the end, when the split has clips).
    public var validateEvery = 0
    public var validationSplit: Split = .val
    /// The metric that picks `best.safetensors` (a key of `ValidationReport.metrics`).
    public var bestMetric = "v2a_latent_r1"
    // [checkpoints]
    /// Also checkpoint every this many steps (0: only at the end and when interrupted).
    public var checkpointEvery = 0
    /// Step checkpoints kept (the newest K); `last` and `best` are kept besides.
    public var keepLast = 3

    public init() {}

    /// The objective the preset and the [objective] settings make.
    public var resolvedObjective: DualObjectiveConfig { preset.applied(to: objective) }

    /// Keys that may change between a run and its resumption without changing what it learns.
    public static let resumableChanges: Set<String> = [
        "data.steps", "data.epochs", "data.threads", "validation.every", "checkpoints.every", "checkpoints.keep_last",
    ]
}

/// One configuration key: its TOML name, how to write it, how to read it.
struct RunKey {
    let name: String
    let render: (RunConfig) -> String
    let read: (inout RunConfig, TOMLValue) throws(RunKeyError) -> Void
}

struct RunKeyError: Error { let reason: String }

extension RunConfig {
    static var keys: [RunKey] {
        [
            strings("data.datasets", \.datasets),
            RunKey(name: "data.weights", render: { "[" + $0.datasetWeights.map { "\($0)" }.joined(separator: ", ") + "]" }) { c, v throws(RunKeyError) in
                guard case .array(let items) = v else { throw RunKeyError(reason: "expected an array of numbers") }
                c.datasetWeights = try items.map { item throws(RunKeyError) in
                    guard let d = item.double, d > 0 else { throw RunKeyError(reason: "weights must be positive numbers") }
                    return d
                }
            },
            RunKey(name: "data.split", render: { "\"\($0.split?.rawValue ?? "all")\"" }) { c, v throws(RunKeyError) in
                guard case .string(let s) = v, s == "all" || Split(rawValue: s) != nil else {
                    throw RunKeyError(reason: "must be \"train\", \"val\", \"test\" or \"all\"")
                }
                c.split = Split(rawValue: s)
            },
            int("data.batch_size", \.batchSize, 2...65536),
            int("data.max_per_scan", \.maxPerScan, 0...65536),
            int("data.scan_group", \.scanGroup, 0...65536),
            int("data.steps", \.steps, 1...Int.max),
            int("data.epochs", \.epochs, 0...1_000_000),
            RunKey(name: "data.seed", render: { "\($0.seed)" }) { c, v throws(RunKeyError) in
                guard case .integer(let i) = v, i >= 0 else { throw RunKeyError(reason: "expected a non-negative integer") }
                c.seed = UInt64(i)
            },
            int("data.threads", \.threads, 1...256),
            choice("model.size", \.modelSize),
            text("init.video", \.initVideo),
            text("init.image", \.initImage),
            text("init.audio", \.initAudio),
            text("init.audio_key_prefix", \.initAudioKeyPrefix),
            RunKey(name: "init.freeze", render: { c in
                "[" + FeatureEncoder.allCases.filter { c.frozen.contains($0) }.map { "\"\($0.rawValue)\"" }.joined(separator: ", ") + "]"
            }) { c, v throws(RunKeyError) in
                let items = try listItems(v, expected: "expected an array of encoder names (video, image, audio)")
                c.frozen = Set(try items.map { item throws(RunKeyError) -> FeatureEncoder in
                    guard case .string(let s) = item, let e = FeatureEncoder(rawValue: s) else {
                        throw RunKeyError(reason: "must name encoders: \"video\", \"image\", \"audio\"")
                    }
                    return e
                })
            },
            choice("optimizer.kind", \.optimizer),
            float("optimizer.lr", \.learningRate, 0...10),
            float("optimizer.weight_decay", \.weightDecay, 0...10),
            float("optimizer.beta1", \.beta1, 0...0.999999),
            float("optimizer.beta2", \.beta2, 0...0.999999),
            float("optimizer.eps", \.epsilon, 1e-12...1),
            int("optimizer.warmup_steps", \.warmupSteps, 0...Int.max),
            choice("optimizer.schedule", \.schedule),
            float("optimizer.min_lr", \.minLearningRate, 0...10),
            float("optimizer.clip_norm", \.clipNorm, 0...1e6),
            choice("objective.preset", \.preset),
            float("objective.temperature", \.objective.temperature, 1e-4...100),
            float("objective.pi", \.objective.pi, 0...1),
            float("objective.margin", \.objective.margin, 0...10),
            float("objective.lambda", \.objective.lambda, 0...1000),
            bool("objective.symmetric", \.objective.symmetric),
            bool("objective.shared_fusion", \.objective.sharedFusion),
            bool("objective.audio_image_pair", \.objective.audioImagePair),
            RunKey(name: "objective.ranking_reduction", render: { "\"\($0.objective.rankingReduction == .sum ? "sum" : "mean")\"" }) { c, v throws(RunKeyError) in
                guard case .string(let s) = v, s == "sum" || s == "mean" else { throw RunKeyError(reason: "must be \"sum\" or \"mean\"") }
                c.objective.rankingReduction = s == "sum" ? .sum : .mean
            },
            choice("objective.fusion_target", \.objective.fusionTarget),
            int("objective.max_violation_after", \.maxViolationAfter, 0...Int.max),
            bool("objective.latent_batch_norm", \.objective.latentBatchNorm),
            int("objective.projector_hidden", \.objective.projectorHidden, 0...65536),
            float("objective.decorrelation", \.objective.decorrelation, 0...1000),
            float("objective.image_self", \.objective.imageSelf, 0...1000),
            bool("augment.flip", \.flip),
            int("augment.max_shift", \.maxShift, 0...64),
            float("augment.min_crop_area", \.minCropArea, 0.05...1),
            float("augment.intensity", \.intensity, 0...0.9),
            bool("augment.independent_still", \.independentStill),
            float("augment.max_rotation", \.maxRotation, 0...180),
            float("augment.max_zoom", \.maxZoom, 1...4),
            bool("augment.spec_augment", \.specAugment),
            float("normalize.pixel_mean", \.pixelMean, -10...10),
            float("normalize.pixel_std", \.pixelStd, 1e-6...100),
            bool("normalize.per_sample", \.perSample),
            float("normalize.logmel_mean", \.logMelMean, -1000...1000),
            float("normalize.logmel_std", \.logMelStd, 1e-6...1000),
            int("validation.every", \.validateEvery, 0...Int.max),
            choice("validation.split", \.validationSplit),
            RunKey(name: "validation.metric", render: { "\"\($0.bestMetric)\"" }) { c, v throws(RunKeyError) in
                guard case .string(let s) = v, ValidationReport.metricNames.contains(s) else {
                    throw RunKeyError(reason: "must be one of " + ValidationReport.metricNames.joined(separator: ", "))
                }
                c.bestMetric = s
            },
            int("checkpoints.every", \.checkpointEvery, 0...Int.max),
            int("checkpoints.keep_last", \.keepLast, 0...1_000_000),
        ]
    }

    private static func int(_ name: String, _ path: WritableKeyPath<RunConfig, Int>, _ range: ClosedRange<Int>) -> RunKey {
        RunKey(name: name, render: { "\($0[keyPath: path])" }) { c, v throws(RunKeyError) in
            guard case .integer(let i) = v else { throw RunKeyError(reason: "expected an integer") }
            guard range.contains(i) else { throw RunKeyError(reason: "must be in \(range.lowerBound)…\(range.upperBound == Int.max ? "" : "\(range.upperBound)")") }
            c[keyPath: path] = i
        }
    }

    private static func float(_ name: String, _ path: WritableKeyPath<RunConfig, Float>, _ range: ClosedRange<Double>) -> RunKey {
        RunKey(name: name, render: { "\(Double($0[keyPath: path]))" }) { c, v throws(RunKeyError) in
            guard let d = v.double, d.isFinite else { throw RunKeyError(reason: "expected a number") }
            guard range.contains(d) else { throw RunKeyError(reason: "must be in \(range.lowerBound)…\(range.upperBound)") }
            c[keyPath: path] = Float(d)
        }
    }

    private static func bool(_ name: String, _ path: WritableKeyPath<RunConfig, Bool>) -> RunKey {
        RunKey(name: name, render: { "\($0[keyPath: path])" }) { c, v throws(RunKeyError) in
            guard case .bool(let b) = v else { throw RunKeyError(reason: "expected true or false") }
            c[keyPath: path] = b
        }
    }

    private static func text(_ name: String, _ path: WritableKeyPath<RunConfig, String>) -> RunKey {
        RunKey(name: name, render: { "\"\($0[keyPath: path])\"" }) { c, v throws(RunKeyError) in
            guard case .string(let s) = v else { throw RunKeyError(reason: "expected a string") }
            c[keyPath: path] = s
        }
    }

    /// A list key's items: an array, or one bare value as an array of one.
    private static func listItems(_ v: TOMLValue, expected: String) throws(RunKeyError) -> [TOMLValue] {
        switch v {
        case .array(let a): return a
        case .string: return [v]
        default: throw RunKeyError(reason: expected)
        }
    }

    private static func strings(_ name: String, _ path: WritableKeyPath<RunConfig, [String]>) -> RunKey {
        RunKey(name: name, render: { "[" + $0[keyPath: path].map { "\"\($0)\"" }.joined(separator: ", ") + "]" }) { c, v throws(RunKeyError) in
            let names = try listItems(v, expected: "expected a string or an array of strings").map { item throws(RunKeyError) -> String in
                guard case .string(let s) = item, !s.isEmpty else { throw RunKeyError(reason: "expected non-empty strings") }
                return s
            }
            guard !names.isEmpty else { throw RunKeyError(reason: "needs at least one name") }
            c[keyPath: path] = names
        }
    }

    private static func choice<E: RawRepresentable & CaseIterable>(_ name: String, _ path: WritableKeyPath<RunConfig, E>) -> RunKey where E.RawValue == String {
        RunKey(name: name, render: { "\"\($0[keyPath: path].rawValue)\"" }) { c, v throws(RunKeyError) in
            guard case .string(let s) = v, let e = E(rawValue: s) else {
                throw RunKeyError(reason: "must be " + E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
            }
            c[keyPath: path] = e
        }
    }

    /// Applies the keys of a TOML text (a run file, or one `--set` override as "table.key = value").
    public mutating func apply(toml text: String, source: String) throws {
        let keys = Dictionary(uniqueKeysWithValues: Self.keys.map { ($0.name, $0) })
        for (key, value, line) in try TOMLSubset.parse(text, path: source) {
            guard let k = keys[key] else {
                throw InputError(path: source, reason: "line \(line): unknown key \(key) (known: \(Self.keys.map(\.name).joined(separator: ", ")))")
            }
            do { try k.read(&self, value) } catch { throw InputError(path: source, reason: "line \(line): \(key): \(error.reason)") }
        }
    }

    /// Applies `key=value` (e.g. `optimizer.lr=1e-3`), as given to `--set`.
    public mutating func apply(override: String) throws {
        guard let eq = override.firstIndex(of: "="), let dot = override[..<eq].lastIndex(of: ".") else {
            throw InputError(path: "--set", reason: "\(override): expected table.key=value, e.g. optimizer.lr=1e-3")
        }
        let table = override[..<dot], key = override[override.index(after: dot)..<eq], value = override[override.index(after: eq)...]
        let text = "[\(table)]\n\(key) = \(Self.quotedIfBare(String(value)))\n"
        do { try apply(toml: text, source: "--set") } catch let error as InputError {
            throw InputError(path: "--set", reason: "\(override): " + error.reason.replacingOccurrences(of: "line 2: ", with: ""))
        }
    }

    /// Lets `--set data.split=val` or `--set init.audio=/path/w.safetensors` omit TOML's quotes:
    /// anything that is not a number, a boolean, an array or a quoted string is a string.
    private static func quotedIfBare(_ value: String) -> String {
        let v = value.trimmingCharacters(in: .whitespaces)
        let isLiteral = v == "true" || v == "false" || v.hasPrefix("[") || v.hasPrefix("\"") || Double(v) != nil
        return isLiteral ? v : "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The config as a TOML file with every key, in table order: what is saved beside the
    /// checkpoints and what a resumption compares.
    public var toml: String {
        var lines: [String] = ["# SonoDual pretraining run (sono-train). Every key; see docs/training.md."]
        var table = ""
        for key in Self.keys {
            let parts = key.name.split(separator: ".", maxSplits: 1).map(String.init)
            if parts[0] != table {
                table = parts[0]
                lines.append("\n[\(table)]")
            }
            lines.append("\(parts[1]) = \(key.render(self))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Keys whose values differ, "key: old → new".
    public func differences(from other: RunConfig) -> [(key: String, was: String, now: String)] {
        Self.keys.compactMap { k in
            let a = k.render(other), b = k.render(self)
            return a == b ? nil : (k.name, a, b)
        }
    }

    /// The config stored in a checkpoint's metadata. A key the checkpoint's version of
    /// sono-train did not have yet is absent from it and takes the behaviour of that version,
    /// not today's default: `normalize.per_sample` false.
    public static func stored(toml text: String, source: String) throws -> RunConfig {
        var c = RunConfig()
        c.perSample = false
        try c.apply(toml: text, source: source)
        return c
    }

    /// Reads a run file.
    public static func load(_ path: String) throws -> RunConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw InputError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read run config" : "no such run config")
        }
        var c = RunConfig()
        try c.apply(toml: text, source: path)
        return c
    }
}
