import Foundation
import SonoCore

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
        try run(executable: directory + "/" + name, args, environment: environment, timeout: timeout)
    }

    /// Runs any program (a pipeline script through /bin/bash, say) the same way.
    public static func run(executable: String, _ args: [String], environment: [String: String] = [:],
                           timeout: TimeInterval? = nil) throws -> Result {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.executableURL = URL(fileURLWithPath: executable)
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
