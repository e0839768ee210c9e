import Foundation
import SonoCore

/// The `ffmpeg` CLI, for tests that make real media.
public enum FFmpegCLI {
    /// Runs `ffmpeg -y <args>` quietly; throws with ffmpeg's message on failure.
    public static func run(_ args: [String]) throws {
        try ExternalTool.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y"] + args)
    }

    /// Runs ffmpeg and returns its standard output (e.g. `-f rawvideo -`).
    public static func output(_ args: [String]) throws -> Data {
        try ExternalTool.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y"] + args)
    }

    /// Encodes raw gray frames (each `width×height` bytes) at `fps` with the given codec options.
    public static func encodeGrayFrames(_ frames: [[UInt8]], width: Int, height: Int, fps: Int,
                                        to path: String, codecArgs: [String]) throws {
        try ExternalTool.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y",
                                        "-f", "rawvideo", "-pix_fmt", "gray", "-s", "\(width)x\(height)",
                                        "-framerate", "\(fps)", "-i", "pipe:0"] + codecArgs + [path]) { pipe in
            for f in frames { try pipe.write(contentsOf: f) }
        }
    }
}
