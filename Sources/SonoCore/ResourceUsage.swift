import Foundation

/// The process's resource use, for stage summaries and benchmarks.
public enum ResourceUsage {
    /// Peak resident set size so far, in bytes (`getrusage` reports KiB on Linux).
    public static var peakResidentBytes: Int {
        var usage = rusage()
        guard getrusage(Int32(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024
        #else
        return Int(usage.ru_maxrss)
        #endif
    }
}
