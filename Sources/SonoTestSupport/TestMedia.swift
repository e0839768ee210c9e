import Foundation
import SonoCore

/// Helpers for tests that make real media with the `ffmpeg` CLI. Linked by test targets only.

/// A fresh directory under the system temporary folder, removed when released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "sonodual") {
        let base = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }
}

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

/// Measurements on decoded audio.
public enum SignalMeasure {
    public static func rms<C: Collection>(_ x: C) -> Double where C.Element == Float {
        guard !x.isEmpty else { return 0 }
        return (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot()
    }

    /// Frequency from upward zero crossings (good for a clean tone).
    public static func toneFrequency(_ x: [Float], sampleRate: Int) -> Double {
        var crossings: [Double] = []
        for i in 1..<x.count where x[i - 1] < 0 && x[i] >= 0 {
            let frac = Double(-x[i - 1]) / Double(x[i] - x[i - 1])
            crossings.append(Double(i - 1) + frac)
        }
        guard let first = crossings.first, let last = crossings.last, crossings.count > 1 else { return 0 }
        return Double(crossings.count - 1) / ((last - first) / Double(sampleRate))
    }

    /// First sample where the RMS over a 1 ms window reaches `fraction` of `level`.
    public static func onset(_ x: [Float], sampleRate: Int, level: Double, fraction: Double = 0.5) -> Int? {
        let w = max(1, sampleRate / 1000)
        var energy = 0.0
        for i in 0..<x.count {
            energy += Double(x[i]) * Double(x[i])
            if i >= w { energy -= Double(x[i - w]) * Double(x[i - w]) }
            if i >= w - 1, (max(energy, 0) / Double(w)).squareRoot() >= fraction * level { return i - w / 2 }
        }
        return nil
    }
}

/// The stage executables built beside the test bundle (`swift build --build-tests`).
public enum BuiltProducts {
    public static var directory: String {
        var url = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent()
        if url.path.hasSuffix(".xctest/Contents/MacOS") {  // macOS bundle layout
            url = url.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        }
        return url.path
    }

    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a built executable and returns its exit status and output.
    /// With `timeout`, a process still running after that many seconds is killed (status 9 and
    /// `timedOut`), so a hang fails the test instead of stalling it.
    public static func run(_ name: String, _ args: [String], environment: [String: String] = [:],
                           timeout: TimeInterval? = nil) throws -> Result {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.executableURL = URL(fileURLWithPath: directory + "/" + name)
        process.arguments = args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // The watchdog is cancelled once the child has exited, so it never signals a reused pid.
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        if let timeout { DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog) }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        // A process killed by a signal reports the signal number (9 for SIGKILL).
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}
