import Foundation

/// Runs a command-line tool (the `ffmpeg` CLI, `espeak-ng`) and reports failures with the
/// tool's own words. Used by the sample generator and by tests that make media; the pipeline
/// itself links the libraries and never shells out.
public enum ExternalTool {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let command: String
        public let status: Int32
        public let stderrTail: String
        public var description: String {
            "\(command) exited with status \(status): \(stderrTail)"
        }
    }

    /// Finds an executable on PATH, or nil.
    public static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `name args`, optionally feeding `stdin` from a closure that writes to a pipe, and
    /// returns its standard output. Throws `Failure` on a non-zero exit.
    @discardableResult
    public static func run(_ name: String, _ args: [String],
                           feed: ((FileHandle) throws -> Void)? = nil) throws -> Data {
        guard let exe = find(name) else {
            throw Failure(command: name, status: 127, stderrTail: "\(name) not found on PATH (run scripts/setup.sh)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = feed != nil ? Pipe() : nil
        process.standardInput = input ?? FileHandle.nullDevice
        try process.run()

        // Drain both pipes concurrently so a chatty tool cannot block on a full pipe.
        let collected = PipeCollector()
        let group = DispatchGroup()
        for (index, pipe) in [out, err].enumerated() {
            group.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(index, data)
                group.leave()
            }
        }
        var feedError: Error?
        if let feed, let input {
            do { try feed(input.fileHandleForWriting) } catch { feedError = error }
            try? input.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        group.wait()
        if let feedError { throw feedError }
        let status = process.terminationStatus
        guard status == 0 else {
            let text = String(decoding: collected.get(1), as: UTF8.self)
            throw Failure(command: ([name] + args).joined(separator: " "), status: status,
                          stderrTail: String(text.suffix(800)))
        }
        return collected.get(0)
    }

    private final class PipeCollector: @unchecked Sendable {
        private let lock = NSLock()
        private var data: [Int: Data] = [:]
        func set(_ i: Int, _ d: Data) { lock.lock(); data[i] = d; lock.unlock() }
        func get(_ i: Int) -> Data { lock.lock(); defer { lock.unlock() }; return data[i] ?? Data() }
    }
}
