import Foundation
import XCTest
import SonoCatalog
import SonoCore
import SonoDataset
import SonoEval
import SonoExtract
import SonoIngest
import SonoSample
import SonoSegment
import SonoTestSupport
@testable import SonoReport

/// `sono-report` on real media and a real training run: the page's marks agree with the
/// catalog and the log they draw, and a real browser (headless Chromium) renders it with every
/// image loaded and something on screen.
final class ReportTests: XCTestCase {
    func testReportOfADatasetAndATrainingRunRendersInABrowser() throws {
        let dir = TemporaryDirectory("report")
        let catalogPath = dir.file("catalog.sqlite")
        var rows = ["scan_id,video,audio,audio_offset_ms"]
        for (k, name) in ["alpha", "beta"].enumerated() {
            var spec = SampleSpec()
            spec.name = name; spec.width = 160; spec.height = 128; spec.seconds = 16; spec.seed = UInt64(20 + k)
            _ = try SampleGenerator.generate(spec, into: dir.path)
            rows.append("\(name),\(dir.file(name + ".mp4")),,")
        }
        try rows.joined(separator: "\n").write(toFile: dir.file("manifest.csv"), atomically: true, encoding: .utf8)
        _ = try Ingestor(jobs: 1, showProgress: false).runStage(catalogPath: catalogPath, manifestPath: dir.file("manifest.csv"), arguments: [])
        for (name, selection) in [("speech", "mode = \"min_speech_ratio\"\nmin_speech_ratio = 0.25"), ("every", "mode = \"none\"")] {
            let recipe = dir.file(name + ".toml")
            try "name = \"\(name)\"\n[clips]\nlength_s = 2\nframes = 4\nframe_size = 32\n[selection]\n\(selection)\n[split]\ntrain = 0.5\nval = 0.5\ntest = 0\nseed = 3\n"
                .write(toFile: recipe, atomically: true, encoding: .utf8)
            _ = try Segmenter(jobs: 1, showProgress: false).runStage(catalogPath: catalogPath, recipePath: recipe, datasetRoot: nil, arguments: [])
        }
        var extractor = Extractor()
        extractor.showProgress = false
        XCTAssertEqual(try extractor.runStage(catalogPath: catalogPath, datasetNames: ["speech", "every"], out: dir.file("shards"), arguments: []).failed, [:])
        let log = dir.file("train.jsonl")
        let train = try BuiltProducts.run("sono-train", ["--catalog", catalogPath, "--model", "tiny", "--steps", "4", "--batch-size", "2",
                                                         "--out", dir.file("run"), "--log", log, "--quiet", "--set", "data.datasets=[\"every\"]",
                                                         "--set", "validation.every=2", "--set", "data.threads=1", "--set", "data.max_per_scan=2"], timeout: 600)
        XCTAssertEqual(train.status, 0, train.stderr)

        // An evaluation: a probe over folds by scan on features that tell three classes apart.
        var rng = SeededGenerator(seed: 5)
        var features: [[Double]] = [], labels: [Int] = [], scans: [String] = []
        for scan in 0..<4 {
            for k in 0..<30 {
                features.append((0..<3).map { Double($0 == k % 3 ? 2 : 0) + rng.nextGaussian() * 0.8 })
                labels.append([1, 3, 13][k % 3])
                scans.append("s\(scan)")
            }
        }
        let probe = try FoldedProbe.evaluate(try FeatureMatrix(rowArrays: features), labels: labels, scans: scans,
                                             foldOfScan: ["s0": 0, "s1": 0, "s2": 1, "s3": 1], classes: .paper, grid: [0.1, 1])
        try EvalJSON.encode(probe).write(to: URL(fileURLWithPath: dir.file("probe.json")))
        // And its gain over a probe of features that tell nothing (the same folds).
        let blind = try FoldedProbe.evaluate(try FeatureMatrix(rowArrays: features.map { _ in [rng.nextGaussian()] }), labels: labels, scans: scans,
                                             foldOfScan: ["s0": 0, "s1": 0, "s2": 1, "s3": 1], classes: .paper, grid: [0.1, 1])
        let comparison = try ProbeComparison(candidates: [probe], baselines: [blind])
        try EvalJSON.encode(comparison).write(to: URL(fileURLWithPath: dir.file("comparison.json")))

        let out = dir.file("report")
        let made = try BuiltProducts.run("sono-report", ["--catalog", catalogPath, "--log", "tiny=\(log)", "--eval", "probe=" + dir.file("probe.json"),
                                                         "--eval", "gain=" + dir.file("comparison.json"),
                                                         "--out", out], timeout: 600)
        XCTAssertEqual(made.status, 0, made.stderr)
        let page = try String(contentsOfFile: out + "/report.html", encoding: .utf8)

        // The marks agree with the data: a clip mark per catalog clip, a timeline per scan, a
        // point of the loss curve per logged step.
        let catalog = try Catalog(path: catalogPath)
        for name in ["speech", "every"] {
            let id = try XCTUnwrap(catalog.latestDataset(named: name).id)
            let clips = try ["alpha", "beta"].flatMap { try catalog.clips(datasetID: id, scanID: $0) }
            XCTAssertGreaterThan(clips.count, 0)
            XCTAssertEqual(page.components(separatedBy: "class=\"clip\" data-dataset=\"\(name)\"").count - 1, clips.count, name)
            if name == "speech" {
                // The grid windows the planner did not keep are drawn as rejected for low speech.
                let windows = page.components(separatedBy: "class=\"window\" data-dataset=\"speech\"").count - 1
                XCTAssertGreaterThan(windows, 0, "16 s of speech with pauses leaves some 2 s windows under 0.25")
                XCTAssertEqual(windows + clips.count, 2 * 8, "8 windows of 2 s fit in each 16 s scan")
            }
        }
        XCTAssertEqual(page.components(separatedBy: "<h3>").count - 1 >= 5, true)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("timeline-") }.count, 2)
        let logged = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").filter { !$0.contains("\"validation\"") }.count
        XCTAssertTrue(page.contains("data-name=\"total\" data-points=\"\(logged)\""), "the loss curve has a point per step")
        XCTAssertTrue(page.contains("Validation retrieval R@1"))
        // The evaluation: the table row holds the probe's accuracy, the confusion matrix its counts.
        XCTAssertTrue(page.contains(String(format: "<td>%.3f (%.3f)</td>", probe.summary.accuracy.mean, probe.summary.accuracy.sd ?? 0)), "accuracy in Table 1's row")
        XCTAssertTrue(page.contains(String(format: "<td>%+.3f</td>", comparison.accuracy.gain.mean)), "the probe's gain in the comparison table")
        XCTAssertEqual(page.components(separatedBy: "class=\"cell\"").count - 1, 9, "3 × 3 confusion matrix")
        let counted = page.components(separatedBy: "class=\"cell\"").dropFirst().compactMap { Self.attribute("data-count", in: $0).flatMap { Int($0) } }
        XCTAssertEqual(counted.reduce(0, +), features.count, "every probed frame is in the confusion matrix once")

        // A real browser: every image loaded, and the page is not blank.
        let chromium = try XCTUnwrap(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                     "chromium is not installed: run scripts/setup.sh")
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", "--virtual-time-budget=5000", "--window-size=1280,2400"]
        let url = "file://" + out + "/report.html"
        let dom = try Self.run(chromium, flags + ["--dump-dom", url])
        let images = try XCTUnwrap(Self.attribute("data-images", in: dom), "the page's load handler ran")
        XCTAssertGreaterThan(Int(images) ?? 0, 8, "sample clips and crops are images")
        XCTAssertEqual(Self.attribute("data-broken-images", in: dom), "0", "every image loaded")
        _ = try Self.run(chromium, flags + ["--screenshot=" + dir.file("shot.png"), url])
        let gray = try FFmpegCLI.output(["-v", "error", "-i", dir.file("shot.png"), "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        XCTAssertGreaterThan(gray.count, 1280 * 1000)
        let dark = gray.filter { $0 < 200 }.count
        XCTAssertGreaterThan(Double(dark) / Double(gray.count), 0.02, "text, charts and pictures are on screen")
    }

    static func attribute(_ name: String, in html: String) -> String? {
        guard let r = html.range(of: name + "=\"") else { return nil }
        return String(html[r.upperBound...].prefix { $0 != "\"" })
    }

    /// Runs a program to its end (killed after 120 s) and returns its standard output.
    static func run(_ program: String, _ args: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return String(decoding: data, as: UTF8.self)
    }
}
