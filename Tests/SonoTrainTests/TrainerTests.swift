import Foundation
import XCTest
import SonoCatalog
import SonoShards
import SonoTensor
import SonoTestSupport
@testable import SonoTrain

/// A few steps of the tiny dual model on synthetic shards: finite losses that change the
/// weights, and a safetensors checkpoint with weights, running statistics and loader state.
final class TrainerTests: XCTestCase {
    /// 12 synthetic clips of 3 scans (4 frames of 32², 64 mel frames) and a tiny-model config.
    private func toyRun(_ dir: TemporaryDirectory, steps: Int) throws -> (Catalog, TrainConfig) {
        let catalog = try Catalog(path: dir.file("c.sqlite"))
        let layout = RecordLayout.clip(frames: 4, size: 32, melFrames: 64, mels: 64)
        _ = try SyntheticDataset.write(catalog: catalog, root: URL(fileURLWithPath: dir.file("ds")), name: "toy", layout: layout,
                                       count: 12, seed: 1, targetBytes: 1 << 20, scans: 3)
        var config = TrainConfig()
        config.datasets = ["toy"]; config.split = nil; config.steps = steps; config.batchSize = 4
        config.modelSize = .tiny; config.threads = 1
        return (catalog, config)
    }

    func testTinyModelTrainsAndCheckpoints() throws {
        let dir = TemporaryDirectory()
        let (catalog, config) = try toyRun(dir, steps: 2)
        let trainer = try Trainer(catalog: catalog, config: config)
        let before = trainer.video.namedParameters().first { $0.0 == "stem.0.weight" }?.1.data ?? []
        var logs: [StepLog] = []
        try trainer.run(checkpointDir: dir.file("ckpt")) { logs.append($0) }
        XCTAssertEqual(logs.map(\.step), [1, 2])
        XCTAssertTrue(logs.allSatisfy { $0.loss.isFinite && $0.mmcl > 0 && $0.mmsl >= 0 })
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
        let stem = try XCTUnwrap(file.tensors.first { $0.0 == "video.stem.0.weight" })
        XCTAssertEqual(stem.2, after)
    }

    /// Stopping after 2 steps and resuming from the checkpoint gives the same 4-step run.
    func testResumeContinuesTheSameRun() throws {
        let dir = TemporaryDirectory()
        let (catalog, config) = try toyRun(dir, steps: 4)
        var straight: [Float] = []
        try Trainer(catalog: catalog, config: config).run(checkpointDir: nil) { straight.append($0.loss) }

        var half = config
        half.steps = 2
        var resumed: [Float] = []
        try Trainer(catalog: catalog, config: half).run(checkpointDir: dir.file("a")) { resumed.append($0.loss) }
        let second = try Trainer(catalog: catalog, config: config)
        try second.resume(from: dir.file("a/last.safetensors"))
        try second.run(checkpointDir: nil) { resumed.append($0.loss) }
        XCTAssertEqual(resumed.count, 4)
        for (a, b) in zip(straight, resumed) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a))) }
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
