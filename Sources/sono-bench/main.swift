import ArgumentParser
import Foundation
import SonoCLI
import SonoCore
import SonoMedia
import SonoSpectral
import SonoCatalog
import SonoShards
import SonoLoader
import SonoTensor
import SonoTestSupport

/// `sono-bench`: timing harness for benchmarks/ (release builds only). Each subcommand times
/// one library operation and prints one JSON line; the scripts in benchmarks/ run the peer
/// (e.g. the ffmpeg CLI) in the same run and report ratios.
struct SonoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-bench", abstract: "Time SonoDual operations for the benchmarks.",
        subcommands: [Decode.self, LoopFilter.self, LogMelTiming.self, Speech.self, Shards.self, Loader.self, Conv.self, GEMM.self])
}

extension SonoBench {
    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode a video, crop and area-resize every frame to gray; print frames/s.")
        @Argument(help: "Video file.") var path: String
        @Option(help: "Decoder threads.") var threads = 2
        @Option(help: "Output size (square).") var size = 128
        @Option(help: "Crop x,y,w,h in displayed pixels.") var crop: String?
        @Option(help: "Convert only every k-th frame (1 = all).") var every = 1
        @Flag(help: "Skip H.264 deblocking.") var skipLoopFilter = false

        func run() throws {
            let rect = try crop.map { text -> CropRect in
                guard let r = CropRect(parsing: text) else { throw ValidationError("--crop must be x,y,w,h") }
                return r
            }
            let conversion = GrayConversion(size: size, crop: rect)
            var buffer = [UInt8](repeating: 0, count: size * size)
            let clock = ContinuousClock()
            let start = clock.now
            let decoder = try VideoDecoder(path: path, threads: threads, skipLoopFilter: skipLoopFilter)
            var checksum = 0
            while let frame = try decoder.nextFrame() {
                guard frame.index % every == 0 else { continue }
                try buffer.withUnsafeMutableBufferPointer { try decoder.convertCurrentFrame(conversion, into: $0) }
                checksum &+= Int(buffer[buffer.count / 2])
            }
            let seconds = (clock.now - start).inSeconds
            let frames = decoder.stats.frames
            try BenchLine([("frames", .integer(frames)), ("seconds", .number(seconds)), ("fps", .number(Double(frames) / seconds)),
                           ("checksum", .integer(checksum))]).print()
        }
    }
}

extension SonoBench {
    /// PSNR of the 128×128 gray output with H.264 deblocking skipped, against exact decoding.
    struct LoopFilter: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "loopfilter", abstract: "PSNR (dB) of 128x128 outputs decoded without the loop filter vs exact decoding.")
        @Argument(help: "Video file.") var path: String
        @Option(help: "Crop x,y,w,h.") var crop: String?
        @Option(help: "Compare every k-th frame.") var every = 10

        func run() throws {
            let conversion = GrayConversion(size: 128, crop: crop.flatMap(CropRect.init(parsing:)))
            let exact = try VideoDecoder(path: path, threads: 2), fast = try VideoDecoder(path: path, threads: 2, skipLoopFilter: true)
            var squared = 0.0, count = 0, worst = Double.infinity
            while let a = try exact.nextFrame(), let _ = try fast.nextFrame() {
                guard a.index % every == 0 else { continue }
                let x = try exact.currentImage(conversion).pixels, y = try fast.currentImage(conversion).pixels
                let mse = zip(x, y).reduce(0.0) { $0 + pow(Double($1.0) - Double($1.1), 2) } / Double(x.count)
                squared += mse
                count += 1
                worst = min(worst, mse == 0 ? .infinity : 10 * log10(255 * 255 / mse))
            }
            let mean = squared / Double(max(count, 1))
            let psnr = mean == 0 ? Double.infinity : 10 * log10(255 * 255 / mean)
            try BenchLine([("frames_compared", .integer(count)), ("psnr_db", .number(psnr)), ("worst_frame_psnr_db", .number(worst))]).print()
        }
    }

    struct LogMelTiming: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logmel", abstract: "Time the CNN14 log-mel of a float32 .npy signal (one thread); write the result.")
        @Argument(help: "Input .npy (float32 mono at 32 kHz).") var input: String
        @Option(help: "Output .npy.") var out: String
        @Option(help: "FFT precision: single or double.") var precision = "double"
        @Option(help: "Repetitions (best is reported).") var repeats = 3

        func run() throws {
            let samples = try NPYArray.read(input).floats
            var config = LogMelConfig()
            guard let p = LogMelConfig.FFTPrecision(rawValue: precision) else { throw ValidationError("--precision single|double") }
            config.fftPrecision = p
            let front = try LogMelSpectrogram(config)
            var best = Double.infinity
            var result: LogMel? = nil
            for _ in 0..<max(1, repeats) {
                let clock = ContinuousClock()
                let start = clock.now
                result = try front.compute(samples, sampleRate: 32000, source: input)
                best = min(best, (clock.now - start).inSeconds)
            }
            if let result { try NPYArray(float32: result.values, shape: [result.frames, result.mels]).write(to: out) }
            let audioSeconds = Double(samples.count) / 32000
            try BenchLine([("seconds", .number(best)), ("audio_seconds", .number(audioSeconds)), ("realtime", .number(audioSeconds / best))]).print()
        }
    }
}

