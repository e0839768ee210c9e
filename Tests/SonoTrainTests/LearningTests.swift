import Foundation
import XCTest
import SonoTestSupport

/// Issue 14: pretraining must learn, not only run. A short pretraining of the tiny model
/// (data-manifests/runs/learning.toml: sono-train's defaults plus two views of each moment that
/// disagree on the pose and the image-only term, 900 steps) on the speech-aligned
/// clips of labelled sample recordings must (1) rank a clip's own still well above chance among
/// all validation stills and (2) lift the frozen image encoder's linear probe on other scans
/// above random initialisation with the same input (the paper's objective as first implemented
/// fell 0.09 below it; sono-train's defaults stay within ±0.05 of it); issue 14's target, +0.15,
/// with SONO_LEARNING_PROBE=1 (docs/training.md, "Why it collapsed", session 7).
///
/// The whole pipeline runs through the stage executables (sono-sample → ingest → segment →
/// extract → train → embed → eval probe), pretraining scans and probe scans in separate
/// catalogs (disjoint by construction). Seeded end to end; small media (8 frames of 64² per
/// 4 s clip). scripts/test.sh runs it in a release build (about 25 minutes on 2 cores); the
/// debug suite skips it there and only there.
final class LearningTests: XCTestCase {
    /// 48 scans of 60 s for pretraining (36 train, 12 val by the recipe's seeded split), 8 of
    /// 40 s for the probe (4 folds by scan): benchmarks/learning.py's defaults.
    static let pretrainScans = 48, probeScans = 8, pretrainSeconds = "60", probeSeconds = "40"
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    /// Speech-aligned 4 s clips, split 0.75 / 0.25 by scan; the run config; shared with benchmarks/learning.py.
    static let clipsRecipe = repository.appendingPathComponent("data-manifests/recipes/learning.toml").path
    static let runConfig = repository.appendingPathComponent("data-manifests/runs/learning.toml").path

    func testShortPretrainingLearns() throws {
        let dir = TemporaryDirectory("learning")
        try sample(dir, prefix: "p", count: Self.pretrainScans, seconds: Self.pretrainSeconds, seed: 100)
        try sample(dir, prefix: "q", count: Self.probeScans, seconds: Self.probeSeconds, seed: 200)
        // The probe's labelled frames, at the pretraining clips' frame size.
        try write(dir.file("planes.toml"), """
            name = "planes"
            [frames]
            labels = "planes"
            rate_hz = 2.0
            max_per_span = 10
            size = 64
            [split]
            train = 0.8
            val = 0.1
            test = 0.1
            seed = 2024
            [folds]
            k = 4
            seed = 2024
            """)
        let pre = dir.file("pre.sqlite"), probe = dir.file("probe.sqlite")
        try stage("sono-ingest", ["--catalog", pre, "--manifest", dir.file("p.csv"), "--quiet"])
        try stage("sono-segment", ["--catalog", pre, "--recipe", Self.clipsRecipe, "--quiet"])
        try stage("sono-extract", ["--catalog", pre, "--datasets", "clips", "--out", dir.file("pre-shards"), "--quiet"])
        try stage("sono-ingest", ["--catalog", probe, "--manifest", dir.file("q.csv"), "--quiet"])
        var planes = "scan_id,start_s,end_s,label\n"
        for k in 0..<Self.probeScans {
            let text = try String(contentsOfFile: dir.file("rec/q\(k).planes.csv"), encoding: .utf8)
            planes += text.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"
        }
        try write(dir.file("planes.csv"), planes)
        try stage("sono-ingest", ["labels", "--catalog", probe, "--planes", dir.file("planes.csv"), "--name", "planes"])
        try stage("sono-segment", ["--catalog", probe, "--recipe", dir.file("planes.toml"), "--quiet"])
        try stage("sono-extract", ["--catalog", probe, "--datasets", "planes", "--out", dir.file("probe-shards"), "--quiet"])

        try stage("sono-train", ["--catalog", pre, "--config", Self.runConfig, "--out", dir.file("run"), "--log", dir.file("train.jsonl"), "--quiet"],
                      timeout: 3600)
        let validation = try lastValidation(dir.file("train.jsonl"))
        let r1 = try XCTUnwrap(validation["v2i_latent_r1"]), clips = try XCTUnwrap(validation["clips"])
        let medianRank = try XCTUnwrap(validation["v2i_latent_median_rank"])
        try stage("sono-embed", ["--catalog", probe, "--dataset", "planes", "--checkpoint", dir.file("run/encoders.safetensors"),
                                 "--out", dir.file("pre.npy")])
        let pretrained = try probeAccuracy(probe, dir.file("pre.npy"))
        // The baseline: the same network at two random initialisations, with the run's input (per-sample standardisation).
        var random = 0.0
        for seed in 0..<2 {
            try stage("sono-embed", ["--catalog", probe, "--dataset", "planes", "--model", "tiny", "--seed", "\(seed)",
                                     "--out", dir.file("rand\(seed).npy")])
            random += try probeAccuracy(probe, dir.file("rand\(seed).npy")) / 2
        }
        let chanceRank = (clips + 1) / 2
        print(String(format: "learning: probe %.3f pretrained vs %.3f random (%+.3f); val v→i R@1 %.3f (chance %.3f), median rank %.1f of %.0f (chance %.1f)",
                     pretrained, random, pretrained - random, r1, 1 / clips, medianRank, clips, chanceRank))
        // Measured (docs/training.md, "Why it collapsed", session 7) at 900 steps: probe +0.150 and +0.183 above
        // random init (data.seed 0, as here, and 1), median rank 16 and 13.5 of 94; with an MLP head at 600 steps
        // seed 1 gained only +0.048, so the bound stays below every run measured.
        XCTAssertLessThanOrEqual(medianRank, Self.rankFraction * chanceRank, "a clip's still ranks near chance among the validation stills: no cross-modal learning")
        XCTAssertGreaterThanOrEqual(pretrained - random, Self.probeGain, "the pretrained image encoder probes worse than random init: it did not learn the views")
        // Issue 14's target, pretrained ≥ random + 0.15 on every run, with SONO_LEARNING_PROBE=1.
        if ProcessInfo.processInfo.environment["SONO_LEARNING_PROBE"] == "1" {
            XCTAssertGreaterThanOrEqual(pretrained - random, 0.15, "the pretrained image encoder probes less than 0.15 above random init")
        }
    }

