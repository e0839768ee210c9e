import Foundation
import XCTest
@testable import SonoCatalog
import SonoTrain
import SonoEval
import SonoCore
import SonoDataset
import SonoIngest
import SonoInspection
import SonoMedia
import SonoSample
import SonoSegment
import SonoShards
import SonoTensor
import SonoTestSupport
@testable import SonoExtract

/// The extraction pass on real media made in the test: frame choice, A/V alignment, stills,
/// resume after SIGKILL, and failing scans.
final class ExtractTests: XCTestCase {
    /// A pipeline in a temporary folder: manifest → ingest → segment → extract, in process.
    struct Pipeline {
        let dir: TemporaryDirectory
        var catalogPath: String { dir.file("catalog.sqlite") }

        init() { dir = TemporaryDirectory("extract") }

        func recipe(_ name: String, _ body: String) throws -> String {
            let path = dir.file("\(name).toml")
            try "name = \"\(name)\"\n\(body)".write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        func ingest(_ rows: [String]) throws {
            let manifest = dir.file("manifest.csv")
            try (["scan_id,video,audio,audio_offset_ms"] + rows).joined(separator: "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
            let s = try Ingestor(jobs: 2, showProgress: false).runStage(catalogPath: catalogPath, manifestPath: manifest, arguments: [])
            XCTAssertEqual(s.failed.map(\.message), [])
        }

        func segment(_ recipePath: String, jobs: Int = 1) throws {
            let s = try Segmenter(jobs: jobs, showProgress: false).runStage(catalogPath: catalogPath, recipePath: recipePath, datasetRoot: nil, arguments: [])
            XCTAssertEqual(s.failed, [:])
        }

        func extract(_ names: [String]) throws -> ExtractSummary {
            var e = Extractor()
            e.showProgress = false
            return try e.runStage(catalogPath: catalogPath, datasetNames: names, out: dir.file("out"), arguments: [])
        }

        func records(_ dataset: String) throws -> [(ClipRecord, ShardRecord, ShardReader)] {
            let catalog = try Catalog(path: catalogPath)
            guard let d = try catalog.datasets().last(where: { $0.name == dataset }), let id = d.id else { return [] }
            var out: [(ClipRecord, ShardRecord, ShardReader)] = []
            let clips = try catalog.read { db in try ClipRecord.filter(sql: "dataset_id = ? AND status = 'extracted'", arguments: [id]).order(sql: "scan_id, start_us").fetchAll(db) }
            for clip in clips {
                guard let id = clip.id, let loc = try catalog.location(ofClip: id) else { continue }
                let reader = try catalog.openShard(loc.shard, of: d)
                out.append((clip, reader.record(loc.slot), reader))
            }
            return out
        }
    }

    static let gridRecipe = "[clips]\nlength_s = 2\n[selection]\nmode = \"none\"\n"

    /// Frames carry their own index as a gray level (20 + 2i): the record shows which frame was
    /// taken for each target; it must be the nearest in time (25 fps here).
    func testFramesAreTheNearestToUniformTargets() throws {
        let p = Pipeline()
        let frames = (0..<100).map { [UInt8](repeating: UInt8(20 + 2 * $0), count: 64 * 48) }
        let video = p.dir.file("index.mkv")
        try FFmpegCLI.encodeGrayFrames(frames, width: 64, height: 48, fps: 25, to: video + ".video.mkv",
                                       codecArgs: ["-c:v", "libx264", "-crf", "2", "-pix_fmt", "yuv420p"])
        try FFmpegCLI.run(["-i", video + ".video.mkv", "-f", "lavfi", "-i", "sine=frequency=500:duration=4", "-c:v", "copy", "-c:a", "aac", "-shortest", video])
        try p.ingest(["a,index.mkv,,"])
        try p.segment(try p.recipe("grid", Self.gridRecipe))
        XCTAssertEqual(try p.extract(["grid"]).failed, [:])
        let records = try p.records("grid")
        XCTAssertEqual(records.count, 2)
        // Frame i is at base + 40 ms · i (the remux may shift the first frame off 0).
        let base = try XCTUnwrap(Catalog(path: p.catalogPath).recording("a")?.videoStartMicros)
        for (clip, record, _) in records {
            let targets = ClipSampling.frameTargets(start: clip.startMicros, length: 2_000_000, frames: 14)
            // Nearest frame at 25 fps (40 ms): ties go to the earlier frame.
            let expected = targets.map { t -> Int in
                let lower = Int((t - base) / 40_000)
                return (t - base - Int64(lower) * 40_000) <= Int64(lower + 1) * 40_000 - (t - base) ? lower : lower + 1
            }
            XCTAssertEqual(clip.frameIndices, "[" + expected.map(String.init).joined(separator: ",") + "]")
            let pixels = record.u8("video")
            for (k, index) in expected.enumerated() {
                let level = Int(pixels[k * 128 * 128 + 64 * 128 + 64])
                XCTAssertEqual(level, 20 + 2 * index, accuracy: 2, "clip at \(clip.startMicros) slot \(k)")
            }
            let stillLevel = Int(record.u8("still")[64 * 128 + 64])
            XCTAssertEqual(stillLevel, 20 + 2 * (clip.stillIndex ?? -100), accuracy: 2)
            let stillTarget = ClipSampling.stillTarget(start: clip.startMicros, length: 2_000_000, seed: 0, clipID: clip.id ?? 0)
            XCTAssertEqual(Double(clip.stillIndex ?? -1), (Double(stillTarget - base) / 40_000).rounded(), accuracy: 0.51)
        }
    }

    /// The frames a decode pass chooses can be known before decoding (issue 18, item 1): the
    /// packets' timestamps alone (`MediaProbe.framePresentationTimes`, a demux-only pass) resolved
    /// by `FrameCell.resolve` give exactly the frames and stills the extraction took, on a
    /// constant-rate recording with B-frames and on a variable-rate one.
    func testFramesResolveFromTimestampsAlone() throws {
        let p = Pipeline()
        var spec = SampleSpec()
        spec.name = "cfr"; spec.width = 160; spec.height = 128; spec.seconds = 8; spec.seed = 3
        _ = try SampleGenerator.generate(spec, into: p.dir.path)
        // Variable rate: every third frame dropped (gaps of 1 and 2 frames), the audio kept.
        try FFmpegCLI.run(["-i", p.dir.file("cfr.mp4"), "-vf", "select='not(eq(mod(n,3),2))'", "-fps_mode", "vfr",
                           "-c:v", "libx264", "-preset", "ultrafast", "-bf", "3", "-c:a", "copy", p.dir.file("vfr.mp4")])
        try p.ingest(["cfr,cfr.mp4,,", "vfr,vfr.mp4,,"])
        try p.segment(try p.recipe("grid", Self.gridRecipe + "[split]\nseed = 3\n"))
        XCTAssertEqual(try p.extract(["grid"]).failed, [:])
        let catalog = try Catalog(path: p.catalogPath)
        let recipe = try XCTUnwrap(catalog.datasets().first?.parsedRecipe)
        for scan in ["cfr", "vfr"] {
            let path = p.dir.file("\(scan).mp4")
            let frames = try MediaProbe.framePresentationTimes(path: path)
            if scan == "vfr" { XCTAssertEqual(Set(zip(frames.dropFirst(), frames).map { ($0 - $1 + 500) / 1000 }).count, 2, "two frame durations") }
            let nominal = try XCTUnwrap(catalog.recording(scan)?.probeResult?.video.nominalFrameDuration)
            let clips = try p.records("grid").map(\.0).filter { $0.scanID == scan }
            XCTAssertGreaterThanOrEqual(clips.count, 3)
            for clip in clips {
                let targets = recipe.frameTargets(clipStart: clip.startMicros) + [recipe.stillTarget(clipStart: clip.startMicros, clipID: clip.id ?? 0)]
                let resolved = FrameCell.resolve(targets, frames: frames, nominal: nominal).map { $0.map { frames[$0] } }
                XCTAssertEqual(resolved, (clip.sampledFrameTimes ?? []).map(Optional.some) + [clip.stillTime], "\(scan) clip at \(clip.startMicros)")
                XCTAssertEqual(FrameCell.resolve(targets, frames: frames, nominal: nominal).dropLast().map { $0 ?? -1 }, clip.sampledFrames ?? [],
                               "undamaged: the indices are the source's frame numbers")
            }
        }
    }

    /// `--decode planned` (issue 18): the same records, byte for byte, and the same provenance as
    /// decoding every frame, on a recording with one keyframe and one with an IDR every second,
    /// for clip datasets of two lengths and a labelled frame dataset with clips, while fewer
    /// packets are decoded; a stream that cannot be planned (MPEG-4 Part 2) is decoded through.
    func testPlannedDecodeGivesTheFullPassRecords() throws {
        func pipeline(planned: Bool) throws -> (Pipeline, ExtractSummary) {
            let p = Pipeline()
            var spec = SampleSpec()
            spec.name = "one"; spec.width = 160; spec.height = 128; spec.seconds = 12; spec.seed = 8
            _ = try SampleGenerator.generate(spec, into: p.dir.path)
            try FFmpegCLI.run(["-i", p.dir.file("one.mp4"), "-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-bf", "3", "-c:a", "copy", p.dir.file("gops.mp4")])
            try FFmpegCLI.run(["-i", p.dir.file("one.mp4"), "-c:v", "mpeg4", "-q:v", "4", "-c:a", "copy", p.dir.file("m4v.mp4")])
            try p.ingest(["one,one.mp4,,", "gops,gops.mp4,,", "m4v,m4v.mp4,,"])
            try "scan_id,start_s,end_s,label\none,0,5,4CH\none,5,12,femur\ngops,0,12,abdomen\nm4v,1,11,femur\n".write(toFile: p.dir.file("planes.csv"), atomically: true, encoding: .utf8)
            _ = try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: p.dir.file("planes.csv"), kind: .planes, name: "planes")
            try p.segment(try p.recipe("short", "[clips]\nlength_s = 2\nstride_s = 5\n[selection]\nmode = \"none\"\n"))
            try p.segment(try p.recipe("long", "[clips]\nlength_s = 6\nstride_s = 6\n[selection]\nmode = \"none\"\n"))
            try p.segment(try p.recipe("labelled", "[frames]\nlabels = \"planes\"\nrate_hz = 0.5\nsize = 32\nclip_s = 1\nclip_frames = 4\n"))
            var e = Extractor()
            e.showProgress = false
            e.decodeMode = planned ? .planned : .all
            let summary = try e.runStage(catalogPath: p.catalogPath, datasetNames: ["short", "long", "labelled"], out: p.dir.file("out"), arguments: [])
            XCTAssertEqual(summary.failed, [:])
            return (p, summary)
        }
        let (all, _) = try pipeline(planned: false)
        let (planned, summary) = try pipeline(planned: true)
        XCTAssertEqual(summary.plannedScans, 3, summary.report)
        XCTAssertEqual(summary.decodedThrough, [:], summary.report)
        XCTAssertLessThan(summary.packetsDecoded, summary.packetsTotal * 3 / 4, summary.report)
        // The catalog's extraction rows say how each scan was decoded.
        let catalog = try Catalog(path: planned.catalogPath)
        let decodes = try catalog.extractionDecodes(datasetID: try XCTUnwrap(catalog.latestDataset(named: "short").id))
        XCTAssertEqual(Set(decodes.keys), ["one", "gops", "m4v"])
        for (scan, d) in decodes {
            XCTAssertEqual(d.mode, .planned, scan)
            XCTAssertLessThan(d.packetsDecoded, try XCTUnwrap(d.packetsTotal), scan)
        }
        let fullCatalog = try Catalog(path: all.catalogPath)
        let fullDecodes = try fullCatalog.extractionDecodes(datasetID: try XCTUnwrap(fullCatalog.latestDataset(named: "short").id))
        XCTAssertEqual(fullDecodes.values.map(\.mode), [.all, .all, .all])
        for name in ["short", "long", "labelled"] {
            let a = try all.records(name), b = try planned.records(name)
            XCTAssertEqual(a.count, b.count, name)
            XCTAssertGreaterThan(a.count, 0, name)
            for (x, y) in zip(a, b) {
                XCTAssertEqual("\(x.0.scanID) \(x.0.startMicros) \(x.0.frameIndices ?? "") \(x.0.frameTimes ?? "") \(x.0.stillIndex ?? -1) \(x.0.stillTime ?? -1)",
                               "\(y.0.scanID) \(y.0.startMicros) \(y.0.frameIndices ?? "") \(y.0.frameTimes ?? "") \(y.0.stillIndex ?? -1) \(y.0.stillTime ?? -1)", name)
                for field in x.2.layout.fields.map(\.name) {
                    XCTAssertEqual(Array(x.1.bytes(field)), Array(y.1.bytes(field)), "\(name) \(x.0.scanID) \(x.0.startMicros) \(field)")
                }
            }
        }
    }

