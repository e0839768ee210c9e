import ArgumentParser
import Foundation
import SonoCatalog
import SonoInspection
import SonoLoader
import SonoCLI
import SonoCore
import SonoDataset
import SonoExtract
import SonoMedia
import SonoAudio
import SonoSpectral
import SonoTensor

/// `sono-inspect`: look at what the pipeline made.
struct SonoInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-inspect",
        abstract: "Inspect the catalog, recordings and (later) shards.",
        subcommands: [Summary.self, Verify.self, Show.self, Order.self, Decode.self, CompareDecode.self, LogMelCommand.self, Schema.self, Versions.self])
}

extension SonoInspect {
    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Datasets, shards, records, bytes, and clips per split and per scan.")
        @OptionGroup var catalog: CatalogOption
        func run() throws { print(try DatasetInspection.summary(Catalog(path: catalog.path))) }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every shard against the catalog and its checksums; exit 2 naming each bad record.")
        @OptionGroup var catalog: CatalogOption
        @Option(help: "Only this dataset.") var dataset: String?
        func run() throws {
            let opened = try Catalog(path: catalog.path)
            if let dataset { _ = try opened.latestDataset(named: dataset) }  // an unknown name is an error, not "0 shards"
            let report = try DatasetInspection.verify(opened, dataset: dataset)
            for problem in report.problems { print("BAD \(problem)") }
            print("verify: \(report.shardsChecked) shards, \(report.recordsChecked) records, \(report.problems.count) problems")
            if !report.isClean { throw StageExit.someInputsFailed }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one clip's record as numbers; with --png, write its frames, still and log-mel as PNG images.")
        @OptionGroup var catalog: CatalogOption
        @Argument(help: "Clip id.") var clip: Int64
        @Option(help: "Folder for PNG previews.") var png: String?
        func run() throws { print(try DatasetInspection.show(Catalog(path: catalog.path), clipID: clip, pngFolder: png)) }
    }

    /// The batches a loader yields, one line of clip ids per batch: what the model will see.
    struct Order: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the loader's order: one batch of clip ids per line, for a rank, epoch and seed.")
        @OptionGroup var catalog: CatalogOption
        @Option(help: "Dataset names (comma-separated).") var dataset: String
        @Option(help: "Seed.") var seed: UInt64 = 0
        @Option(help: "Epoch.") var epoch = 0
        @Option(help: "Rank.") var rank = 0
        @Option(help: "World size.") var worldSize = 1
        @Option(help: "Batch size.") var batchSize = 32
        @Option(help: "First step to print (as a resumed run would continue).") var fromStep = 0
        @Option(help: "Only this split (train, val, test).") var split: Split?
        @Option(help: "At most this many clips of one scan per batch.") var maxPerScan: Int?
        @Option(help: "Batches made of runs of this many clips of one scan, as data.scan_group.") var scanGroup: Int?
        @Flag(help: "Pad the last round instead of dropping it.") var noDropLast = false
        @Option(help: "Per-dataset weights (comma-separated, one per dataset), as data.weights.") var weights: String?

