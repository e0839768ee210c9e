import Foundation
import SonoCore

/// Makes PULSE-like sample recordings: H.264 ultrasound-like video at a fixed frame rate with
/// AAC speech, plus a JSON file with the true speech intervals. The demo and the tests use it.
public enum SampleGenerator {
    public struct Output: Sendable {
        public var videoPath: String
        public var annotationPath: String
        public var annotation: SampleAnnotation
    }

    /// A font for the machine's text band; the band stays blank where none is installed.
    static let fontFile = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

    /// Writes `<name>.mp4` and `<name>.speech.json` into `directory`.
    public static func generate(_ spec: SampleSpec, into directory: String) throws -> Output {
        try spec.validate(directory: directory)
        return try withFolders(spec, directory) { dir, work in
            // Sound first: it is small, and written to a raw file that ffmpeg reads beside the video pipe.
            let speech = try SpeechTrack(spec: spec, workDirectory: work)
            let video = UltrasoundVideo(spec: spec)
            return try encode(spec, samples: speech.samples, utterances: speech.utterances, bandHeight: video.bandHeight, sector: video.sectorBox,
                              into: dir, work: work) {
                video.render(frame: $0, fps: spec.framesPerSecond, into: &$1)
            }
        }
    }

    /// Runs `body` with the output folder (created) and a fresh work folder beside the outputs
    /// (`.<name>.work`, removed afterwards whatever happens).
    static func withFolders<T>(_ spec: SampleSpec, _ directory: String, _ body: (URL, URL) throws -> T) throws -> T {
        let dir = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let work = dir.appendingPathComponent(".\(spec.name).work")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        return try body(dir, work)
    }

    /// Encodes a sample: the frames `render` draws (gray, full frame) under the machine's text
    /// band, and the channels' samples, into `<name>.mp4` (H.264 + the spec's audio codec,
    /// bit-exact flags so a seed gives the same bytes), then `<name>.speech.json`.
    static func encode(_ spec: SampleSpec, samples: [[Float]], utterances: [Utterance], bandHeight: Int, sector: CropRect? = nil, into dir: URL, work: URL,
                       render: (Int, inout [UInt8]) -> Void) throws -> Output {
        let audioFile = work.appendingPathComponent("audio.f32")
        var interleaved = [Float](repeating: 0, count: spec.sampleCount * spec.channels)
        for c in 0..<spec.channels {
            for i in 0..<spec.sampleCount { interleaved[i * spec.channels + c] = samples[c][i] }
        }
        try interleaved.withUnsafeBytes { try Data($0).write(to: audioFile) }

        let videoName = "\(spec.name).mp4"
        let partial = dir.appendingPathComponent(".\(videoName).partial.mp4")
        let final = dir.appendingPathComponent(videoName)
        var filter = "format=yuv420p"
        if FileManager.default.fileExists(atPath: fontFile) {
            let label = "SONODUAL US  GA 20w3d  MI 0.9  TIb 0.2  "
                + spec.name.uppercased().filter { $0.isLetter || $0.isNumber || $0 == "_" }
            let size = max(8, bandHeight * 3 / 5)
            filter += ",drawtext=fontfile=\(fontFile):text='\(label)':x=8:y=(\(bandHeight)-th)/2:fontsize=\(size):fontcolor=white"
        }
        let args = [
            "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "gray", "-s", "\(spec.width)x\(spec.height)",
            "-framerate", "\(spec.framesPerSecond)", "-i", "pipe:0",
            "-f", "f32le", "-ar", "\(spec.sampleRate)", "-ac", "\(spec.channels)", "-i", audioFile.path,
            "-filter:v", filter,
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "\(spec.crf)", "-pix_fmt", "yuv420p",
            "-c:a", spec.audioCodec == .mp3 ? "libmp3lame" : "aac", "-b:a", "\(spec.audioKilobitsPerSecond)k",
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-f", "mp4", partial.path,
        ]
        try withoutActuallyEscaping(render) { render in
            _ = try ExternalTool.run("ffmpeg", args) { pipe in
                var pixels = [UInt8](repeating: 0, count: spec.width * spec.height)
                for index in 0..<spec.frameCount {
                    render(index, &pixels)
                    try pipe.write(contentsOf: pixels)
                }
            }
        }
        _ = try? FileManager.default.removeItem(at: final)
        try FileManager.default.moveItem(at: partial, to: final)

        let annotation = SampleAnnotation(spec: spec, video: videoName, utterances: utterances, sector: sector)
        let annotationURL = dir.appendingPathComponent("\(spec.name).speech.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(annotation).write(to: annotationURL)
        return Output(videoPath: final.path, annotationPath: annotationURL.path, annotation: annotation)
    }
}

extension SampleGenerator {
    /// Writes a recording manifest (scan_id,video) for generated samples, with paths relative
    /// to the manifest's folder.
    public static func writeManifest(for outputs: [Output], to manifestPath: String) throws {
        let manifestDir = URL(fileURLWithPath: manifestPath).deletingLastPathComponent().standardizedFileURL.path
        var text = "scan_id,video\n"
        for output in outputs {
            let video = URL(fileURLWithPath: output.videoPath).standardizedFileURL.path
            let relative = video.hasPrefix(manifestDir + "/") ? String(video.dropFirst(manifestDir.count + 1)) : video
            text += "\(output.annotation.spec.name),\(relative)\n"
        }
        try FileManager.default.createDirectory(atPath: manifestDir, withIntermediateDirectories: true)
        try text.write(toFile: manifestPath, atomically: true, encoding: .utf8)
    }
}
