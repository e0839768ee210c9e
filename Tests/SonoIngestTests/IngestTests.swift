import XCTest
import SonoCatalog
import SonoCore
import SonoSample
import SonoTestSupport
import SonoMedia
@testable import SonoIngest

final class IngestTests: XCTestCase {
    /// One good sample and every kind of bad file in one manifest.
    private func makeRecordings(_ dir: TemporaryDirectory) throws -> String {
        var spec = SampleSpec()
        spec.name = "good"; spec.width = 160; spec.height = 128; spec.seconds = 2
        _ = try SampleGenerator.generate(spec, into: dir.path)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.file("empty.mp4"), contents: Data()))
        try "not a video".write(toFile: dir.file("text.mp4"), atomically: true, encoding: .utf8)
        let good = try Data(contentsOf: URL(fileURLWithPath: dir.file("good.mp4")))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: dir.file("truncated.mp4")))
        try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=1",
                           "-c:v", "libx264", "-preset", "ultrafast", dir.file("silent.mp4")])
        try FFmpegCLI.run(["-f", "lavfi", "-i", "sine=duration=1", dir.file("speech.wav")])
        let manifest = dir.file("manifest.csv")
        try """
            scan_id,video,audio,audio_offset_ms
            good,good.mp4,,
            empty,empty.mp4,,
            text,text.mp4,,
            truncated,truncated.mp4,,
            silent,silent.mp4,,
            missing,missing.mp4,,
            separate,silent.mp4,speech.wav,250
            """.write(toFile: manifest, atomically: true, encoding: .utf8)
        return manifest
    }

    func testGoodIngestedBadRecordedAsFailedRerunSkips() throws {
        let dir = TemporaryDirectory()
        let manifest = try makeRecordings(dir)
        let catalogPath = dir.file("catalog.sqlite")
        let ingestor = Ingestor(jobs: 2, showProgress: false)

        let first = try ingestor.runStage(catalogPath: catalogPath, manifestPath: manifest, arguments: [])
        XCTAssertEqual(Set(first.added), ["good", "separate"])
        XCTAssertEqual(Set(first.failed.map(\.scanID)), ["empty", "text", "truncated", "silent", "missing"])
        let kinds = Dictionary(uniqueKeysWithValues: first.failed.map { ($0.scanID, $0.kind) })
        XCTAssertEqual(kinds["empty"], "emptyFile")
        XCTAssertEqual(kinds["text"], "unreadable")
        XCTAssertEqual(kinds["truncated"], "unreadable")
        XCTAssertEqual(kinds["silent"], "noAudioStream")
        XCTAssertEqual(kinds["missing"], "notFound")
        for f in first.failed {
            XCTAssertTrue(f.message.contains(dir.path), "message names the file: \(f.message)")
        }

        let catalog = try Catalog(path: catalogPath)
        let good = try XCTUnwrap(catalog.recording("good"))
        XCTAssertEqual(good.status, .ingested)
        XCTAssertEqual(good.width, 160)
        XCTAssertEqual(good.height, 128)
        XCTAssertEqual(good.averageFrameRate, "30/1")
        XCTAssertEqual(good.frameCount, 60)
        XCTAssertEqual(good.cropSource, .auto)
        XCTAssertEqual(good.cropMethod, SectorCrop.method, "the detected crop keeps how it was found")
        XCTAssertGreaterThan(good.cropConfidence ?? 0, 0.8)
        XCTAssertFalse(first.cropWarnings.contains { $0.hasPrefix("good:") }, "\(first.cropWarnings)")
        XCTAssertEqual(good.audioSampleRate, 48000)
        XCTAssertEqual(good.audioChannels, 2)
        XCTAssertEqual(good.probeResult?.video.width, 160)
        let separate = try XCTUnwrap(catalog.recording("separate"))
        XCTAssertEqual(separate.audioStartMicros, 250_000)
        let silent = try XCTUnwrap(catalog.recording("silent"))
        XCTAssertEqual(silent.status, .failed)
        XCTAssertTrue(silent.error?.contains("silent.mp4") ?? false)

        // Rerun: unchanged files are skipped, failures are tried (and reported) again.
        let second = try ingestor.runStage(catalogPath: catalogPath, manifestPath: manifest, arguments: [])
        XCTAssertEqual(Set(second.unchanged), ["good", "separate"])
        XCTAssertEqual(second.failed.count, 5)

        // A changed file is probed again.
        var spec = SampleSpec()
        spec.name = "good"; spec.width = 192; spec.height = 128; spec.seconds = 2
        _ = try SampleGenerator.generate(spec, into: dir.path)
        let third = try ingestor.runStage(catalogPath: catalogPath, manifestPath: manifest, arguments: [])
        XCTAssertEqual(third.updated, ["good"])
        XCTAssertEqual(try catalog.recording("good")?.width, 192)

        let runs = try catalog.runs()
        XCTAssertEqual(runs.count, 3)
        XCTAssertTrue(runs.allSatisfy { $0.stage == "ingest" && $0.status == .partial && $0.finishedAt != nil })
    }

    func testSchemaFileMatchesMigrations() throws {
        let dir = TemporaryDirectory()
        let schema = try Catalog(path: dir.file("c.sqlite")).schemaSQL()
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../schemas/catalog.sql").standardizedFileURL
        let committed = try String(contentsOf: file, encoding: .utf8)
        let body = committed.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("--") }.joined(separator: "\n")
        XCTAssertEqual(body.trimmingCharacters(in: .whitespacesAndNewlines), schema.trimmingCharacters(in: .whitespacesAndNewlines),
                       "schemas/catalog.sql is stale: regenerate it with scripts/update-schema.sh")
    }
}
