import Foundation

/// The process's resource use, for stage summaries and benchmarks.
public enum ResourceUsage {
    /// Peak resident set size of this process so far, in bytes.
    ///
    /// On Linux from `VmHWM` in /proc/self/status: the high-water mark of this process's own
    /// memory, which starts afresh at `exec`. `getrusage`'s `ru_maxrss` survives `exec`, so a stage
    /// launched by a big parent (a Python driver) would report the parent's peak.
    public static var peakResidentBytes: Int {
        #if os(Linux)
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kib = Int(line.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") {
            return kib * 1024
        }
        #endif
        var usage = rusage()
        guard getrusage(Int32(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024
        #else
        return Int(usage.ru_maxrss)
        #endif
    }
}