    /// What the suite requires: the validation median rank of a clip's own still at most this
    /// fraction of chance, and the probe at least this far above random init (both seeds measured
    /// clear it; sono-train's defaults, within ±0.05 of random init, would not always).
    static let rankFraction = 0.6, probeGain = 0.0

    private func sample(_ dir: TemporaryDirectory, prefix: String, count: Int, seconds: String, seed: Int) throws {
        var manifest = "scan_id,video\n"
        for k in 0..<count {
            try stage("sono-sample", ["--out", dir.file("rec"), "--name", "\(prefix)\(k)", "--seconds", seconds, "--size", "320x256",
                                      "--fps", "15", "--seed", "\(seed + k)", "--labelled"])
            manifest += "\(prefix)\(k),\(dir.file("rec/\(prefix)\(k).mp4"))\n"
        }
        try write(dir.file("\(prefix).csv"), manifest)
    }

    /// Runs a stage executable; a hang fails after `timeout` seconds (the pretraining takes about 17 minutes on 2 idle cores).
    private func stage(_ name: String, _ args: [String], timeout: Double = 900) throws {
        let run = try BuiltProducts.run(name, args, timeout: timeout)
        XCTAssertEqual(run.status, 0, "\(name) \(args.joined(separator: " ")): \(run.stderr)")
        if run.status != 0 { throw StageFailed(stage: name) }
    }

    private func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The metrics of the log's last validation line, and its clip count as "clips".
    private func lastValidation(_ log: String) throws -> [String: Double] {
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        for line in lines.reversed() {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let validation = object["validation"] as? [String: Any], let metrics = validation["metrics"] as? [String: Double] else { continue }
            var m = metrics
            if let clips = validation["clips"] as? Int { m["clips"] = Double(clips) }
            return m
        }
        XCTFail("no validation in \(log)")
        return [:]
    }

    private func probeAccuracy(_ catalog: String, _ features: String) throws -> Double {
        let run = try BuiltProducts.run("sono-eval", ["probe", "--catalog", catalog, "--dataset", "planes", "--features", features], timeout: 600)
        XCTAssertEqual(run.status, 0, run.stderr)
        guard let range = run.stdout.range(of: "accuracy "),
              let value = Double(run.stdout[range.upperBound...].prefix { $0 != " " }) else {
            XCTFail("no accuracy in: \(run.stdout)")
            return .nan
        }
        return value
    }
}

/// A stage executable exited non-zero: the test fails there (the assertion says why).
private struct StageFailed: Error { let stage: String }
