import Foundation
import SonoCore

/// A sealed shard, memory-mapped read-only. The header is validated against the file size
/// (and, when given, the catalog's record of the shard) before any record is touched; record i
/// is then at a computable offset and its fields are zero-copy views.
public final class ShardReader: @unchecked Sendable {
    public let path: String
    public let view: ShardView
    private let mapping: UnsafeMutableRawPointer
    private let mappedSize: Int

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
        guard fd >= 0 else { throw ShardError(path: path, reason: Errno.reason("cannot open")) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ShardError(path: path, reason: Errno.reason("cannot stat")) }
        let size = Int(st.st_size)
        guard size >= ShardHeader.size else {
            throw ShardError(path: path, reason: "file is \(size) bytes, shorter than the \(ShardHeader.size)-byte header")
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            throw ShardError(path: path, reason: Errno.reason("mmap failed"))
        }
        mapping = mapped
        mappedSize = size
        do {
            view = try ShardView(UnsafeRawBufferPointer(start: mapped, count: size), path: path, expect: expect)
        } catch {
            munmap(mapped, size)
            throw error
        }
    }

    deinit { munmap(mapping, mappedSize) }

    public var header: ShardHeader { view.header }
    public var recordCount: Int { view.header.recordCount }
    public var layout: RecordLayout { view.header.layout }
    public var fileSize: Int { mappedSize }
    public func record(_ slot: Int) -> ShardRecord { view.record(slot) }
    public func recordIsIntact(_ slot: Int) -> Bool { view.recordIsIntact(slot) }
    public func verify() -> ShardVerification { view.verify() }
}

/// A validated shard over bytes in memory (a mapping, or a buffer in tests).
public struct ShardView: @unchecked Sendable {
    public let header: ShardHeader
    let bytes: UnsafeRawBufferPointer

    public init(_ bytes: UnsafeRawBufferPointer, path: String, expect: ShardReader.Expectation? = nil) throws {
        header = try ShardHeader.decode(bytes, fileSize: bytes.count, path: path)
        self.bytes = bytes
        if let expect {
            let stored = ShardHeader.storedCRC(bytes)
            guard expect.size == bytes.count, expect.recordCount == header.recordCount, expect.headerCRC == stored else {
                throw ShardError(path: path, reason: "does not match the catalog (catalog: \(expect.size) bytes, \(expect.recordCount) records, header crc \(ShardHeader.hex(expect.headerCRC)); file: \(bytes.count) bytes, \(header.recordCount) records, header crc \(ShardHeader.hex(stored)))")
            }
        }
    }

    /// Record `slot`, in O(1).
    public func record(_ slot: Int) -> ShardRecord {
        precondition(slot >= 0 && slot < header.recordCount, "slot \(slot) out of 0..<\(header.recordCount)")
        return ShardRecord(base: bytes.baseAddress! + ShardHeader.size + slot * header.layout.stride, layout: header.layout)
    }

    /// True when record `slot`'s stored CRC-32C matches its bytes.
    public func recordIsIntact(_ slot: Int) -> Bool {
        let r = record(slot)
        return CRC32C.checksum(UnsafeRawBufferPointer(start: r.base, count: header.layout.crcOffset)) == r.storedCRC
    }

    /// Checks every checksum: each record, and the records region as a whole (which also covers
    /// the padding between records). The header's own was checked when the view was made.
    public func verify() -> ShardVerification {
        var bad: [Int] = []
        for slot in 0..<header.recordCount where !recordIsIntact(slot) { bad.append(slot) }
        let region = UnsafeRawBufferPointer(rebasing: bytes[ShardHeader.size...])
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

    public var clipID: Int64 { Int64(littleEndian: bytes(RecordLayout.clipIDFieldName).loadUnaligned(as: Int64.self)) }

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
