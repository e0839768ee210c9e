import ArgumentParser
import Foundation
import SonoCLI
import SonoCore
import SonoMedia
import SonoSpectral

/// `sono-bench`: timing harness for benchmarks/ (release builds only). Each subcommand times
/// one library operation and prints one JSON line; the scripts in benchmarks/ run the peer
/// (e.g. the ffmpeg CLI) in the same run and report ratios.
struct SonoBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-bench", abstract: "Time SonoDual operations for the benchmarks.",
        subcommands: [Decode.self, LogMelTiming.self])
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

        func run() throws {
            let rect = try crop.map { text -> CropRect in
                guard let r = CropRect(parsing: text) else { throw ValidationError("--crop must be x,y,w,h") }
                return r
            }
            let conversion = GrayConversion(size: size, crop: rect)
            var buffer = [UInt8](repeating: 0, count: size * size)
            let clock = ContinuousClock()
            let start = clock.now
            let decoder = try VideoDecoder(path: path, threads: threads)
            var checksum = 0
            while let frame = try decoder.nextFrame() {
                guard frame.index % every == 0 else { continue }
                try buffer.withUnsafeMutableBufferPointer { try decoder.convertCurrentFrame(conversion, into: $0) }
                checksum &+= Int(buffer[buffer.count / 2])
            }
            let seconds = (clock.now - start).inSeconds
            let frames = decoder.stats.frames
            print("{\"frames\": \(frames), \"seconds\": \(seconds), \"fps\": \(Double(frames) / seconds), \"checksum\": \(checksum)}")
        }
    }
}

extension SonoBench {
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
            print("{\"seconds\": \(best), \"audio_seconds\": \(audioSeconds), \"realtime\": \(audioSeconds / best)}")
        }
    }
}

SonoBench.mainWithStageExitCodes()
