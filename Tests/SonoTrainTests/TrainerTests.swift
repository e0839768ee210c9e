import Foundation
import XCTest
import SonoCatalog
import SonoCore
import SonoModels
import SonoShards
import SonoTensor
import SonoTestSupport
@testable import SonoDataset
import SonoLoader
@testable import SonoTrain

/// A few steps of the tiny dual model on synthetic shards: finite losses that change the
/// weights, checkpoints with weights, running statistics, loader state and config; resume,
/// presets, schedules, validation, keep-K and a real SIGINT.
final class TrainerTests: XCTestCase {
    /// 12 synthetic clips of 3 scans (4 frames of 32², 64 mel frames; 4 clips in each split) and a tiny-model config.
    private func toyRun(_ dir: TemporaryDirectory, steps: Int) throws -> (Catalog, RunConfig) {
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        let layout = RecordLayout.clip(frames: 4, size: 32, melFrames: 64, mels: 64)
        _ = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("ds")), name: "toy", layout: layout,
                                       count: 12, seed: 1, targetBytes: 1 << 20, scans: 3)
        var config = RunConfig()
        config.datasets = ["toy"]; config.split = nil; config.steps = steps; config.batchSize = 4
        config.modelSize = .tiny; config.threads = 1
        return (catalog, config)
    }

    private func steps(_ events: [TrainingEvent]) -> [StepLog] {
        events.compactMap { if case .step(let s) = $0 { return s } else { return nil } }
    }

    func testTinyModelTrainsAndCheckpoints() throws {
        let dir = TemporaryDirectory()
        let (catalog, config) = try toyRun(dir, steps: 2)
        let trainer = try Trainer(catalog: catalog, config: config)
        let before = trainer.video.namedParameters().first { $0.0 == "stem.0.weight" }?.1.data ?? []
        var events: [TrainingEvent] = []
        XCTAssertEqual(try trainer.run(checkpointDir: dir.file("ckpt")) { events.append($0) }, .completed(steps: 2))
        let logs = steps(events)
        XCTAssertEqual(logs.map(\.step), [1, 2])
        XCTAssertTrue(logs.allSatisfy { $0.loss.isFinite && $0.mmcl > 0 && $0.mmsl >= 0 && $0.lr == trainer.learningRate(at: $0.step - 1) })
        XCTAssertTrue(logs.allSatisfy { $0.terms.nceAudioVideo != nil && $0.terms.rankVideoImage != nil && (0...1).contains($0.dataWait) })
        let after = trainer.video.namedParameters().first { $0.0 == "stem.0.weight" }?.1.data ?? []
        XCTAssertNotEqual(before, after, "Adam moved the weights")

        let file = try SafeTensors.read(dir.file("ckpt/last.safetensors"))
        let names = Set(file.tensors.map(\.0))
        for key in ["video.stem.0.weight", "image.conv1.weight", "audio.fc1.weight", "heads.proj_v.weight",
                    "video.layer1.0.conv1.1.running_mean", "audio.bn0.running_var"] {
            XCTAssertTrue(names.contains(key), key)
        }
        XCTAssertEqual(file.metadata["step"], "2")
        XCTAssertEqual(file.metadata["loader_step"], "2")
        XCTAssertEqual(try RunConfig.load(dir.file("ckpt/run.toml")), config, "the resolved config is saved beside the checkpoints")
        let stem = try XCTUnwrap(file.tensors.first { $0.0 == "video.stem.0.weight" })
        XCTAssertEqual(stem.2, after)
        let encoders = try SafeTensors.read(dir.file("ckpt/encoders.safetensors"))
        XCTAssertFalse(encoders.tensors.contains { $0.0.hasPrefix("heads.") || $0.0.hasPrefix("optimizer.") })
        XCTAssertTrue(encoders.tensors.contains { $0.0 == "audio.bn0.running_mean" })
    }

    /// Clips of a single scan under the per-scan cap would make batches of one clip, which batch
    /// norm cannot train on: a clear error up front, not a crash mid-run.
    func testBatchesOfOneClipAreRefused() throws {
        let dir = TemporaryDirectory()
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        _ = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("ds")), name: "one",
                                       layout: RecordLayout.clip(frames: 4, size: 32, melFrames: 64, mels: 64), count: 8, seed: 1,
                                       targetBytes: 1 << 20, scans: 1)
        var config = RunConfig()
        config.datasets = ["one"]; config.split = nil; config.steps = 2; config.batchSize = 2; config.modelSize = .tiny; config.threads = 1
        XCTAssertThrowsError(try Trainer(catalog: catalog, config: config)) { error in
            XCTAssertTrue("\(error)".contains("data.max_per_scan = 1"), "\(error)")
            XCTAssertTrue("\(error)".contains(catalog.path), "\(error)")
        }
        config.maxPerScan = 2
        XCTAssertEqual(try Trainer(catalog: catalog, config: config).run(checkpointDir: nil) { _ in }, .completed(steps: 2))
    }

    /// Stopping after 2 steps and resuming from the checkpoint gives the same 4-step run.
    func testResumeContinuesTheSameRun() throws {
        let dir = TemporaryDirectory()
        let (catalog, base) = try toyRun(dir, steps: 4)
        var config = base
        config.specAugment = true
        config.flip = true
        var straight: [Float] = []
        try Trainer(catalog: catalog, config: config).run(checkpointDir: nil) { if case .step(let s) = $0 { straight.append(s.loss) } }

        let first = try Trainer(catalog: catalog, config: config)
        first.stop.request()  // a stop requested before any step ends the run at once (checked below)
        var resumed: [Float] = []
        var half = config
        half.steps = 2
        try Trainer(catalog: catalog, config: half).run(checkpointDir: dir.file("a")) { if case .step(let s) = $0 { resumed.append(s.loss) } }
        let second = try Trainer(catalog: catalog, config: config)
        try second.resume(from: dir.file("a/last.safetensors"))
        try second.run(checkpointDir: nil) { if case .step(let s) = $0 { resumed.append(s.loss) } }
        XCTAssertEqual(resumed.count, 4)
        for (a, b) in zip(straight, resumed) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a))) }
        XCTAssertEqual(try first.run(checkpointDir: nil) { _ in }, .interrupted(steps: 0), "a stop request ends the run at the next boundary")
    }

    /// A checkpoint made with another objective is refused, naming what changed.
    func testResumeRefusesAChangedConfig() throws {
        let dir = TemporaryDirectory()
        let (catalog, config) = try toyRun(dir, steps: 1)
        try Trainer(catalog: catalog, config: config).run(checkpointDir: dir.file("a")) { _ in }
        var changed = config
        changed.objective.temperature = 0.2
        changed.steps = 3  // the length may change freely
        XCTAssertThrowsError(try Trainer(catalog: catalog, config: changed).resume(from: dir.file("a/last.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("objective.temperature 0.1"), "\(error)")
            XCTAssertFalse("\(error)".contains("data.steps"), "\(error)")
        }
        XCTAssertNoThrow(try Trainer(catalog: catalog, config: changed).resume(from: dir.file("a/last.safetensors"), allowConfigChange: true))
    }

    /// Each preset trains its own terms; without the image the image encoder is not run (its
    /// weights stay, it has no optimiser state), and such a run resumes.
    func testPresetsTrainTheirTerms() throws {
        let dir = TemporaryDirectory()
        let (catalog, base) = try toyRun(dir, steps: 1)
        for preset in ObjectivePreset.allCases {
            var config = base
            config.preset = preset
            let trainer = try Trainer(catalog: catalog, config: config)
            let imageBefore = trainer.image.namedParameters().first?.1.data ?? []
            var events: [TrainingEvent] = []
            try trainer.run(checkpointDir: dir.file(preset.rawValue)) { events.append($0) }
            let terms = try XCTUnwrap(steps(events).first?.terms)
            XCTAssertEqual(terms.mmcl != nil, preset != .mmslOnly, preset.rawValue)
            XCTAssertEqual(terms.mmsl != nil, preset != .mmclOnly, preset.rawValue)
            XCTAssertEqual(terms.nceImageVideo != nil || terms.rankVideoImage != nil, preset != .noImage, preset.rawValue)
            if preset == .noImage {
                XCTAssertEqual(trainer.image.namedParameters().first?.1.data, imageBefore)
                let names = try SafeTensors.read(dir.file("no-image/last.safetensors")).tensors.map(\.0)
                XCTAssertFalse(names.contains { $0.hasPrefix("optimizer.m.image.") })
                var longer = config
                longer.steps = 2
                let resumed = try Trainer(catalog: catalog, config: longer)
                try resumed.resume(from: dir.file("no-image/last.safetensors"))
                XCTAssertEqual(try resumed.run(checkpointDir: nil) { _ in }, .completed(steps: 2))
            }
        }
    }

    /// Warm-up then cosine: the values at the ends and the middle.
    func testScheduleValues() throws {
        let dir = TemporaryDirectory()
        let (catalog, base) = try toyRun(dir, steps: 110)
        var config = base
        config.warmupSteps = 10; config.schedule = .cosine; config.minLearningRate = 1e-4; config.learningRate = 1e-3
        let trainer = try Trainer(catalog: catalog, config: config)
        XCTAssertEqual(trainer.learningRate(at: 0), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(trainer.learningRate(at: 9), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(trainer.learningRate(at: 60), 5.5e-4, accuracy: 1e-7)
        XCTAssertEqual(trainer.learningRate(at: 110), 1e-4, accuracy: 1e-9)
        config.schedule = .constant
        let constant = try Trainer(catalog: catalog, config: config)
        XCTAssertEqual(constant.learningRate(at: 4), 5e-4, accuracy: 1e-9)
        XCTAssertEqual(constant.learningRate(at: 100), 1e-3, accuracy: 1e-9)
    }

    /// Step checkpoints beyond the newest K are deleted; validation logs retrieval and keeps `best`.
    func testKeepLastKAndValidation() throws {
        let dir = TemporaryDirectory()
        let (catalog, base) = try toyRun(dir, steps: 4)
        var config = base
        config.checkpointEvery = 1; config.keepLast = 2; config.validateEvery = 2
        var events: [TrainingEvent] = []
        try Trainer(catalog: catalog, config: config).run(checkpointDir: dir.file("k")) { events.append($0) }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.file("k")).sorted()
        XCTAssertEqual(files, ["best.safetensors", "encoders.safetensors", "last.safetensors", "run.toml",
                               "step-000003.safetensors", "step-000004.safetensors"])
        let validations = events.compactMap { if case .validation(let v) = $0 { return v } else { return nil } }
        XCTAssertEqual(validations.map(\.step), [2, 4])
        XCTAssertEqual(validations.first?.clips, 4, "the whole val split, each clip once")
        for name in ["v2a_latent_r1", "v2i_similarity_median_rank", "loss"] { XCTAssertNotNil(validations.first?.metrics[name], name) }
    }

    /// Retrieval on identical embeddings ranks every partner first; a collapsed embedding ranks at chance.
    func testRetrievalScores() {
        let n = 20, d = 8
        var rng = SeededGenerator(seed: 3)
        var rows: [Float] = []
        for _ in 0..<n {
            let v = (0..<d).map { _ in Float(rng.nextGaussian()) }
            let norm = sqrt(v.map { $0 * $0 }.reduce(0, +))
            rows += v.map { $0 / norm }
        }
        let same = RetrievalScores(queries: rows, candidates: rows, dimension: d)
        XCTAssertEqual(same.r1, 1); XCTAssertEqual(same.medianRank, 1); XCTAssertEqual(same.count, n)
        let collapsed = [Float](repeating: 1 / sqrt(Float(d)), count: n * d)
        let chance = RetrievalScores(queries: collapsed, candidates: collapsed, dimension: d)
        XCTAssertEqual(chance.r1, 0); XCTAssertEqual(chance.medianRank, 1 + Double(n - 1) / 2)
        // Shuffled partners: R@1 near 1/N over many queries.
        let m = 400
        var big: [Float] = []
        for _ in 0..<m {
            let v = (0..<d).map { _ in Float(rng.nextGaussian()) }
            let norm = sqrt(v.map { $0 * $0 }.reduce(0, +))
            big += v.map { $0 / norm }
        }
        var order = Array(0..<m)
        order.shuffle(using: &rng)
        let shuffled = order.flatMap { Array(big[($0 * d)..<(($0 + 1) * d)]) }
        let random = RetrievalScores(queries: big, candidates: shuffled, dimension: d)
        XCTAssertLessThan(random.r1, 5.0 / Double(m))
        XCTAssertEqual(random.medianRank, Double(m) / 2, accuracy: Double(m) / 8)
    }

    /// The config file, `--set` overrides and the saved TOML agree; bad keys and values name the source and line.
    func testRunConfigParsesOverridesAndRoundTrips() throws {
        var c = RunConfig()
        try c.apply(toml: "[optimizer]\nlr = 1e-3\nschedule = \"cosine\"\n[objective]\npreset = \"no-image\"\n[data]\nsplit = \"all\"\n", source: "r.toml")
        try c.apply(override: "data.batch_size=16")
        try c.apply(override: "validation.split=test")
        XCTAssertEqual(c.learningRate, 1e-3); XCTAssertEqual(c.schedule, .cosine); XCTAssertEqual(c.preset, .noImage)
        XCTAssertNil(c.split); XCTAssertEqual(c.batchSize, 16); XCTAssertEqual(c.validationSplit, .test)
        XCTAssertFalse(c.resolvedObjective.useImage)
        // A bare path or list needs no TOML quotes on the command line.
        try c.apply(override: "init.audio=/w/panns cnn14.safetensors")
        try c.apply(override: "init.freeze=audio")
        XCTAssertEqual(c.initAudio, "/w/panns cnn14.safetensors"); XCTAssertEqual(c.frozen, [.audio])
        try c.apply(override: "init.freeze=[\"audio\", \"video\"]")
        XCTAssertEqual(c.frozen, [.audio, .video])
        var again = RunConfig()
        try again.apply(toml: c.toml, source: "run.toml")
        XCTAssertEqual(again, c)
        let bad: [(String, String)] = [
            ("[optimizer]\nlr = \"fast\"\n", "r.toml: line 2: optimizer.lr: expected a number"),
            ("[optimizr]\nlr = 1\n", "r.toml: line 2: unknown key optimizr.lr"),
            ("[objective]\npreset = \"mmcl\"\n", "objective.preset: must be \"full\", \"mmcl-only\""),
            ("[data]\nbatch_size = 1\n", "data.batch_size: must be in 2…"),
            ("[init]\nfreeze = [\"heads\"]\n", "init.freeze: must name encoders"),
        ]
        for (text, expected) in bad {
            var x = RunConfig()
            XCTAssertThrowsError(try x.apply(toml: text, source: "r.toml")) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
        var x = RunConfig()
        XCTAssertThrowsError(try x.apply(override: "lr=3")) { XCTAssertTrue("\($0)".hasPrefix("--set: lr=3"), "\($0)") }
    }

    /// `init.image` loads a torchvision-layout file into the image encoder (and switches on the
    /// ImageNet normalisation); a file that does not fit is refused naming it.
    func testPretrainedInitialisation() throws {
        let dir = TemporaryDirectory()
        let (catalog, base) = try toyRun(dir, steps: 1)
        let source = ResNet18(ModelSize.tiny.image, initialization: .torchvision(seed: 99))
        var tensors = source.namedParameters().map { ($0.0, $0.1.shape, $0.1.data) }
        for (name, bn) in source.namedBatchNorms() {
            tensors += [("\(name).running_mean", [bn.channels], bn.runningMean), ("\(name).running_var", [bn.channels], bn.runningVar)]
        }
        try SafeTensors.write(tensors, metadata: [:], to: dir.file("resnet.safetensors"))
        var config = base
        config.initImage = dir.file("resnet.safetensors")
        let trainer = try Trainer(catalog: catalog, config: config)
        XCTAssertEqual(trainer.image.namedParameters().map(\.1.data), source.namedParameters().map(\.1.data))
        XCTAssertNotNil(trainer.imageNormalization)
        var wrong = base
        wrong.initVideo = dir.file("resnet.safetensors")
        XCTAssertThrowsError(try Trainer(catalog: catalog, config: wrong)) { XCTAssertTrue("\($0)".contains("resnet.safetensors"), "\($0)") }
    }

    /// `init.freeze = ["audio"]`: the audio encoder's weights and running statistics stay as
    /// initialised while the others train, it takes no gradient, and the run resumes.
    func testFrozenEncoderStaysAsInitialised() throws {
        let dir = TemporaryDirectory()
        var (catalog, config) = try toyRun(dir, steps: 2)
        config.frozen = [.audio]
        let trainer = try Trainer(catalog: catalog, config: config)
        func state(_ m: any Module) -> [[Float]] {
            m.namedParameters().map(\.1.data) + m.namedBatchNorms().flatMap { [$0.1.runningMean, $0.1.runningVar] }
        }
        let audio = state(trainer.audio), image = state(trainer.image)
        var events: [TrainingEvent] = []
        XCTAssertEqual(try trainer.run(checkpointDir: dir.file("ckpt")) { events.append($0) }, .completed(steps: 2))
        XCTAssertEqual(state(trainer.audio), audio, "a frozen encoder is not updated, nor are its running statistics")
        XCTAssertNotEqual(state(trainer.image), image)
        XCTAssertTrue(steps(events).allSatisfy { $0.diagnostics?.gradientNorm["audio"] == 0 && ($0.diagnostics?.gradientNorm["image"] ?? 0) > 0 })
        config.steps = 3
        let resumed = try Trainer(catalog: catalog, config: config)
        try resumed.resume(from: dir.file("ckpt/last.safetensors"))
        XCTAssertEqual(try resumed.run(checkpointDir: dir.file("ckpt")) { _ in }, .completed(steps: 3))
        XCTAssertEqual(state(resumed.audio), audio)
    }

    /// Frozen features from a checkpoint are the trained encoder's, in evaluation mode; `write`
    /// makes numpy files; a frame-only request on clips is refused.
    func testFrozenFeaturesFromACheckpoint() throws {
        let dir = TemporaryDirectory()
        var (catalog, config) = try toyRun(dir, steps: 2)
        config.perSample = false  // the still as it is (per-sample standardisation: the test below)
        let trainer = try Trainer(catalog: catalog, config: config)
        try trainer.run(checkpointDir: dir.file("ckpt")) { _ in }
        let encoders = try FrozenEncoders(checkpoint: dir.file("ckpt/encoders.safetensors"))
        let table = try encoders.features(of: .image, catalog: catalog, dataset: "toy", batchSize: 5)
        XCTAssertEqual(table.count, 12)
        XCTAssertEqual(table.dimension, trainer.image.outputFeatures)
        XCTAssertEqual(Set(table.scanIDs).count, 3)
        XCTAssertEqual(table.labels, [Int](repeating: -1, count: 12))
        // The same records through the trained encoder directly.
        trainer.image.setTraining(false)
        let reader = try catalog.openShard(try catalog.shards(datasetID: try catalog.latestDataset(named: "toy").id ?? -1)[0], of: try catalog.latestDataset(named: "toy"))
        let still = reader.record(0).u8(.still).map { Float($0) / 255 }
        let gray = Tensor(shape: [1, 1, 32, 32], data: still)
        let direct = GradientMode.withoutGradients { trainer.image(Tensor.concat([gray, gray, gray], axis: 1)) }.data
        let first = Array(table.features[0..<table.dimension])
        for (a, b) in zip(direct, first) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(a))) }
        try table.write(to: dir.file("f.npy"))
        XCTAssertEqual(try NPYArray.read(dir.file("f.npy")).shape, [12, table.dimension])
        XCTAssertEqual(try NPYArray.read(dir.file("f.clip_ids.npy")).shape, [12])
        XCTAssertThrowsError(try encoders.checkNoLeak(table, allowOverlap: false, source: "ckpt")) {
            XCTAssertTrue("\($0)".contains("3 evaluation scan(s) were in the checkpoint's pretraining data"), "\($0)")
        }
        XCTAssertNoThrow(try encoders.checkNoLeak(table, allowOverlap: true, source: "ckpt"))
        let random = FrozenEncoders(randomOf: .tiny, seed: 0)
        XCTAssertThrowsError(try random.features(of: .video, catalog: catalog, dataset: "nope"))
    }

    /// A run with `normalize.per_sample` hands it to evaluation: the checkpoint's frozen
    /// features are those of the standardised still, as in training.
    func testFrozenFeaturesFollowThePerSampleStandardization() throws {
        let dir = TemporaryDirectory()
        var (catalog, config) = try toyRun(dir, steps: 1)
        config.perSample = true
        let trainer = try Trainer(catalog: catalog, config: config)
        try trainer.run(checkpointDir: dir.file("ckpt")) { _ in }
        let encoders = try FrozenEncoders(checkpoint: dir.file("ckpt/encoders.safetensors"))
        XCTAssertTrue(encoders.pixels.perSample)
        let table = try encoders.features(of: .image, catalog: catalog, dataset: "toy", batchSize: 5)
        trainer.image.setTraining(false)
        let dataset = try catalog.latestDataset(named: "toy")
        let reader = try catalog.openShard(try catalog.shards(datasetID: dataset.id ?? -1)[0], of: dataset)
        var still = reader.record(0).u8(.still).map { Float($0) / 255 }
        SampleStandardization.apply(&still, sampleSize: still.count)
        let gray = Tensor(shape: [1, 1, 32, 32], data: still)
        let direct = GradientMode.withoutGradients { trainer.image(Tensor.concat([gray, gray, gray], axis: 1)) }.data
        for (a, b) in zip(direct, table.features[0..<table.dimension]) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(a))) }
        // The random baseline takes sono-train's default; a checkpoint whose config predates the key did not standardise.
        XCTAssertEqual(FrozenEncoders(randomOf: .tiny, seed: 0).pixels.perSample, RunConfig().perSample)
        XCTAssertFalse(FrozenEncoders(randomOf: .tiny, seed: 0, perSample: false).pixels.perSample)
        XCTAssertFalse(try RunConfig.stored(toml: "[data]\nbatch_size = 4\n", source: "old").perSample)
        XCTAssertTrue(try RunConfig.stored(toml: "[normalize]\nper_sample = true\n", source: "new").perSample)
    }

    /// The committed run files parse.
    func testCommittedRunFilesParse() throws {
        let runs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data-manifests/runs")
        let paper = try RunConfig.load(runs.appendingPathComponent("paper.toml").path)
        XCTAssertEqual(paper.learningRate, 3e-3); XCTAssertEqual(paper.weightDecay, 1e-4); XCTAssertEqual(paper.preset, .full)
    }

    /// python/sonodual/run_defaults.toml, the defaults `python -m sonodual.train` starts from, is
    /// `RunConfig().toml`; SONO_UPDATE_RUN_DEFAULTS=1 rewrites it.
    func testPythonRunDefaultsAreSwifts() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../python/sonodual/run_defaults.toml").path
        let expected = RunConfig().toml
        if ProcessInfo.processInfo.environment["SONO_UPDATE_RUN_DEFAULTS"] == "1" { try expected.write(toFile: path, atomically: true, encoding: .utf8) }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), expected,
                       "run SONO_UPDATE_RUN_DEFAULTS=1 swift test --filter TrainerTests.testPythonRunDefaultsAreSwifts")
    }

    /// A real SIGINT mid-run checkpoints at the next step boundary and exits 0; resuming it
    /// ends where a straight run ends.
    func testSIGINTThenResumeEqualsTheStraightRun() throws {
        let dir = TemporaryDirectory()
        _ = try toyRun(dir, steps: 1)
        let common = ["--catalog", dir.file("c.sqlite"), "--datasets", "toy", "--split", "all", "--model", "tiny", "--steps", "12",
                      "--batch-size", "4", "--threads", "1", "--quiet"]
        let straight = try BuiltProducts.run("sono-train", common + ["--out", dir.file("a"), "--log", dir.file("a.log")], timeout: 600)
        XCTAssertEqual(straight.status, 0, straight.stderr)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.directory + "/sono-train")
        process.arguments = common + ["--out", dir.file("b"), "--log", dir.file("b.log")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, ((try? String(contentsOfFile: dir.file("b.log"), encoding: .utf8)) ?? "").isEmpty { usleep(20_000) }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
        let stopped = try SafeTensors.read(dir.file("b/last.safetensors"))
        let stoppedAt = Int(stopped.metadata["step"] ?? "") ?? -1
        XCTAssertTrue((1..<12).contains(stoppedAt), "stopped at step \(stoppedAt)")

        let resumed = try BuiltProducts.run("sono-train", common + ["--out", dir.file("b"), "--log", dir.file("b.log"),
                                                                    "--resume", dir.file("b/last.safetensors")], timeout: 600)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let log = try String(contentsOfFile: dir.file("b.log"), encoding: .utf8)
        XCTAssertEqual(log.split(separator: "\n").filter { $0.hasPrefix("{\"clips_per_s\"") }.count, 12, "the log is appended, one line per step")
        let a = try SafeTensors.read(dir.file("a/last.safetensors")), b = try SafeTensors.read(dir.file("b/last.safetensors"))
        let bByName = Dictionary(b.tensors.map { ($0.0, $0.2) }, uniquingKeysWith: { x, _ in x })
        for (name, _, values) in a.tensors where !name.hasPrefix("optimizer.") {
            let other = try XCTUnwrap(bByName[name], name)
            let worst = zip(values, other).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-4 * max(1, values.map(abs).max() ?? 0), name)
        }
    }

    func testSafeTensorsRoundTrip() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("t.safetensors")
        try SafeTensors.write([("b", [2, 3], (0..<6).map(Float.init)), ("a", [1], [-1.5])], metadata: ["k": "v"], to: path)
        let file = try SafeTensors.read(path)
        XCTAssertEqual(file.tensors.map(\.0), ["a", "b"])
        XCTAssertEqual(file.tensors[1].1, [2, 3])
        XCTAssertEqual(file.tensors[1].2, [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(file.metadata, ["k": "v"])
        let raw = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = raw.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(headerLength % 8, 0, "data starts 8-byte aligned")
    }
}