    /// `sono-inspect compare-decode` (issue 18's proof) on every kind of media the suite knows:
    /// both decodes give the same records byte for byte, and the plan is used wherever the
    /// stream's structure is read. A damaged stream is decoded through and says why.
    func testCompareDecodeIsIdenticalOnEveryMediaKind() throws {
        let p = Pipeline()
        var spec = SampleSpec()
        spec.name = "base"; spec.width = 160; spec.height = 128; spec.seconds = 8; spec.seed = 12
        _ = try SampleGenerator.generate(spec, into: p.dir.path)
        let base = p.dir.file("base.mp4")
        let x264 = ["-c:v", "libx264", "-preset", "veryfast"]
        let kinds: [(String, [String])] = [
            ("bframes.mp4", x264 + ["-g", "60", "-bf", "3", "-x264-params", "b-pyramid=normal", "-c:a", "copy"]),
            ("nob.mp4", x264 + ["-bf", "0", "-c:a", "copy"]),
            ("opengop.mp4", x264 + ["-x264-params", "open-gop=1:keyint=30:bframes=3", "-c:a", "copy"]),
            ("scenecut.mp4", x264 + ["-x264-params", "keyint=240:min-keyint=5:scenecut=90", "-c:a", "copy"]),
            ("vfr.mp4", ["-vf", "select='not(eq(mod(n,3),2))'", "-fps_mode", "vfr"] + x264 + ["-bf", "3", "-c:a", "copy"]),
            ("late.mp4", ["-itsoffset", "0.7", "-i", base, "-map", "0:v", "-map", "1:a"] + x264 + ["-c:a", "aac"]),
            ("hevc.mp4", ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "bframes=4:keyint=30:log-level=error", "-tag:v", "hvc1", "-c:a", "copy"]),
            ("mpeg4.mp4", ["-c:v", "mpeg4", "-q:v", "4", "-bf", "2", "-c:a", "copy"]),
            ("matroska.mkv", x264 + ["-g", "45", "-c:a", "copy"]),
            ("tenbit.mp4", x264 + ["-pix_fmt", "yuv420p10le", "-g", "30", "-c:a", "copy"]),
        ]
        for (name, args) in kinds { try FFmpegCLI.run(["-i", base] + args + [p.dir.file(name)]) }
        // Damage: 16 KiB of garbage in the middle of the media data.
        try FFmpegCLI.run(["-i", base, "-c", "copy", "-movflags", "+faststart", p.dir.file("fast.mp4")])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p.dir.file("fast.mp4"))))
        var rng = SeededGenerator(seed: 3, stream: 1)
        for i in (bytes.count / 2)..<(bytes.count / 2 + 16_384) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        try Data(bytes).write(to: URL(fileURLWithPath: p.dir.file("damaged.mp4")))
        let files = ["base.mp4", "damaged.mp4"] + kinds.map(\.0)
        try p.ingest(files.map { "\(($0 as NSString).deletingPathExtension),\($0),," })
        try p.segment(try p.recipe("short", "[clips]\nlength_s = 2\nstride_s = 3\n[selection]\nmode = \"none\"\n"))
        try p.segment(try p.recipe("long", "[clips]\nlength_s = 6\nstride_s = 6\n[selection]\nmode = \"none\"\n"))
        let result = try BuiltProducts.run("sono-inspect", ["compare-decode", "--catalog", p.catalogPath, "--datasets", "short,long"], timeout: 600)
        print(result.stdout)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("compare-decode: \(files.count) scans, \(files.count) identical, 0 different"), result.stdout)
        let lines = Dictionary(uniqueKeysWithValues: result.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line))
        })
        for file in files {
            let scan = (file as NSString).deletingPathExtension
            let line = try XCTUnwrap(lines[scan], result.stdout)
            XCTAssertTrue(line.hasSuffix(": identical"), line)
            if scan == "damaged" {
                XCTAssertTrue(line.contains("decoded through (damage met"), line)
            } else {
                XCTAssertTrue(line.contains(", planned, "), line)
            }
        }
        // Where x264 leaves non-reference B-frames, fewer packets are decoded than the full pass.
        let decoded = try XCTUnwrap(DecodeComparison().run(catalogPath: p.catalogPath, datasetNames: ["short"]).first { $0.scanID == "bframes" })
        XCTAssertLessThan(decoded.planned.packetsDecoded, decoded.fullPackets, decoded.line)
    }

    /// A 100 ms beep at 3.0 s on the video timeline appears 1.0 s into the clip [2, 4) — whether
    /// the audio is in the file, starts 1 s late in the file, or is a separate file with an offset.
    func testAudioIsAlignedWithVideo() throws {
        let p = Pipeline()
        let beep = "aevalsrc='if(between(t\\,%@\\,%@)\\,0.5*sin(2*PI*1000*t)\\,0)':s=48000:d=%@"
        func tone(_ from: Double, _ seconds: Double) -> String {
            String(format: beep, String(from), String(from + 0.1), String(seconds))
        }
        let video = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=6"]
        try FFmpegCLI.run(video + ["-f", "lavfi", "-i", tone(3.0, 6), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", p.dir.file("inline.mp4")])
        try FFmpegCLI.run(["-f", "lavfi", "-i", tone(2.0, 5), p.dir.file("late.wav")])
        try FFmpegCLI.run(video + ["-itsoffset", "1", "-i", p.dir.file("late.wav"), "-map", "0:v", "-map", "1:a",
                                   "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", p.dir.file("late.mp4")])
        try FFmpegCLI.run(video + ["-c:v", "libx264", "-preset", "ultrafast", p.dir.file("silent.mp4")])
        try FFmpegCLI.run(["-f", "lavfi", "-i", tone(2.5, 6), "-c:a", "aac", p.dir.file("speech.m4a")])
        try p.ingest(["inline,inline.mp4,,", "late,late.mp4,,", "separate,silent.mp4,speech.m4a,500"])
        try p.segment(try p.recipe("grid", Self.gridRecipe))
        XCTAssertEqual(try p.extract(["grid"]).failed, [:])
        for (clip, record, _) in try p.records("grid") where clip.startMicros == 2_000_000 {
            let mel = record.f16AsFloat("logmel")
            XCTAssertEqual(mel.count, 201 * 64)
            // Loudness per frame over the mel bins around 1 kHz.
            let loud = (0..<201).map { t in (18..<26).map { mel[t * 64 + $0] }.reduce(0, +) }
            let onset = try XCTUnwrap(loud.firstIndex { $0 > (loud.max() ?? 0) - 30 })
            XCTAssertEqual(onset, 100, accuracy: 2, "\(clip.scanID): beep at frame \(onset)")
            XCTAssertLessThan(loud[90], (loud.max() ?? 0) - 40, "\(clip.scanID): quiet before the beep")
        }
        XCTAssertEqual(try p.records("grid").filter { $0.0.startMicros == 2_000_000 }.count, 3)
    }

    /// The summary's peak memory is the stage's own: launched by a parent that touched 400 MiB
    /// and then exec'd it (as a Python driver would), it must not report the parent's peak
    /// (`getrusage`'s maximum survives exec; issue 17).
    func testPeakMemoryIsTheStagesOwnAfterExec() throws {
        let p = try makeTwoScanPipeline()
        let binary = BuiltProducts.directory + "/sono-extract"
        let script = "import os, sys; b = b'x' * (400 << 20); os.execv(sys.argv[1], sys.argv[1:])"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, binary] + p.args.filter { $0 != "--quiet" }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        let range = try XCTUnwrap(text.range(of: "peak RSS "), text)
        let mib = try XCTUnwrap(Double(text[range.upperBound...].prefix { $0.isNumber || $0 == "." }), text)
        XCTAssertLessThan(mib, 300, "the parent's 400 MiB counted as the stage's peak: \(text)")
        XCTAssertGreaterThan(mib, 1)
    }

    /// Killed with SIGKILL (before a commit, and at a random moment), a rerun produces the same
    /// shards, byte for byte, and the same rows as an uninterrupted run.
    func testResumeAfterSIGKILLIsIdentical() throws {
        let reference = try makeTwoScanPipeline()
        // The reference runs two scans at once: parallel extraction gives the same bytes too.
        let run = try BuiltProducts.run("sono-extract", reference.args + ["--jobs", "2"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let expected = try snapshot(reference.pipeline)

        for crash in ["extract-before-commit", "random"] {
            let resumed = try makeTwoScanPipeline()
            if crash == "random" {
                try killMidway(resumed.args)
            } else {
                let killed = try BuiltProducts.run("sono-extract", resumed.args, environment: ["SONODUAL_CRASH_POINT": crash])
                XCTAssertEqual(killed.status, 9, killed.stderr)
            }
            let rerun = try BuiltProducts.run("sono-extract", resumed.args)
            XCTAssertEqual(rerun.status, 0, rerun.stderr)
            XCTAssertEqual(try snapshot(resumed.pipeline), expected, crash)
            let verify = try BuiltProducts.run("sono-inspect", ["verify", "--catalog", resumed.pipeline.catalogPath])
            XCTAssertEqual(verify.status, 0, verify.stdout)
        }
    }

    /// A scan whose file was cut after ingest fails alone; the others are extracted; exit 2.
    func testTruncatedScanFailsAloneAndIsRetried() throws {
        let p = Pipeline()
        for (name, seed) in [("good", UInt64(1)), ("cut", UInt64(2))] {
            var spec = SampleSpec()
            spec.name = name; spec.width = 128; spec.height = 96; spec.seconds = 8; spec.seed = seed
            _ = try SampleGenerator.generate(spec, into: p.dir.path)
        }
        // Index at the front, so the cut file still opens.
        try FFmpegCLI.run(["-i", p.dir.file("cut.mp4"), "-c", "copy", "-movflags", "+faststart", p.dir.file("cut_fast.mp4")])
        try p.ingest(["good,good.mp4,,", "cut,cut_fast.mp4,,"])
        try p.segment(try p.recipe("grid", Self.gridRecipe))
        let data = try Data(contentsOf: URL(fileURLWithPath: p.dir.file("cut_fast.mp4")))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: p.dir.file("cut_fast.mp4")))

        let run = try BuiltProducts.run("sono-extract", ["--catalog", p.catalogPath, "--datasets", "grid", "--out", p.dir.file("out"), "--quiet"])
        XCTAssertEqual(run.status, 2, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("FAILED cut: \(p.dir.file("cut_fast.mp4"))"), run.stdout)
        XCTAssertEqual(Set(try p.records("grid").map(\.0.scanID)), ["good"])
        let catalog = try Catalog(path: p.catalogPath)
        let status = try catalog.extractionStatus(datasetID: try XCTUnwrap(catalog.datasets().first?.id))
        XCTAssertEqual(status, ["good": .extracted, "cut": .failed])
        // Only committed shards remain on disk.
        let files = try FileManager.default.contentsOfDirectory(atPath: p.dir.file("out/grid-v1"))
        XCTAssertEqual(files, ["good-000.shard"])
        // A rerun skips the good scan and tries the failed one again.
        let again = try BuiltProducts.run("sono-extract", ["--catalog", p.catalogPath, "--datasets", "grid", "--quiet"])
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stdout.contains("0 scans extracted, 1 already done, 1 failed"), again.stdout)
    }

    /// A recording cut short before ingest (index at the front, its end missing, as a capture
    /// that crashed): ingest marks it partial with the readable span, segmentation plans clips
    /// inside that span only, and extraction yields them, frame for frame equal to the same
    /// clips of the whole recording.
    func testTruncatedRecordingIsPartialAndYieldsItsReadableClips() throws {
        let p = Pipeline()
        var spec = SampleSpec()
        spec.name = "whole"; spec.width = 128; spec.height = 96; spec.seconds = 12; spec.seed = 4
        _ = try SampleGenerator.generate(spec, into: p.dir.path)
        try FFmpegCLI.run(["-i", p.dir.file("whole.mp4"), "-c", "copy", "-movflags", "+faststart", p.dir.file("fast.mp4")])
        let data = try Data(contentsOf: URL(fileURLWithPath: p.dir.file("fast.mp4")))
        try data.prefix(data.count * 6 / 10).write(to: URL(fileURLWithPath: p.dir.file("cut.mp4")))
        try p.ingest(["whole,whole.mp4,,", "cut,cut.mp4,,"])
        let catalog = try Catalog(path: p.catalogPath)
        let cut = try XCTUnwrap(catalog.recording("cut"))
        XCTAssertEqual(cut.status, .partial)
        XCTAssertEqual(cut.errorKind, "truncated")
        XCTAssertTrue(cut.error?.contains("of 12.000 s") == true && cut.error?.contains("lost") == true, cut.error ?? "")
        let readable = try XCTUnwrap(cut.probeResult?.videoEnd)
        XCTAssertGreaterThan(readable, 3_000_000, "most of the first 60 % of the bytes is readable")
        XCTAssertLessThan(readable, 10_000_000)
        XCTAssertTrue(try DatasetInspection.summary(catalog).contains("1 partial"))

        try p.segment(try p.recipe("grid", Self.gridRecipe))
        XCTAssertEqual(try p.extract(["grid"]).failed, [:])
        let records = try p.records("grid")
        let cutClips = records.filter { $0.0.scanID == "cut" }, wholeClips = records.filter { $0.0.scanID == "whole" }
        XCTAssertEqual(wholeClips.count, 6)
        XCTAssertEqual(cutClips.count, Int(readable / 2_000_000), "every 2 s window inside the readable span, no other")
        XCTAssertTrue(cutClips.allSatisfy { $0.0.endMicros <= readable })
        for (clip, record, _) in cutClips {
            let twin = try XCTUnwrap(wholeClips.first { $0.0.startMicros == clip.startMicros })
            XCTAssertEqual(record.u8(.video), twin.1.u8(.video), "clip at \(clip.startMicros) µs: the same frames as the whole file's")
            XCTAssertEqual(clip.frameIndices, twin.0.frameIndices)
        }
    }

    /// A recording with 32 KiB of garbage in the middle of its media data: extraction goes on,
    /// records the damage (extraction row, recording partial with the reasons, the summary's
    /// DAMAGED line), and every clip's provenance keeps its frames' presentation times, which
    /// are the source's own (the packets' timestamps) even where frames were lost.
    func testDamagedRecordingIsAccountedAndProvenanceKeepsTimes() throws {
        let p = Pipeline()
        var spec = SampleSpec()
        spec.name = "hurt"; spec.width = 320; spec.height = 240; spec.seconds = 10; spec.seed = 5
        _ = try SampleGenerator.generate(spec, into: p.dir.path)
        try FFmpegCLI.run(["-i", p.dir.file("hurt.mp4"), "-c", "copy", "-movflags", "+faststart", p.dir.file("fast.mp4")])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p.dir.file("fast.mp4"))))
        var rng = SeededGenerator(seed: 9, stream: 2)
        for i in (bytes.count / 2)..<(bytes.count / 2 + 32_768) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        try Data(bytes).write(to: URL(fileURLWithPath: p.dir.file("damaged.mp4")))
        try p.ingest(["damaged,damaged.mp4,,"])
        try p.segment(try p.recipe("grid", Self.gridRecipe))
        let summary = try p.extract(["grid"])
        XCTAssertEqual(summary.failed, [:])
        let said = try XCTUnwrap(summary.damaged["damaged"], summary.report)
        XCTAssertTrue(said.contains("corrupt video packets") || said.contains("frames lost"), said)
        XCTAssertTrue(summary.report.contains("DAMAGED damaged: "), summary.report)
        let catalog = try Catalog(path: p.catalogPath)
        let recording = try XCTUnwrap(catalog.recording("damaged"))
        XCTAssertEqual(recording.status, .partial)
        XCTAssertTrue(recording.error?.hasPrefix("damaged: ") == true, recording.error ?? "")
        let stored = try catalog.read { db in try String.fetchOne(db, sql: "SELECT damage FROM extractions WHERE scan_id = 'damaged'") }
        let damage = try JSONDecoder().decode(ScanDamage.self, from: Data(try XCTUnwrap(stored).utf8))
        XCTAssertFalse(damage.isEmpty)
        // Where: spans inside the 10 s video, about the middle of the file where the garbage went.
        let spans = try XCTUnwrap(catalog.extractionDamage(datasetID: try XCTUnwrap(catalog.latestDataset(named: "grid").id))["damaged"]?.videoSpans)
        XCTAssertFalse(spans.isEmpty)
        XCTAssertTrue(spans.allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= 10_500_000 }, "\(spans)")
        // Provenance: the stored times are frames the source holds, in the clip's order.
        let sourceTimes = Set(try MediaProbe.framePresentationTimes(path: p.dir.file("damaged.mp4")))
        let records = try p.records("grid")
        XCTAssertEqual(records.count, 5)
        for (clip, _, _) in records {
            let times = try XCTUnwrap(clip.sampledFrameTimes)
            XCTAssertEqual(times.count, 14)
            XCTAssertEqual(times, times.sorted())
            XCTAssertTrue(times.allSatisfy { sourceTimes.contains($0) && $0 >= clip.startMicros - 40_000 && $0 < clip.endMicros + 40_000 }, "\(times)")
            XCTAssertTrue(sourceTimes.contains(try XCTUnwrap(clip.stillTime)))
        }
        // A rerun leaves it as it is (no second copy of the reasons).
        _ = try p.extract(["grid"])
        XCTAssertEqual(try catalog.recording("damaged")?.error, recording.error)
    }

    /// Frozen and probe-off stretches next to UI that keeps changing (a frame counter, a cine bar
    /// partly inside the sector's box, a clock): with the detected crop, the clips inside them are
    /// rejected as frozen and blank, and every other clip is kept.
    func testFrozenAndProbeOffNextToChangingUIAreRejected() throws {
        let p = Pipeline()
        var spec = SampleSpec()
        spec.name = "ui"; spec.width = 320; spec.height = 240; spec.seconds = 12; spec.seed = 6
        spec.screen = try ScreenLayout(parsing: "fan,frame-counter,cine-bar,clock,freeze=4-6,off=8-10", option: "test")
        _ = try SampleGenerator.generate(spec, into: p.dir.path)
        try p.ingest(["ui,ui.mp4,,"])
        try p.segment(try p.recipe("checked", "[clips]\nlength_s = 2\n[selection]\nmode = \"none\"\nmin_video_activity = 1.0\nmin_brightness = 4.0\n"))
        let summary = try p.extract(["checked"])
        XCTAssertEqual(summary.datasets["checked"]?.rejected, [.frozenVideo: 1, .blankVideo: 1], summary.report)
        let catalog = try Catalog(path: p.catalogPath)
        let clips = try catalog.read { db in try ClipRecord.order(sql: "start_us").fetchAll(db) }
        XCTAssertEqual(clips.map { $0.rejectReason?.rawValue ?? $0.status.rawValue },
                       ["extracted", "extracted", "frozen_video", "extracted", "blank_video", "extracted"])
    }

    /// Two parts extracted into their own folders and catalogs, then merged, give the same
    /// records as one run; `verify` passes on the merged catalog.
    func testPartsThenMergeEqualOneRun() throws {
        let single = try makeTwoScanPipeline()
        XCTAssertEqual(try BuiltProducts.run("sono-extract", single.args).status, 0)
        let split = try makeTwoScanPipeline()
        for i in 0..<2 {
            let r = try BuiltProducts.run("sono-extract", ["--catalog", split.pipeline.catalogPath, "--datasets", "grid,long",
                                                           "--part", "\(i)/2", "--out", split.pipeline.dir.file("part\(i)"), "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let parts = (0..<2).map { split.pipeline.dir.file("part\($0)/catalog.part-\($0)-of-2.sqlite") }
        let merge = try BuiltProducts.run("sono-extract", ["merge", "--catalog", split.pipeline.catalogPath] + parts)
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssertTrue(merge.stdout.contains("merged"), merge.stdout)
        let again = try BuiltProducts.run("sono-extract", ["merge", "--catalog", split.pipeline.catalogPath] + parts)
        XCTAssertTrue(again.stdout.contains("0 scans (0 shards), 2 already merged"), again.stdout)
        for dataset in ["grid", "long"] {
            let a = try single.pipeline.records(dataset).map { ($0.0.id, $0.0.frameIndices, Array($0.1.bytes("video")), Array($0.1.bytes("logmel"))) }
            let b = try split.pipeline.records(dataset).map { ($0.0.id, $0.0.frameIndices, Array($0.1.bytes("video")), Array($0.1.bytes("logmel"))) }
            XCTAssertEqual(a.count, b.count)
            XCTAssertGreaterThan(a.count, 0)
            for (x, y) in zip(a, b) {
                XCTAssertEqual(x.0, y.0); XCTAssertEqual(x.1, y.1); XCTAssertEqual(x.2, y.2); XCTAssertEqual(x.3, y.3)
            }
        }
        let verify = try BuiltProducts.run("sono-inspect", ["verify", "--catalog", split.pipeline.catalogPath])
        XCTAssertEqual(verify.status, 0, verify.stdout)
    }

    /// A changed recipe makes a new dataset version with its own clips; the same recipe
    /// (even reformatted) finds the existing version and plans nothing again.
    func testChangedRecipeMakesANewVersion() throws {
        let p = Pipeline()
        var spec = SampleSpec()
        spec.name = "s"; spec.width = 96; spec.height = 64; spec.seconds = 7
        _ = try SampleGenerator.generate(spec, into: p.dir.path)
        try p.ingest(["s,s.mp4,,"])
        try p.segment(try p.recipe("grid", Self.gridRecipe))
        try p.segment(try p.recipe("grid", "# same values, other layout\n" + Self.gridRecipe.replacingOccurrences(of: "length_s = 2", with: "length_s = 2.0")))
        try p.segment(try p.recipe("grid", Self.gridRecipe.replacingOccurrences(of: "length_s = 2", with: "length_s = 3")))
        let catalog = try Catalog(path: p.catalogPath)
        let versions = try catalog.datasets().filter { $0.name == "grid" }
        XCTAssertEqual(versions.map(\.version), [1, 2])
        let counts = try versions.map { try catalog.clips(datasetID: $0.id ?? 0, scanID: "s").count }
        XCTAssertEqual(counts, [3, 2])
        XCTAssertNotEqual(versions[0].root, versions[1].root)
    }

    // MARK: helpers

    /// Parallel segmentation saves plans in scan order: clip ids (which seed the stills) are
    /// those of a sequential run, whichever scan finishes first; so are the shards.
    func testParallelSegmentationGivesTheSequentialClipIDs() throws {
        let sequential = try makeTwoScanPipeline(segmentJobs: 1)
        let parallel = try makeTwoScanPipeline(segmentJobs: 2)
        let ids = { (p: Pipeline) throws -> [String] in
            let catalog = try Catalog(path: p.catalogPath)
            return try catalog.datasets().flatMap { d in
                try ["s1", "s2"].flatMap { scan in try catalog.clips(datasetID: d.id ?? -1, scanID: scan).map { "\(d.name) \(scan) \($0.id ?? -1) \($0.startMicros)" } }
            }
        }
        XCTAssertEqual(try ids(sequential.pipeline), try ids(parallel.pipeline))
        XCTAssertEqual(try BuiltProducts.run("sono-extract", sequential.args).status, 0)
        XCTAssertEqual(try BuiltProducts.run("sono-extract", parallel.args + ["--jobs", "2"]).status, 0)
        XCTAssertEqual(try snapshot(sequential.pipeline), try snapshot(parallel.pipeline))
    }

    /// The scan's speech intervals are stored with its plan, and explain each clip's speech
    /// ratio: the stored fraction of the clip covered by them.
    func testSpeechIntervalsAreStoredAndExplainTheRatios() throws {
        let p = try makeTwoScanPipeline().pipeline
        let catalog = try Catalog(path: p.catalogPath)
        for dataset in try catalog.datasets() {
            var checked = 0
            for scan in ["s1", "s2"] {
                let speech = try catalog.speechIntervals(datasetID: dataset.id ?? -1, scanID: scan)
                XCTAssertFalse(speech.isEmpty, "\(dataset.name) \(scan): no speech stored")
                XCTAssertTrue(zip(speech, speech.dropFirst()).allSatisfy { $0.upperBound <= $1.lowerBound }, "sorted, disjoint")
                for clip in try catalog.clips(datasetID: dataset.id ?? -1, scanID: scan) {
                    let covered = speech.reduce(Int64(0)) { $0 + max(0, min($1.upperBound, clip.endMicros) - max($1.lowerBound, clip.startMicros)) }
                    XCTAssertEqual(Double(covered) / Double(clip.endMicros - clip.startMicros), clip.speechRatio, accuracy: 1e-3)
                    checked += 1
                }
            }
            XCTAssertGreaterThan(checked, 0)
        }
    }

    /// Plane labels and gaze → a labelled frame dataset with saliency maps and folds: each
    /// record holds the frame, its class and the gaze map around it.
    func testLabelledFrameDatasetWithGazeMaps() throws {
        let p = try makeTwoScanPipeline().pipeline
        let catalog = try Catalog(path: p.catalogPath)
        let planes = p.dir.file("planes.csv"), gaze = p.dir.file("gaze.csv")
        try "scan_id,start_s,end_s,label\ns1,0,4,4CH\ns1,4,8,femur\ns1,8,11.5,background\ns2,1,6,abdomen\n".write(toFile: planes, atomically: true, encoding: .utf8)
        let crop = try XCTUnwrap(catalog.recordings().first { $0.scanID == "s1" }?.source.crop ?? CropRect(x: 0, y: 0, width: 128, height: 96))
        // The centre of map cell (column 8, row 4) of the 16² map over the crop.
        let cx = Double(crop.x) + Double(crop.width) * 8.5 / 16, cy = Double(crop.y) + Double(crop.height) * 4.5 / 16
        var gazeRows = ["scan_id,time_s,x,y"]
        for k in 0..<120 { gazeRows.append("s1,\(Double(k) / 10),\(cx),\(cy)") }
        try gazeRows.joined(separator: "\n").write(toFile: gaze, atomically: true, encoding: .utf8)
        XCTAssertTrue(try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: planes, kind: .planes, name: "planes").contains("4 rows"))
        _ = try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: gaze, kind: .gaze, name: "gaze")
        let again = try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: planes, kind: .planes, name: "planes")
        XCTAssertTrue(again.contains("planes v1") && again.contains("unchanged"), again)
        try p.segment(try p.recipe("frames", "[frames]\nlabels = \"planes\"\nrate_hz = 1\nmax_per_span = 3\nsize = 32\n[saliency]\ngaze = \"gaze\"\nwindow_s = 0.5\nsigma_px = 4\nmap_size = 16\n[folds]\nk = 2\n"))
        let summary = try p.extract(["frames"])
        XCTAssertEqual(summary.failed, [:])
        let records = try p.records("frames")
        XCTAssertEqual(records.count, 3 + 3 + 3 + 3, "three per span (capped)")
        let classes = ClassList.paper
        for (clip, record, _) in records {
            let label = Int(record.bytes(FrameField.label.rawValue).loadUnaligned(as: Int64.self))
            XCTAssertEqual(classes.ids[label], clip.label)
            let density = record.bytes(FrameField.gazeMap.rawValue).bindMemory(to: Float.self)
            let total = density.reduce(0, +)
            if clip.scanID == "s1" {
                XCTAssertEqual(total, 1, accuracy: 1e-4)
                let peak = density.indices.max { density[$0] < density[$1] } ?? 0
                XCTAssertEqual(peak % 16, 8, "peak column at the gaze point's"); XCTAssertEqual(peak / 16, 4, "peak row")
            } else {
                XCTAssertEqual(total, 0, "no gaze on s2")
            }
        }
        let dataset = try catalog.latestDataset(named: "frames")
        let folds = try catalog.folds(datasetID: dataset.id ?? -1)
        XCTAssertEqual(Set(folds.values), [0, 1], "two scans, two folds")

        // Fine-tuning on it, per fold by scan; a rerun keeps the finished folds.
        var config = FineTuneConfig(dataset: "frames")
        config.start = .random(.tiny); config.epochs = 1; config.batchSize = 4; config.threads = 1
        let report = try PlaneFineTuning(config: config).run(catalog: catalog, out: p.dir.file("ft"))
        XCTAssertEqual(report.folds.count, 2)
        XCTAssertEqual(report.classes, ["4CH", "abdomen", "femur", "background"])
        XCTAssertEqual(report.folds.map { $0.perClass.reduce(0) { $0 + $1.support } }.reduce(0, +), records.count, "every frame tested once")
        XCTAssertTrue(FileManager.default.fileExists(atPath: p.dir.file("ft/fold-1.safetensors")))
        var logged: [String] = []
        let tuning = PlaneFineTuning(config: config)
        tuning.log = { logged.append($0) }
        let rerun = try tuning.run(catalog: catalog, out: p.dir.file("ft"))
        XCTAssertEqual(rerun.summary, report.summary)
        XCTAssertEqual(logged, ["fold 0: done before, kept", "fold 1: done before, kept"])
        XCTAssertTrue(report.csv.hasPrefix("metric,mean,sd\naccuracy,"))
    }

    /// Saliency fine-tuning per fold by scan: with the gaze on one spot of the crop in both scans,
    /// a short fine-tune predicts maps peaked there on the held-out scan (CC, NSS against a uniform
    /// prediction's 0 and NaN); a rerun keeps the finished folds; a plane-only dataset is refused.
    func testSaliencyFineTuningLearnsWhereTheGazeIs() throws {
        let p = try makeTwoScanPipeline().pipeline
        let catalog = try Catalog(path: p.catalogPath)
        let planes = p.dir.file("planes.csv"), gaze = p.dir.file("gaze.csv")
        try "scan_id,start_s,end_s,label\ns1,0,11.5,4CH\ns2,0,11.5,abdomen\n".write(toFile: planes, atomically: true, encoding: .utf8)
        var gazeRows = ["scan_id,time_s,x,y"]
        for scan in ["s1", "s2"] {
            let crop = try XCTUnwrap(catalog.recordings().first { $0.scanID == scan }?.source.crop ?? CropRect(x: 0, y: 0, width: 128, height: 96))
            let cx = Double(crop.x) + Double(crop.width) * 0.3, cy = Double(crop.y) + Double(crop.height) * 0.6
            for k in 0..<115 { gazeRows.append("\(scan),\(Double(k) / 10),\(cx),\(cy)") }
        }
        try gazeRows.joined(separator: "\n").write(toFile: gaze, atomically: true, encoding: .utf8)
        _ = try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: planes, kind: .planes, name: "planes")
        _ = try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: gaze, kind: .gaze, name: "gaze")
        try p.segment(try p.recipe("gazed", "[frames]\nlabels = \"planes\"\nrate_hz = 2\nmax_per_span = 16\nsize = 32\n[saliency]\ngaze = \"gaze\"\nwindow_s = 0.5\nsigma_px = 6\nmap_size = 16\n[folds]\nk = 2\n"))
        try p.segment(try p.recipe("plain", "[frames]\nlabels = \"planes\"\nrate_hz = 1\nsize = 32\n[folds]\nk = 2\n"))
        XCTAssertEqual(try p.extract(["gazed", "plain"]).failed, [:])

        var config = FineTuneConfig(dataset: "gazed")
        config.start = .random(.tiny); config.epochs = 12; config.batchSize = 8; config.threads = 1; config.learningRate = 3e-3  // shift: the default, 32 / 16 = 2 pixels
        let report = try SaliencyFineTuning(config: config).run(catalog: catalog, out: p.dir.file("sal"))
        XCTAssertEqual(report.folds.map(\.model.frames), [16, 16], "every frame with gaze scored once")
        XCTAssertEqual(report.mapSize, 16)
        for fold in report.folds.map(\.model) {
            XCTAssertGreaterThan(fold.cc, 0.5, "fold \(fold.fold): the predicted map follows the gaze (\(fold))")
            XCTAssertGreaterThan(fold.nss, 1, "fold \(fold.fold): high at the fixations (\(fold))")
            XCTAssertLessThan(fold.kld, SaliencyMetrics.kld(prediction: [Double](repeating: 1, count: 256), density: Self.spot(16, sigma: 6 * 16 / 128)))
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: p.dir.file("sal/fold-1.safetensors")))
        // Example frames with their gaze and predicted maps, for the report: the scored maps.
        let examples = try SaliencyExamples.read(from: p.dir.file("sal"))
        XCTAssertEqual(examples.map(\.fold), [0, 1])
        for e in examples {
            XCTAssertEqual(e.frames.count, SaliencyExamples.perFold)
            XCTAssertEqual(e.frames.first?.count, 32 * 32)
            XCTAssertTrue(e.truth.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-3 } && e.predicted.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-3 })
            XCTAssertGreaterThan(SaliencyMetrics.cc(prediction: e.predicted[0].map(Double.init), density: e.truth[0].map(Double.init)), 0.3, "the prediction stored is the model's")
        }
        var logged: [String] = []
        let tuning = SaliencyFineTuning(config: config)
        tuning.log = { logged.append($0) }
        let rerun = try tuning.run(catalog: catalog, out: p.dir.file("sal"))
        XCTAssertEqual(rerun.folds, report.folds)
        XCTAssertEqual(logged, ["fold 0: done before, kept", "fold 1: done before, kept"])
        XCTAssertTrue(report.csv.hasPrefix("metric,mean,sd\nkld,"))
        // Stopped after its first epoch (as SIGINT does), then rerun: the straight run's result.
        let interrupted = SaliencyFineTuning(config: config)
        interrupted.stop.request()
        XCTAssertThrowsError(try interrupted.run(catalog: catalog, out: p.dir.file("sal-stop"))) { error in
            XCTAssertEqual((error as? FineTuneStopped)?.epochsDone, 1, "\(error)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: p.dir.file("sal-stop/fold-0.epoch.safetensors")))
        let continued = SaliencyFineTuning(config: config)
        var continuedLog: [String] = []
        continued.log = { continuedLog.append($0) }
        XCTAssertEqual(try continued.run(catalog: catalog, out: p.dir.file("sal-stop")).folds, report.folds)
        XCTAssertTrue(continuedLog.contains { $0.hasPrefix("fold 0: continuing after epoch 1") }, "\(continuedLog)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: p.dir.file("sal-stop/fold-0.epoch.safetensors")), "removed once the fold is done")

        // The same through the command with a real SIGINT: exit 0 after an epoch, then a rerun finishes it.
        let args = ["saliency", "--catalog", p.catalogPath, "--dataset", "gazed", "--init", "random:tiny", "--epochs", "12", "--batch-size", "8",
                    "--threads", "1", "--lr", "0.003", "--out", p.dir.file("sal-cli")]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.directory + "/sono-finetune")
        process.arguments = args
        let stderr = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline, !FileManager.default.fileExists(atPath: p.dir.file("sal-cli/fold-0.epoch.safetensors")) { usleep(20_000) }
        kill(process.processIdentifier, SIGINT)
        let said = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0, said)
        XCTAssertTrue(said.contains("stopped after fold 0"), said)
        let finished = try BuiltProducts.run("sono-finetune", args, timeout: 600)
        XCTAssertEqual(finished.status, 0, finished.stderr)
        let cli = try JSONDecoder().decode(SaliencyReport.self, from: Data(contentsOf: URL(fileURLWithPath: p.dir.file("sal-cli/report.json"))))
        XCTAssertEqual(cli.folds, report.folds, "interrupted by a signal and rerun: the straight run's result")
        XCTAssertTrue(report.markdownTable().contains("| mean (sd) | model | 32 |"))
        // Gaze on the same spot in both scans: the training-gaze prior is that spot, so it scores high too.
        XCTAssertGreaterThan(report.prior["cc"]?.mean ?? 0, 0.5)

        // The paper's tables from the two reports (a planes fine-tune on the same frames, one epoch).
        config.epochs = 1
        let planesReport = try PlaneFineTuning(config: config).run(catalog: catalog, out: p.dir.file("start/planes"))
        try EvalJSON.encode(planesReport).write(to: URL(fileURLWithPath: p.dir.file("start/planes/report.json")))
        try EvalJSON.encode(report).write(to: URL(fileURLWithPath: p.dir.file("sal/report.json")))
        try FileManager.default.createSymbolicLink(atPath: p.dir.file("start/saliency"), withDestinationPath: p.dir.file("sal"))
        let tables = try PaperTables(rows: ["random=\(p.dir.file("start"))"], ablations: ["x=\(p.dir.file("start"))"]).markdown()
        XCTAssertTrue(tables.contains(String(format: "| random | %.3f (%.3f) |", report.kld.mean, report.kld.sd ?? 0)), tables)
        XCTAssertTrue(tables.contains("| training-gaze prior |") && tables.contains("## Table 3"), tables)
        XCTAssertTrue(tables.contains(String(format: "| %.3f (%.3f) |", planesReport.summary.macroSubset.f1.mean, planesReport.summary.macroSubset.f1.sd ?? 0)), tables)

        config.dataset = "plain"
        XCTAssertThrowsError(try SaliencyFineTuning(config: config).run(catalog: catalog, out: p.dir.file("sal-plain"))) { error in
            XCTAssertTrue("\(error)".contains("has no gaze maps"), "\(error)")
        }
    }

    /// A Gaussian spot on an m×m map (the uniform prediction's KLD reference).
    private static func spot(_ m: Int, sigma: Double) -> [Double] {
        (0..<(m * m)).map { k in
            let dx = (Double(k % m) + 0.5 - 0.3 * Double(m)) / sigma, dy = (Double(k / m) + 0.5 - 0.6 * Double(m)) / sigma
            return exp(-0.5 * (dx * dx + dy * dy))
        }
    }

    /// Labels by frame index: each labelled frame is sampled once, and the record's frame is
    /// that very frame (the still's stored index equals the label's).
    func testFrameIndexLabelsSampleThoseFrames() throws {
        let p = try makeTwoScanPipeline().pipeline
        let planes = p.dir.file("frames.csv")
        try "scan_id,frame_index,label\ns1,0,4CH\ns1,37,femur\ns2,120,background\n".write(toFile: planes, atomically: true, encoding: .utf8)
        _ = try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: planes, kind: .planes, name: "byframe")
        try p.segment(try p.recipe("picked", "[frames]\nlabels = \"byframe\"\nsize = 32\n"))
        XCTAssertEqual(try p.extract(["picked"]).failed, [:])
        let records = try p.records("picked")
        XCTAssertEqual(records.map { "\($0.0.scanID) \($0.0.stillIndex ?? -1) \($0.0.label ?? "")" }, ["s1 0 4CH", "s1 37 femur", "s2 120 background"])
        try "scan_id,frame_index,label\ns1,99999,4CH\n".write(toFile: planes, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: planes, kind: .planes, name: "x")) {
            XCTAssertTrue("\($0)".contains("line 2: frame 99999 is past the video's"), "\($0)")
        }
    }

    /// `[frames] clip_s`: each labelled frame's record also holds the clip around it, whose
    /// frames are the scan's own (equal, byte for byte, to the single-frame records of those
    /// frame indices), moved inside the video at its ends; the video encoder fine-tunes and
    /// embeds on it, and a dataset without clips is refused for the video encoder.
    func testLabelledFramesWithClipsForTheVideoEncoder() throws {
        let p = try makeTwoScanPipeline().pipeline
        let catalog = try Catalog(path: p.catalogPath)
        let dense = p.dir.file("dense.csv"), few = p.dir.file("few.csv")
        let denseFrames = Array(0...12) + Array(30...50) + Array(345...359)
        try (["scan_id,frame_index,label", "s2,5,femur"] + denseFrames.map { "s1,\($0),4CH" }).joined(separator: "\n").write(toFile: dense, atomically: true, encoding: .utf8)
        try "scan_id,frame_index,label\ns1,0,4CH\ns1,40,femur\ns1,359,background\ns2,0,4CH\ns2,100,femur\ns2,200,background\n"
            .write(toFile: few, atomically: true, encoding: .utf8)
        _ = try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: dense, kind: .planes, name: "dense")
        _ = try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: few, kind: .planes, name: "few")
        try p.segment(try p.recipe("dense", "[frames]\nlabels = \"dense\"\nsize = 32\n[folds]\nk = 2\n"))
        try p.segment(try p.recipe("few", "[frames]\nlabels = \"few\"\nsize = 32\nclip_s = 0.4\nclip_frames = 4\n[folds]\nk = 2\n"))
        XCTAssertEqual(try p.extract(["dense", "few"]).failed, [:])
        var frameAt: [Int: [UInt8]] = [:]
        for (clip, record, _) in try p.records("dense") where clip.scanID == "s1" { frameAt[clip.stillIndex ?? -1] = record.u8(FrameField.frame.rawValue) }
        let records = try p.records("few")
        XCTAssertEqual(records.count, 6)
        for (clip, record, _) in records where clip.scanID == "s1" {
            let indices = try JSONDecoder().decode([Int].self, from: Data((clip.frameIndices ?? "").utf8))
            XCTAssertEqual(indices.count, 4)
            XCTAssertEqual(indices, indices.sorted())
            let video = record.u8(.video)
            XCTAssertEqual(video.count, 4 * 32 * 32)
            XCTAssertEqual(record.u8(FrameField.frame.rawValue), frameAt[clip.stillIndex ?? -1], "the frame is its own")
            for (k, index) in indices.enumerated() {
                XCTAssertEqual(Array(video[(k * 1024)..<((k + 1) * 1024)]), frameAt[index], "frame \(k) of the clip around \(clip.stillIndex ?? -1) is frame \(index)")
            }
            switch clip.stillIndex {
            case 0: XCTAssertEqual(indices, [1, 4, 7, 10], "the first frame's clip starts at the video's start")
            case 40: XCTAssertTrue(indices.first.map { $0 < 40 } == true && indices.last.map { $0 > 40 } == true, "\(indices): centred on frame 40")
            default: XCTAssertEqual(indices.last, 358, "the last frame's clip ends inside the video")
            }
        }

        var config = FineTuneConfig(dataset: "few")
        config.start = .random(.tiny); config.epochs = 1; config.batchSize = 2; config.threads = 1; config.encoder = .video
        let report = try PlaneFineTuning(config: config).run(catalog: catalog, out: p.dir.file("ft-video"))
        XCTAssertEqual(report.folds.map { $0.perClass.reduce(0) { $0 + $1.support } }.reduce(0, +), 6, "every clip tested once")
        XCTAssertEqual(report.encoder, .video)
        let keys = try SafeTensors.read(p.dir.file("ft-video/fold-0.safetensors")).tensors.map(\.0)
        XCTAssertTrue(keys.contains { $0.hasPrefix("video.") } && !keys.contains { $0.hasPrefix("image.") }, "\(keys.prefix(5))")
        let table = try FrozenEncoders(randomOf: .tiny, seed: 0).features(of: .video, catalog: catalog, dataset: "few")
        XCTAssertEqual(table.count, 6)
        XCTAssertEqual(Set(table.labels), Set(try ["4CH", "femur", "background"].map { try ClassList.paper.index(of: $0) }))
        XCTAssertGreaterThan(table.dimension, 0)
        config.dataset = "dense"
        XCTAssertThrowsError(try PlaneFineTuning(config: config).run(catalog: catalog, out: p.dir.file("ft-none"))) { error in
            XCTAssertTrue("\(error)".contains("holds no clips around its frames"), "\(error)")
        }
        XCTAssertThrowsError(try FrozenEncoders(randomOf: .tiny, seed: 0).features(of: .video, catalog: catalog, dataset: "dense")) { error in
            XCTAssertTrue("\(error)".contains("without clips"), "\(error)")
        }
    }

    /// Every bad label row is an error naming the file and line; nothing of that file is stored.
    func testLabelManifestErrorsNameFileAndLine() throws {
        let p = try makeTwoScanPipeline().pipeline
        let cases: [(LabelSetRecord.Kind, String, String)] = [
            (.planes, "scan_id,start_s,end_s,label\nnope,0,1,4CH\n", "line 2: unknown scan 'nope'"),
            (.planes, "scan_id,start_s,end_s,label\ns1,0,99,4CH\n", "line 2: span 0…99 s lies outside the video"),
            (.planes, "scan_id,start_s,end_s,label\ns1,0,3,4CH\ns1,2,4,femur\n", "line 3: span overlaps the one on line 2"),
            (.planes, "scan_id,start_s,end_s,label\ns1,0,3,heart\n", "line 2: unknown label 'heart'"),
            (.planes, "scan_id,start_s,end_s,label\ns1,3,1,4CH\n", "line 2: end_s 1 is not after start_s 3"),
            (.planes, "scan_id,start,end,label\n", "line 1: header must be scan_id,start_s,end_s,label"),
            (.planes, "scan_id,start_s,end_s,label\ns1,0,1\n", "line 2: 3 fields, the header has 4"),
            (.gaze, "scan_id,time_s,x,y\ns1,1,500,10\n", "line 2: point (500, 10) lies outside the 128×96 frame"),
            (.gaze, "scan_id,time_s,x,y\ns1,x,5,10\n", "line 2: time_s, x and y must be numbers"),
        ]
        for (i, (kind, text, expected)) in cases.enumerated() {
            let file = p.dir.file("bad\(i).csv")
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try LabelIngestor().ingest(catalogPath: p.catalogPath, manifest: file, kind: kind, name: "bad")) { error in
                XCTAssertTrue("\(error)".hasPrefix(file + ": "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "'\(error)' lacks '\(expected)'")
            }
        }
        XCTAssertThrowsError(try Catalog(path: p.catalogPath).latestLabelSet(named: "bad", kind: .planes), "nothing stored")
    }

    private func makeTwoScanPipeline(segmentJobs: Int = 1) throws -> (pipeline: Pipeline, args: [String]) {
        let p = Pipeline()
        for (name, seed) in [("s1", UInt64(1)), ("s2", UInt64(2))] {
            var spec = SampleSpec()
            spec.name = name; spec.width = 128; spec.height = 96; spec.seconds = 12; spec.seed = seed
            _ = try SampleGenerator.generate(spec, into: p.dir.path)
        }
        try p.ingest(["s1,s1.mp4,,", "s2,s2.mp4,,"])
        try p.segment(try p.recipe("grid", Self.gridRecipe + "[split]\nseed = 3\n"), jobs: segmentJobs)
        try p.segment(try p.recipe("long", "[clips]\nlength_s = 6\nstride_s = 3\n[selection]\nmode = \"none\"\n"), jobs: segmentJobs)
        return (p, ["--catalog", p.catalogPath, "--datasets", "grid,long", "--out", p.dir.file("out"), "--quiet", "--shard-mib", "1"])
    }

    /// Shard files (name → bytes) and the rows that describe them, without times and run ids.
    private func snapshot(_ p: Pipeline) throws -> [String] {
        var lines: [String] = []
        let out = URL(fileURLWithPath: p.dir.file("out"))
        for folder in try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() {
            for name in try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent(folder).path).sorted() {
                let data = try Data(contentsOf: out.appendingPathComponent(folder).appendingPathComponent(name))
                lines.append("\(folder)/\(name) \(data.count) \(CRC32C.checksum(data))")
            }
        }
        let catalog = try Catalog(path: p.catalogPath)
        lines += try catalog.read { db in
            try String.fetchAll(db, sql: """
                SELECT c.id || ' ' || c.scan_id || ' ' || c.start_us || ' ' || c.status || ' ' || IFNULL(c.frame_indices, '') || ' ' ||
                       IFNULL(c.still_index, '') || ' ' || IFNULL(s.path, '') || ' ' || IFNULL(r.slot, '') || ' ' || IFNULL(s.records_crc32c, '')
                FROM clips c LEFT JOIN records r ON r.clip_id = c.id LEFT JOIN shards s ON s.id = r.shard_id ORDER BY c.id
                """)
        }
        return lines
    }

    /// Starts sono-extract and SIGKILLs it once it has written something (or after 3 s).
    private func killMidway(_ args: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.directory + "/sono-extract")
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let out = args[args.firstIndex(of: "--out")! + 1]
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline && process.isRunning {
            let written = (try? FileManager.default.subpathsOfDirectory(atPath: out))?.contains { $0.contains(".tmp-") || $0.hasSuffix(".shard") } ?? false
            if written { break }
            usleep(2000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
