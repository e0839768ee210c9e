import Foundation
import SonoCore

/// A shard that cannot be used, naming the file and what is wrong with it.
public struct ShardError: PathError, Equatable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// The 4096-byte header of a shard file (format version 1, little-endian). The byte map is in
/// schemas/shard-format.md; `encode` and `decode` mirror each other field by field.
public struct ShardHeader: Equatable, Sendable {
    public static let magic: [UInt8] = Array("SONOSHRD".utf8)
    public static let formatVersion: UInt32 = 1
    public static let size = 4096
    static let nameBytes = 64
    static let fieldTableOffset = 128
    static let fieldEntrySize = 64
    static let headerCRCOffset = size - 4
    /// Generous bounds for validation: a shard never holds more than this.
    static let maxRecords = 1 << 28
    static let maxRecordSize = 1 << 30

    public var datasetID: Int64
    public var datasetName: String
    public var recordCount: Int
    public var layout: RecordLayout
    /// CRC-32C of all bytes after the header (records and their padding).
    public var recordsCRC: UInt32

    public init(datasetID: Int64, datasetName: String, recordCount: Int, layout: RecordLayout, recordsCRC: UInt32) {
        self.datasetID = datasetID
        self.datasetName = datasetName
        self.recordCount = recordCount
        self.layout = layout
        self.recordsCRC = recordsCRC
    }

    /// Expected file size: header plus `recordCount` strides.
    public var fileSize: Int { Self.size + recordCount * layout.stride }

