import SonoCore

/// Element types a shard field may hold (little-endian).
public enum FieldType: UInt8, Codable, Sendable, CaseIterable {
    case u8 = 0, f16 = 1, f32 = 2, i64 = 3, u32 = 4

    public var size: Int {
        switch self {
        case .u8: return 1
        case .f16: return 2
        case .f32, .u32: return 4
        case .i64: return 8
        }
    }

    /// numpy's dtype string, for the Python reader.
    public var numpy: String {
        switch self {
        case .u8: return "u1"
        case .f16: return "<f2"
        case .f32: return "<f4"
        case .i64: return "<i8"
        case .u32: return "<u4"
        }
    }
}

/// One named array inside every record.
public struct FieldSpec: Hashable, Codable, Sendable {
    public var name: String
    public var type: FieldType
    public var shape: [Int]
    /// Byte offset from the start of the record.
    public var offset: Int

    public var byteCount: Int { shape.reduce(1, *) * type.size }
}

/// The fixed layout of every record of a dataset: fields at fixed offsets, so record i of a
/// shard sits at `headerSize + i × stride` and field f at `+ offset(f)`.
///
/// Fields start on 64-byte boundaries (a cache line; aligned SIMD loads of any width); the last
/// field is always `crc32c` (u32), the CRC-32C of the record's bytes before it. Records start on
/// `recordAlignment` (4096: a page) boundaries: see schemas/shard-format.md for why.
public struct RecordLayout: Hashable, Codable, Sendable {
    public static let fieldAlignment = 64
    public static let recordAlignment = 4096
    public static let maxFields = 32
    public static let maxNameBytes = 31
    public static let maxDims = 4
    /// The format's own fields: the last field of every record, and the clip id it records.
    public static let crcFieldName = "crc32c"
    public static let clipIDFieldName = "clip_id"

    public private(set) var fields: [FieldSpec]
    /// Bytes of one record, crc included.
    public private(set) var recordSize: Int
    /// Distance between records in a shard (recordSize rounded up to the alignment).
    public private(set) var stride: Int

    /// Lays out `fields` (name, type, shape) in order, then appends `crc32c`.
    public init(_ specs: [(String, FieldType, [Int])]) {
        precondition(specs.count + 1 <= Self.maxFields, "too many fields")
        var fields: [FieldSpec] = []
        var at = 0
        for (name, type, shape) in specs {
            precondition(!name.isEmpty && name.utf8.count <= Self.maxNameBytes && name != Self.crcFieldName, "bad field name \(name)")
            precondition(!shape.isEmpty && shape.count <= Self.maxDims && shape.allSatisfy { $0 > 0 }, "bad shape for \(name)")
            let field = FieldSpec(name: name, type: type, shape: shape, offset: at)
            fields.append(field)
            at = Self.roundUp(at + field.byteCount, Self.fieldAlignment)
        }
        fields.append(FieldSpec(name: Self.crcFieldName, type: .u32, shape: [1], offset: at))
        self.fields = fields
        recordSize = at + 4
        stride = Self.roundUp(recordSize, Self.recordAlignment)
    }

    /// A layout read back from a shard header (already validated).
    init(validatedFields fields: [FieldSpec], recordSize: Int, stride: Int) {
        self.fields = fields
        self.recordSize = recordSize
        self.stride = stride
    }

    public func field(_ name: String) -> FieldSpec? { fields.first { $0.name == name } }

    public var crcOffset: Int { recordSize - 4 }

    static func roundUp(_ x: Int, _ a: Int) -> Int { (x + a - 1) / a * a }
}