        /// The parsed --weights (checked in validate(): a malformed item reads as NaN).
        var parsedWeights: [Double]? {
            weights.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) ?? .nan } }
        }

        func validate() throws {
            guard rank >= 0, rank < worldSize, batchSize > 0, fromStep >= 0 else { throw ValidationError("need 0 ≤ rank < world size, batch size > 0, from-step ≥ 0") }
            guard epoch >= 0 else { throw ValidationError("--epoch must be ≥ 0 (got \(epoch))") }
            if let maxPerScan, maxPerScan < 1 { throw ValidationError("--max-per-scan must be ≥ 1 (got \(maxPerScan))") }
            if let scanGroup, scanGroup < 1 { throw ValidationError("--scan-group must be ≥ 1 (got \(scanGroup))") }
            if let weights, let parsed = parsedWeights {
                let count = dataset.split(separator: ",").count
                guard parsed.count == count, parsed.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                    throw ValidationError("--weights \(weights): need \(count) positive numbers, one per dataset")
                }
            }
        }

        func run() throws {
            var options = LoaderOptions()
            options.batchSize = batchSize; options.rank = rank; options.worldSize = worldSize
            options.split = split; options.maxPerScan = maxPerScan; options.dropLast = !noDropLast
            options.scanGroup = scanGroup
            options.weights = parsedWeights
            options.prefetch = 0
            let loader = try ShardLoader(catalog: Catalog(path: catalog.path), datasets: dataset.split(separator: ",").map(String.init),
                                         options: options, seed: seed)
            let plan = loader.plan(epoch: epoch)
            guard fromStep <= plan.batchesPerRank else {
                throw ValidationError("--from-step \(fromStep) is past the epoch's end (\(plan.batchesPerRank) batches for rank \(rank))")
            }
            for step in fromStep..<plan.batchesPerRank {
                print(plan.batch(rank: rank, worldSize: worldSize, step: step).map { String($0.clipID) }.joined(separator: " "))
            }
        }
    }

    /// Decodes every ingested recording once, as the extractor will, and prints what came out.
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode ingested recordings end to end and print a summary per scan.")

        @OptionGroup var catalog: CatalogOption
        @Option(help: "Only this scan.") var scan: String?
        @Option(help: "Output frame size (square).") var size = 128
        @Option(help: "Audio sample rate for the decode (Hz).") var sampleRate = 32000
        @Option(help: "Decoder threads.") var threads = 2

        func validate() throws {
            guard (16...4096).contains(size) else { throw ValidationError("--size must be in 16…4096 (got \(size))") }
            guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1…64 (got \(threads))") }
            guard (8000...192_000).contains(sampleRate) else { throw ValidationError("--sample-rate must be in 8000…192000 (got \(sampleRate))") }
        }

        func run() throws {
            let rows = try Catalog(path: catalog.path).recordings().filter { scan == nil || $0.scanID == scan }
            guard !rows.isEmpty else { throw ValidationError("no recordings\(scan.map { " named \($0)" } ?? "") in \(catalog.path)") }
            var failures = 0
            for row in rows where row.status.isUsable {
                let conversion = GrayConversion(size: size, crop: row.source.crop)
                do {
                    let s = try RecordingSummary.decode(row.source, conversion: conversion, sampleRate: sampleRate, threads: threads)
                    let fps = s.measuredFrameRate.map { String(format: "%.3f", $0) } ?? "-"
                    print("\(row.scanID): \(s.frames) frames (\(fps) fps, pts \(s.firstPTS ?? 0)…\(s.lastPTS ?? 0) µs), "
                        + "mean gray \(String(format: "%.1f", s.meanGray)), audio \(String(format: "%.3f", s.audioSeconds)) s "
                        + "RMS \(String(format: "%.4f", s.audioRMS))\(s.audioPaddedAtEnd ? " (padded at end)" : ""), "
                        + "\(s.video.corruptPackets + s.audio.corruptPackets) corrupt packets, "
                        + "decoded in \(String(format: "%.2f", s.decodeSeconds)) s (\(String(format: "%.0f", Double(s.frames) / max(s.decodeSeconds, 1e-9))) frames/s)")
                } catch let error as MediaError {
                    failures += 1
                    printError("error: \(row.scanID): \(error)")
                }
            }
            for row in rows where row.status == .failed {
                print("\(row.scanID): not ingested: \(row.error ?? "")")
            }
            if failures > 0 { throw StageExit.someInputsFailed }
        }
    }

    /// Extracts scans both ways and compares the records byte for byte (issue 18's proof).
    struct CompareDecode: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compare-decode",
            abstract: "Extract each scan of datasets with --decode all and planned into a temporary folder and compare every record byte for byte.",
            discussion: "Nothing is written to the catalog or the datasets' folders. Exit status 2 when any scan differs.")

        @OptionGroup var catalog: CatalogOption
        @OptionGroup var datasets: DatasetNamesOption
        @Option(help: "Only these scans (comma-separated).") var scans: String?
        @Option(help: "Decoder threads.") var threads = 2

        func validate() throws {
            guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1…64 (got \(threads))") }
        }

        func run() throws {
            var comparison = DecodeComparison()
            comparison.decoderThreads = threads
            comparison.scans = scans.map { Set(CommaList.items($0)) }
            let reports = try comparison.run(catalogPath: catalog.path, datasetNames: datasets.names)
            for r in reports { print(r.line) }
            let different = reports.filter { !$0.identical }.count
            print("compare-decode: \(reports.count) scans, \(reports.count - different) identical, \(different) different")
            if different > 0 { throw StageExit.someInputsFailed }
        }
    }

    /// Writes our log-mel of any audio or video file as .npy, to hold against other pipelines.
    struct LogMelCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logmel",
            abstract: "Write the log-mel spectrogram of an audio or video file as a [frames, mels] float32 .npy.",
            discussion: "Audio is decoded to mono (channel mean) at the sample rate, time 0 being the file's own. Defaults: PANNs CNN14 (32 kHz, 1024/320, 64 mels, 50-14000 Hz).")

        @Argument(help: "Audio or video file.") var file: String
        @Option(help: "Output .npy path.") var out: String
        @Option(help: "Excerpt start (s).") var start: Double?
        @Option(help: "Excerpt end (s).") var end: Double?
        @Option(help: "Sample rate (Hz).") var sampleRate = 32000
        @Option(help: "FFT size (= window length).") var nFFT = 1024
        @Option(help: "Hop (samples).") var hop = 320
        @Option(help: "Mel bins.") var mels = 64
        @Option(help: "Lowest mel frequency (Hz).") var fmin: Double = 50
        @Option(help: "Highest mel frequency (Hz).") var fmax: Double = 14000

        func validate() throws {
            if let start, !(start.isFinite && start >= 0) { throw ValidationError("--start must be ≥ 0 s (got \(start))") }
            if let end, !(end.isFinite && end > (start ?? 0)) { throw ValidationError("--end must be after --start (got \(end))") }
        }

        func run() throws {
            var config = LogMelConfig()
            config.sampleRate = sampleRate; config.fftSize = nFFT; config.windowLength = nFFT
            config.hopLength = hop; config.melBins = mels; config.fMin = fmin; config.fMax = fmax
            let audio = try ScanAudio(source: RecordingSource(videoPath: file), origin: 0, length: nil, melConfig: config)
            let count = audio.track.samples.count
            let first = min(count, max(0, start.map { Int(audio.sampleIndex(at: TimeMath.micros(seconds: $0))) } ?? 0))
            let last = min(count, max(first, end.map { Int(audio.sampleIndex(at: TimeMath.micros(seconds: $0))) } ?? count))
            guard last > first else { throw InputError(path: file, reason: "--start/--end select no audio (the track has \(count) samples)") }
            let mel = try audio.logMel(samples: first..<last)
            try NPYArray(float32: mel.values, shape: [mel.frames, mel.mels]).write(to: out)
            print("\(out): [\(mel.frames), \(mel.mels)] float32 log-mel of \(file) samples \(first)..<\(last) at \(sampleRate) Hz")
        }
    }

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the catalog schema (as in schemas/catalog.sql).")
        @OptionGroup var catalog: CatalogOption
        func run() throws { print(try Catalog(path: catalog.path).schemaSQL(), terminator: "") }
    }

    struct Versions: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the versions of SonoDual and the linked C libraries.")
        func run() throws {
            print("sonodual \(SonoDualVersion.string)")
            for (name, version) in MediaLibraries.versions { print("\(name) \(version)") }
            print("fftw3f \(FFTWInfo.version)")
            print("openblas \(BLASInfo.coreName) (\(BLASInfo.config), \(BLASInfo.threads) threads)")
            print("sqlite \(Catalog.sqliteVersion)")
        }
    }
}

SonoInspect.mainWithStageExitCodes()