extension SonoBench {
    /// Writes synthetic records through the real writer and catalog; times writing and reading.
    struct Shards: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write N synthetic clip records into shards (+ catalog); optionally time random-order reads.")
        @Option(help: "Catalog path.") var catalog: String
        @Option(help: "Dataset folder for the shards.") var root: String
        @Option(help: "Dataset name.") var name = "synthetic"
        @Option(help: "Records.") var records = 100
        @Option(help: "Seed.") var seed: UInt64 = 1
        @Option(help: "Layout: clip2s (14x128x128, 201x64), clip6s (601x64) or tiny.") var layout = "clip2s"
        @Option(help: "Target shard size in MiB.") var shardMib = 256
        @Option(help: "Write the expected field values of every record as .npy files into this folder.") var expect: String?
        @Flag(help: "Then read every record in random order from the page cache and compare with memcpy.") var read = false
        @Option(help: "Generate only this many distinct records and repeat them (benchmarks).") var pool: Int?
        @Option(help: "Spread the records over this many scans, in storage order.") var scans = 1

        func run() throws {
            let recordLayout: RecordLayout
            switch layout {
            case "clip2s": recordLayout = .clip(melFrames: 201)
            case "clip6s": recordLayout = .clip(melFrames: 601)
            case "tiny": recordLayout = SyntheticDataset.tinyLayout
            default: throw ValidationError("--layout clip2s|clip6s|tiny")
            }
            guard scans >= 1, records >= 0 else { throw ValidationError("--scans must be ≥ 1 and --records ≥ 0") }
            let cat = try Catalog(path: catalog)
            let clock = ContinuousClock()
            let start = clock.now
            let written = try SyntheticDataset.write(catalog: cat, root: URL(fileURLWithPath: root), name: name,
                                                     layout: recordLayout, count: records, seed: seed, targetBytes: shardMib << 20,
                                                     pool: pool, scans: scans)
            let writeSeconds = (clock.now - start).inSeconds
            let bytes = written.shards.reduce(0) { $0 + $1.size }
            var line = BenchLine([("records", .integer(records)), ("shards", .integer(written.shards.count)), ("bytes", .integer(bytes)),
                                  ("write_seconds", .number(writeSeconds)), ("write_gbps", .number(Double(bytes) / writeSeconds / 1e9))])
            if let expect { try dumpExpected(recordLayout, into: expect) }
            if read { line.add(try readTiming(written, recordLayout)) }
            try line.print()
        }