    /// The header's bytes, its own CRC-32C in the last 4.
    public func encode() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        func put<T: FixedWidthInteger>(_ v: T, at o: Int) {
            withUnsafeBytes(of: v.littleEndian) { for (i, x) in $0.enumerated() { b[o + i] = x } }
        }
        for (i, x) in Self.magic.enumerated() { b[i] = x }
        put(Self.formatVersion, at: 8)
        put(UInt32(Self.size), at: 12)
        put(datasetID, at: 16)
        for (i, x) in datasetName.utf8.prefix(Self.nameBytes - 1).enumerated() { b[24 + i] = x }
        put(UInt64(recordCount), at: 88)
        put(UInt64(layout.recordSize), at: 96)
        put(UInt64(layout.stride), at: 104)
        put(UInt32(RecordLayout.recordAlignment), at: 112)
        put(UInt32(layout.fields.count), at: 116)
        put(recordsCRC, at: 120)
        for (k, f) in layout.fields.enumerated() {
            let o = Self.fieldTableOffset + k * Self.fieldEntrySize
            for (i, x) in f.name.utf8.prefix(RecordLayout.maxNameBytes).enumerated() { b[o + i] = x }
            b[o + 32] = f.type.rawValue
            b[o + 33] = UInt8(f.shape.count)
            for (d, n) in f.shape.enumerated() { put(UInt32(n), at: o + 36 + 4 * d) }
            put(UInt64(f.offset), at: o + 56)
        }
        let crc = b.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<Self.headerCRCOffset])) }
        put(crc, at: Self.headerCRCOffset)
        return b
    }

    /// The header CRC stored in encoded bytes.
    public static func storedCRC(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: headerCRCOffset, as: UInt32.self))
    }

    /// Parses and validates a header against the size of the file it came from. Every count,
    /// offset and size is checked before use, so a damaged or hostile header gives a
    /// `ShardError`, never an out-of-bounds read.
    public static func decode(_ bytes: UnsafeRawBufferPointer, fileSize: Int, path: String) throws -> ShardHeader {
        func fail(_ why: String) -> ShardError { ShardError(path: path, reason: why) }
        guard bytes.count >= size else { throw fail("file is \(bytes.count) bytes, shorter than the \(size)-byte header") }
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        guard Array(bytes[0..<8]) == magic else { throw fail("not a SonoDual shard (bad magic)") }
        let version = u32(8)
        guard version == formatVersion else { throw fail("shard format version \(version) is not supported (this build reads \(formatVersion))") }
        guard u32(12) == UInt32(size) else { throw fail("header size \(u32(12)) is not \(size)") }
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<headerCRCOffset]))
        guard crc == storedCRC(bytes) else { throw fail("header checksum mismatch (stored \(hex(storedCRC(bytes))), computed \(hex(crc)))") }

        let datasetID = Int64(bitPattern: u64(16))
        let nameBytes = Array(bytes[24..<(24 + nameBytes)]).prefix { $0 != 0 }
        guard let name = String(bytes: nameBytes, encoding: .utf8) else { throw fail("dataset name is not UTF-8") }
        let count = u64(88), recordSize = u64(96), stride = u64(104), alignment = u32(112), fieldCount = u32(116)
        guard count <= UInt64(maxRecords) else { throw fail("record count \(count) is absurd") }
        guard recordSize >= 12, recordSize <= UInt64(maxRecordSize) else { throw fail("record size \(recordSize) is absurd") }
        guard alignment == UInt32(RecordLayout.recordAlignment) else { throw fail("record alignment \(alignment) is not \(RecordLayout.recordAlignment)") }
        guard stride >= recordSize, stride % UInt64(alignment) == 0, stride <= UInt64(maxRecordSize) else {
            throw fail("stride \(stride) does not fit record size \(recordSize) and alignment \(alignment)")
        }
        guard fieldCount >= 1, fieldCount <= UInt32(RecordLayout.maxFields) else { throw fail("field count \(fieldCount) is absurd") }
        let expected = UInt64(size) + count * stride
        guard expected == UInt64(fileSize) else {
            throw fail("file is \(fileSize) bytes but the header describes \(expected) (\(count) records × \(stride) + \(size)): truncated or padded")
        }

        var fields: [FieldSpec] = []
        for k in 0..<Int(fieldCount) {
            let o = fieldTableOffset + k * fieldEntrySize
            let raw = Array(bytes[o..<(o + 32)])
            guard raw[31] == 0, let fieldName = String(bytes: raw.prefix { $0 != 0 }, encoding: .utf8), !fieldName.isEmpty else {
                throw fail("field \(k) has no valid name")
            }
            guard let type = FieldType(rawValue: bytes[o + 32]) else { throw fail("field \(fieldName) has unknown dtype \(bytes[o + 32])") }
            let ndim = Int(bytes[o + 33])
            guard ndim >= 1, ndim <= RecordLayout.maxDims else { throw fail("field \(fieldName) has \(ndim) dimensions") }
            var shape: [Int] = []
            var elements: UInt64 = 1
            for d in 0..<ndim {
                let n = u32(o + 36 + 4 * d)
                guard n >= 1 else { throw fail("field \(fieldName) has an empty dimension") }
                shape.append(Int(n))
                elements = elements.multipliedReportingOverflow(by: UInt64(n)).partialValue
                guard elements <= UInt64(maxRecordSize) else { throw fail("field \(fieldName) is absurdly large") }
            }
            let offset = u64(o + 56)
            let bytesNeeded = elements * UInt64(type.size)
            guard offset % UInt64(RecordLayout.fieldAlignment) == 0, offset + bytesNeeded <= recordSize else {
                throw fail("field \(fieldName) at offset \(offset) (\(bytesNeeded) bytes) does not fit the \(recordSize)-byte record")
            }
            fields.append(FieldSpec(name: fieldName, type: type, shape: shape, offset: Int(offset)))
        }
        guard let last = fields.last, last.name == RecordLayout.crcFieldName, last.type == .u32, last.shape == [1],
              UInt64(last.offset) + 4 == recordSize else {
            throw fail("the last field must be crc32c (u32) at the end of the record")
        }
        guard Set(fields.map(\.name)).count == fields.count else { throw fail("two fields share a name") }
        let sorted = fields.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw fail("fields \(a.name) and \(b.name) overlap")
        }
        let layout = RecordLayout(validatedFields: fields, recordSize: Int(recordSize), stride: Int(stride))
        return ShardHeader(datasetID: datasetID, datasetName: name, recordCount: Int(count), layout: layout,
                           recordsCRC: u32(120))
    }

    static func hex(_ v: UInt32) -> String { String(format: "%08x", v) }
}
