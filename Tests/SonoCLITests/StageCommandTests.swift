import XCTest
import SonoTestSupport

/// The stage executables end to end: exit statuses and what they print.
final class StageCommandTests: XCTestCase {
    func testSampleIngestDecodeAndExitStatuses() throws {
        let dir = TemporaryDirectory()
        let sample = try BuiltProducts.run("sono-sample", [
            "--out", dir.file("rec"), "--name", "s1", "--seconds", "2", "--size", "160x128",
            "--manifest", dir.file("manifest.csv")])
        XCTAssertEqual(sample.status, 0, sample.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("rec/s1.speech.json")))

        let catalog = dir.file("catalog.sqlite")
        let ok = try BuiltProducts.run("sono-ingest", ["--catalog", catalog, "--manifest", dir.file("manifest.csv"), "--quiet"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("1 added"), ok.stdout)

        let decode = try BuiltProducts.run("sono-inspect", ["decode", "--catalog", catalog])
        XCTAssertEqual(decode.status, 0, decode.stderr)
        XCTAssertTrue(decode.stdout.contains("s1: 60 frames (30.000 fps"), decode.stdout)

        // A manifest with one bad file: the good one stays ingested, exit status 2.
        try "scan_id,video\ns1,rec/s1.mp4\nbad,rec/nothing.mp4\n".write(toFile: dir.file("mixed.csv"), atomically: true, encoding: .utf8)
        let mixed = try BuiltProducts.run("sono-ingest", ["--catalog", catalog, "--manifest", dir.file("mixed.csv"), "--quiet"])
        XCTAssertEqual(mixed.status, 2)
        XCTAssertTrue(mixed.stdout.contains("FAILED bad: \(dir.file("rec/nothing.mp4")): no such file"), mixed.stdout)
        XCTAssertTrue(mixed.stdout.contains("1 unchanged"), mixed.stdout)

        // Usage errors: exit status 1, with the reason.
        let usage = try BuiltProducts.run("sono-ingest", ["--catalog", catalog])
        XCTAssertEqual(usage.status, 1)
        XCTAssertTrue(usage.stderr.contains("--manifest"), usage.stderr)
        try "video\nx.mp4\n".write(toFile: dir.file("bad.csv"), atomically: true, encoding: .utf8)
        let badManifest = try BuiltProducts.run("sono-ingest", ["--catalog", catalog, "--manifest", dir.file("bad.csv")])
        XCTAssertEqual(badManifest.status, 1)
        XCTAssertTrue(badManifest.stderr.contains(dir.file("bad.csv")), badManifest.stderr)
    }

    func testVersionsNamesEveryLibrary() throws {
        let result = try BuiltProducts.run("sono-inspect", ["versions"])
        XCTAssertEqual(result.status, 0)
        for name in ["libavformat", "libavcodec", "libswscale", "libswresample", "fftw3f", "openblas", "sqlite"] {
            XCTAssertTrue(result.stdout.contains(name), "\(name) missing from:\n\(result.stdout)")
        }
    }
}