        func dumpExpected(_ layout: RecordLayout, into folder: String) throws {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.stride, alignment: 64)
            defer { buffer.deallocate() }
            for field in layout.fields where field.name != RecordLayout.crcFieldName && field.name != RecordLayout.clipIDFieldName {
                var data = Data()
                for k in 0..<records {
                    buffer.initializeMemory(as: UInt8.self, repeating: 0)
                    SyntheticDataset.fill(RecordBuilder(base: buffer.baseAddress!, layout: layout), layout: layout, seed: seed, index: k)
                    data.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[field.offset..<(field.offset + field.byteCount)]))
                }
                let dtype: NPYArray.DType = field.type == .f16 ? .float16 : .uint8
                try NPYArray(dtype: dtype, shape: [records] + field.shape, data: data).write(to: folder + "/\(field.name).npy")
            }
        }

        /// Reads every record once in a seeded random order (page cache), copying each into a
        /// batch buffer, against memcpy of the same bytes between two in-memory buffers.
        func readTiming(_ written: SyntheticDataset.Written, _ layout: RecordLayout) throws -> BenchLine {
            guard let datasetID = written.dataset.id else { return BenchLine() }
            let cat = try Catalog(path: catalog)
            let readers = try cat.shards(datasetID: datasetID).map { try cat.openShard($0, of: written.dataset) }
            var order: [(Int, Int)] = []
            for (s, r) in readers.enumerated() { for slot in 0..<r.recordCount { order.append((s, slot)) } }
            var rng = SeededGenerator(seed: 99)
            order.shuffle(using: &rng)
            let size = layout.recordSize
            let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
            defer { destination.deallocate() }
            // Warm the page cache.
            for r in readers { for slot in 0..<r.recordCount { destination.copyMemory(from: r.record(slot).bytes(RecordLayout.crcFieldName)) } }
            let clock = ContinuousClock()
            var start = clock.now
            var check: UInt8 = 0
            for (s, slot) in order {
                let rec = readers[s].record(slot)
                let src = UnsafeRawBufferPointer(start: rec.bytes(RecordLayout.clipIDFieldName).baseAddress, count: size)
                destination.copyMemory(from: src)
                check &+= destination[size / 2]
            }
            let readSeconds = (clock.now - start).inSeconds
            // The same bytes from an ordinary heap buffer, in the same order.
            let heap = UnsafeMutableRawBufferPointer.allocate(byteCount: size * order.count, alignment: 4096)
            defer { heap.deallocate() }
            // Records in storage order; record (shard s, slot) sits at index firstIndex[s] + slot.
            var firstIndex: [Int] = [0]
            for r in readers { firstIndex.append(firstIndex[firstIndex.count - 1] + r.recordCount) }
            for (s, r) in readers.enumerated() {
                for slot in 0..<r.recordCount {
                    let at = (firstIndex[s] + slot) * size
                    UnsafeMutableRawBufferPointer(rebasing: heap[at..<(at + size)])
                        .copyMemory(from: UnsafeRawBufferPointer(start: r.record(slot).bytes(RecordLayout.clipIDFieldName).baseAddress, count: size))
                }
            }
            let flat = order.map { firstIndex[$0.0] + $0.1 }
            start = clock.now
            for k in flat {
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: heap[(k * size)..<((k + 1) * size)]))
                check &+= destination[size / 2]
            }
            let memcpySeconds = (clock.now - start).inSeconds
            let bytes = Double(order.count * size)
            return BenchLine([("read_records_per_s", .number(Double(order.count) / readSeconds)), ("read_gbps", .number(bytes / readSeconds / 1e9)),
                              ("memcpy_gbps", .number(bytes / memcpySeconds / 1e9)), ("read_vs_memcpy", .number(memcpySeconds / readSeconds)),
                              ("check", .integer(Int(check)))])
        }
    }
}

extension SonoBench {
    /// Loader throughput from the page cache with 1 and 2 worker threads, time to first batch,
    /// and memcpy of the same record bytes in the same run.
    struct Loader: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time the streaming loader over an existing dataset.")
        @Option(help: "Catalog path.") var catalog: String
        @Option(help: "Dataset name.") var dataset: String
        @Option(help: "Batch size.") var batchSize = 32

        func run() throws {
            let cat = try Catalog(path: catalog)
            var line = BenchLine()
            for workers in [1, 2] {
                var o = LoaderOptions()
                o.batchSize = batchSize; o.workers = workers; o.prefetch = 4
                let clock = ContinuousClock()
                let start = clock.now
                let loader = try ShardLoader(catalog: cat, datasets: [dataset], options: o, seed: UInt64(workers))
                guard let first = try loader.next() else { throw ValidationError("empty dataset") }
                let firstSeconds = (clock.now - start).inSeconds
                var clips = first.clipIDs.count
                var floats = first.video.count + first.still.count + first.logMel.count
                let epochStart = clock.now
                while let b = try loader.next() {
                    clips += b.clipIDs.count
                    floats += b.video.count + b.still.count + b.logMel.count
                }
                let seconds = (clock.now - epochStart).inSeconds + firstSeconds
                let sourceBytes = Double(clips * loader.layout.recordSize)
                line.add("workers_\(workers)", .object(BenchLine([
                    ("clips_per_s", .number(Double(clips) / seconds)), ("batch_gbps", .number(Double(floats * 4) / seconds / 1e9)),
                    ("source_gbps", .number(sourceBytes / seconds / 1e9)), ("first_batch_s", .number(firstSeconds)),
                ])))
                if workers == 2 {
                    // memcpy of the same number of record bytes, heap to heap, not cache-resident.
                    let size = loader.layout.recordSize
                    let count = min(clips, 512)
                    let heap = UnsafeMutableRawBufferPointer.allocate(byteCount: size * count, alignment: 4096)
                    let dst = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
                    defer { heap.deallocate(); dst.deallocate() }
                    heap.initializeMemory(as: UInt8.self, repeating: 3)
                    let t0 = clock.now
                    for k in 0..<clips { let at = (k % count) * size; dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: heap[at..<(at + size)])) }
                    let memcpySeconds = (clock.now - t0).inSeconds
                    line.add("memcpy_gbps", .number(sourceBytes / memcpySeconds / 1e9))
                }
            }
            try line.print()
        }
    }
}

