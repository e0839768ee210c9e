import Foundation
import SonoCore

/// A sealed shard, memory-mapped read-only. The header is validated against the file size
/// (and, when given, the catalog's record of the shard) before any record is touched; record i
/// is then at a computable offset and its fields are zero-copy views.
public final class ShardReader: @unchecked Sendable {
    public let path: String
    public let header: ShardHeader
    public let fileSize: Int
    private let base: UnsafeRawPointer

    /// What the catalog says a shard should be.
    public struct Expectation: Sendable {
        public var size: Int
        public var recordCount: Int
        public var headerCRC: UInt32
        public init(size: Int, recordCount: Int, headerCRC: UInt32) {
            self.size = size
            self.recordCount = recordCount
            self.headerCRC = headerCRC
        }
    }

    public init(path: String, expect: Expectation? = nil) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ShardError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ShardError(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))") }
        fileSize = Int(st.st_size)
        guard fileSize >= ShardHeader.size else {
            throw ShardError(path: path, reason: "file is \(fileSize) bytes, shorter than the \(ShardHeader.size)-byte header")
        }
        guard let mapped = mmap(nil, fileSize, PROT_READ, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            throw ShardError(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(mapped)
        do {
            header = try ShardHeader.decode(UnsafeRawBufferPointer(start: base, count: fileSize), fileSize: fileSize, path: path)
            if let expect {
                let stored = ShardHeader.storedCRC(UnsafeRawBufferPointer(start: base, count: ShardHeader.size))
                guard expect.size == fileSize, expect.recordCount == header.recordCount, expect.headerCRC == stored else {
                    throw ShardError(path: path, reason: "does not match the catalog (catalog: \(expect.size) bytes, \(expect.recordCount) records, header crc \(ShardHeader.hex(expect.headerCRC)); file: \(fileSize) bytes, \(header.recordCount) records, header crc \(ShardHeader.hex(stored)))")
                }
            }
        } catch {
            munmap(mapped, fileSize)
            throw error
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), fileSize) }

    public var recordCount: Int { header.recordCount }
    public var layout: RecordLayout { header.layout }

    /// Record `slot`, in O(1).
    public func record(_ slot: Int) -> ShardRecord {
        precondition(slot >= 0 && slot < header.recordCount, "slot \(slot) out of 0..<\(header.recordCount)")
        return ShardRecord(base: base + ShardHeader.size + slot * header.layout.stride, layout: header.layout)
    }

    /// True when record `slot`'s stored CRC-32C matches its bytes.
    public func recordIsIntact(_ slot: Int) -> Bool {
        let r = record(slot)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(start: r.base, count: layout.crcOffset))
        return computed == r.storedCRC
    }

    /// Checks every checksum: header, each record, and the records region as a whole
    /// (which also covers the padding between records).
    public func verify() -> ShardVerification {
        var bad: [Int] = []
        for slot in 0..<recordCount where !recordIsIntact(slot) { bad.append(slot) }
        let region = UnsafeRawBufferPointer(start: base + ShardHeader.size, count: fileSize - ShardHeader.size)
        return ShardVerification(badRecords: bad, regionIntact: CRC32C.checksum(region) == header.recordsCRC)
    }
}

public struct ShardVerification: Sendable, Equatable {
    /// Slots whose record CRC does not match.
    public var badRecords: [Int]
    /// Whether the CRC over all record bytes (padding included) matches the header.
    public var regionIntact: Bool
    public var isIntact: Bool { badRecords.isEmpty && regionIntact }
}

/// A zero-copy view of one record (valid while its reader lives).
public struct ShardRecord {
    let base: UnsafeRawPointer
    public let layout: RecordLayout

    public func bytes(_ name: String) -> UnsafeRawBufferPointer {
        guard let f = layout.field(name) else { preconditionFailure("no field \(name)") }
        return UnsafeRawBufferPointer(start: base + f.offset, count: f.byteCount)
    }

    public var clipID: Int64 { Int64(littleEndian: bytes("clip_id").loadUnaligned(as: Int64.self)) }

    public var storedCRC: UInt32 { UInt32(littleEndian: base.loadUnaligned(fromByteOffset: layout.crcOffset, as: UInt32.self)) }

    public func u8(_ name: String) -> [UInt8] { Array(bytes(name)) }

    public func f16AsFloat(_ name: String) -> [Float] {
        let b = bytes(name)
        #if arch(x86_64) || arch(arm64)
        return (0..<(b.count / 2)).map { Float(Float16(bitPattern: UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
        #else
        return []
        #endif
    }
}
