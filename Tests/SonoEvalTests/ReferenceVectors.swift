import Foundation
import SonoCore

/// The vectors scripts/reference/make_probe_references.py wrote with scikit-learn, read exactly
/// (float64 / int64 bytes, not through NPYArray.floats, which rounds to Float).
enum Reference {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("References")

    static func array(_ name: String) throws -> NPYArray {
        try NPYArray.read(folder.appendingPathComponent(name + ".npy").path)
    }

    static func doubles(_ name: String) throws -> [Double] {
        let a = try array(name)
        guard a.dtype == .float64 else { throw InputError(path: name + ".npy", reason: "expected float64, found \(a.dtype)") }
        return a.data.withUnsafeBytes { raw in
            (0..<(a.data.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) }
        }
    }

    static func ints(_ name: String) throws -> [Int] {
        let a = try array(name)
        guard a.dtype == .int64 else { throw InputError(path: name + ".npy", reason: "expected int64, found \(a.dtype)") }
        return a.data.withUnsafeBytes { raw in
            (0..<(a.data.count / 8)).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
    }

    static func shape(_ name: String) throws -> [Int] { try array(name).shape }

    /// Rows of a 2-D float64 array.
    static func matrix(_ name: String) throws -> [[Double]] {
        let s = try shape(name), v = try doubles(name)
        guard s.count == 2 else { throw InputError(path: name + ".npy", reason: "expected 2-D, shape \(s)") }
        return (0..<s[0]).map { Array(v[($0 * s[1])..<(($0 + 1) * s[1])]) }
    }
}