extension SonoBench {
    /// Forward + backward of each convolution shape in a JSON list (benchmarks/conv_shapes.json).
    struct Conv: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time conv3d forward+backward per shape; JSON lines out.")
        @Argument(help: "Shapes JSON.") var shapes: String
        @Option(help: "Engine threads (GEMM and loops).") var threads = 2
        @Option(help: "Repetitions (best is reported).") var repeats = 2

        struct Shape: Decodable { var name: String; var `in`: [Int]; var w: [Int]; var stride: [Int]; var pad: [Int] }
        struct File: Decodable { var batch: Int; var shapes: [Shape] }

        func run() throws {
            Engine.setThreads(threads)
            let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: shapes)))
            for s in file.shapes {
                let x = Tensor(randomNormal: [file.batch] + s.in, seed: 1, requiresGrad: true)
                let w = Tensor(randomNormal: s.w, std: 0.05, seed: 2, requiresGrad: true)
                var best = Double.infinity, flops = 0.0
                for _ in 0..<repeats {
                    x.zeroGrad(); w.zeroGrad()
                    let clock = ContinuousClock()
                    let start = clock.now
                    let y = x.conv3d(weight: w, stride: (s.stride[0], s.stride[1], s.stride[2]), padding: (s.pad[0], s.pad[1], s.pad[2]))
                    y.backward([Float](repeating: 1, count: y.count))
                    best = min(best, (clock.now - start).inSeconds)
                    let k = Double(s.w[1] * s.w[2] * s.w[3] * s.w[4])
                    flops = 3 * 2 * Double(y.count) * k  // forward, ∂x and ∂W GEMMs
                }
                try BenchLine([("name", .text(s.name)), ("seconds", .number(best)), ("gflops", .number(flops / best / 1e9))]).print()
            }
        }
    }

    /// Peak cblas_sgemm GFLOP/s on large square matrices, as the efficiency reference.
    struct GEMM: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Measure cblas_sgemm GFLOP/s (n = 2048) and print the OpenBLAS kernel.")
        @Option(help: "Threads.") var threads = 2
        func run() throws {
            Engine.setThreads(threads)
            let n = 2048
            let a = Tensor(randomNormal: [n, n], seed: 1), b = Tensor(randomNormal: [n, n], seed: 2)
            var best = Double.infinity
            for _ in 0..<3 {
                let clock = ContinuousClock()
                let start = clock.now
                _ = GradientMode.withoutGradients { a.matmul(b) }
                best = min(best, (clock.now - start).inSeconds)
            }
            try BenchLine([("gflops", .number(2 * pow(Double(n), 3) / best / 1e9)), ("kernel", .text(BLASInfo.coreName)), ("threads", .integer(threads))]).print()
        }
    }
}

SonoBench.mainWithStageExitCodes()

extension SonoBench {
    /// Speech intervals of a recording's whole audio track, as the pipeline finds them.
    struct Speech: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode a recording's audio at 32 kHz, detect speech; print one JSON line with the intervals (s) and timings.")
        @Argument(help: "Audio or video file.") var path: String

        func run() throws {
            let clock = ContinuousClock()
            let start = clock.now
            let track = try AudioDecoder(path: path, sampleRate: 32000).decodeTrack(origin: 0, length: nil)
            let decoded = clock.now
            let detector = try SpeechActivityDetector()
            let activity = try detector.detect(track.samples, sampleRate: track.sampleRate, source: path)
            let detectSeconds = (clock.now - decoded).inSeconds
            let rate = Double(activity.sampleRate)
            let intervals: [BenchLine.Value] = activity.intervals.map { .array([.number(Double($0.lowerBound) / rate), .number(Double($0.upperBound) / rate)]) }
            try BenchLine([("method", .text(detector.config.method)), ("seconds", .number(Double(activity.totalSamples) / rate)),
                           ("decode_seconds", .number((decoded - start).inSeconds)), ("detect_seconds", .number(detectSeconds)),
                           ("intervals", .array(intervals))]).print()
        }
    }
}
