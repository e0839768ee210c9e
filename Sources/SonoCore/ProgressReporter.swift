import Foundation

/// Progress of a long stage: a redrawn bar on a terminal, plain lines (at most one every few
/// seconds) when standard error is a file or a pipe, as in CI logs.
///
/// Thread-safe: workers call `advance` from any thread.
public final class ProgressReporter: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let isTerminal: Bool
    private let lock = NSLock()
    private var done = 0
    private var lastDraw = Date.distantPast
    private let started = Date()
    private let enabled: Bool

    /// - Parameters:
    ///   - label: what is counted, e.g. "probing".
    ///   - total: how many units make 100 %.
    ///   - enabled: false silences it (tests, `--quiet`).
    public init(label: String, total: Int, enabled: Bool = true) {
        self.label = label
        self.total = max(total, 0)
        self.isTerminal = isatty(STDERR_FILENO) != 0
        self.enabled = enabled
    }

    /// Counts `n` more units done; `note` (e.g. the current file) is shown beside the bar.
    public func advance(by n: Int = 1, note: String = "") {
        lock.lock()
        defer { lock.unlock() }
        done += n
        guard enabled else { return }
        let now = Date()
        let interval: TimeInterval = isTerminal ? 0.1 : 5
        guard done >= total || now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let line: String
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        if isTerminal {
            let width = 30
            let filled = Int((fraction * Double(width)).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            line = "\r\u{1B}[2K\(label) [\(bar)] \(done)/\(total) \(note)"
        } else {
            line = "\(label): \(done)/\(total) (\(Int(fraction * 100))%) \(note)\n"
        }
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Ends the bar's line on a terminal.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard enabled, isTerminal else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    public var elapsed: TimeInterval { Date().timeIntervalSince(started) }
}

/// Writes a line to standard error (Glibc's `stderr` is not concurrency-safe in Swift 6).
public func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
