/// An error about one input: a file the user must look at, and why.
///
/// Every stage reports bad input through a type conforming to this, so messages always read
/// "`path`: `reason`" and a caller can record the reason against the file (e.g. a scan marked
/// failed in the catalog) without parsing text.
public protocol PathError: Error, CustomStringConvertible, Sendable {
    /// The file (or directory) the error is about, as the user gave it.
    var path: String { get }
    /// What is wrong, in words a user can act on.
    var reason: String { get }
}

extension PathError {
    public var description: String { "\(path): \(reason)" }
}

/// Bad input that belongs to no more specific module: a malformed manifest, a missing file.
public struct InputError: PathError {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}
