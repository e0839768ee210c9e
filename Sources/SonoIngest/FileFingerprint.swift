import Foundation
import SonoCore

/// Cheap change detection for large recordings: size, modification time, and a CRC-32C of the
/// first and last MiB. Rewritten, truncated or appended files change it; reading it costs
/// 2 MiB whatever the file's size.
public struct FileFingerprint: Hashable, Sendable {
    public var size: Int64
    public var modifiedNanos: Int64
    public var headCRC: UInt32
    public var tailCRC: UInt32

    static let window = 1 << 20

    /// "size:mtime_ns:crc32c(head):crc32c(tail)", the form stored in the catalog.
    public var text: String {
        "\(size):\(modifiedNanos):\(String(headCRC, radix: 16)):\(String(tailCRC, radix: 16))"
    }

    public init(path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw InputError(path: path, reason: errno == ENOENT ? "no such file" : Errno.reason("cannot stat"))
        }
        size = Int64(st.st_size)
        modifiedNanos = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw InputError(path: path, reason: "cannot open for reading")
        }
        defer { try? handle.close() }
        do {
            let head = try handle.read(upToCount: Self.window) ?? Data()
            headCRC = CRC32C.checksum(head)
            let tailStart = UInt64(max(0, size - Int64(Self.window)))
            try handle.seek(toOffset: tailStart)
            let tail = try handle.read(upToCount: Self.window) ?? Data()
            tailCRC = CRC32C.checksum(tail)
        } catch {
            throw InputError(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
    }
}
