import Foundation

/// The one place that turns the C library's `errno` into words for an error's reason.
public enum Errno {
    /// "mmap failed: Cannot allocate memory": what failed, and why in the system's words. Read
    /// it right after the failing call, before anything else can change `errno`.
    public static func reason(_ failure: String, code: Int32 = errno) -> String {
        "\(failure): \(String(cString: strerror(code)))"
    }
}
