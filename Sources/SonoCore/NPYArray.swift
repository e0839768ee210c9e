import Foundation

/// NumPy's `.npy` format (version 1.0/2.0, C order, little-endian): how SonoDual hands arrays to
/// Python users (`sono-inspect logmel`) and reads committed reference vectors in tests.
public struct NPYArray: Equatable, Sendable {
    public enum DType: String, Sendable {
        case float32 = "<f4", float64 = "<f8", float16 = "<f2", uint8 = "|u1", int16 = "<i2", int64 = "<i8"

        public var size: Int {
            switch self {
            case .uint8: return 1
            case .int16, .float16: return 2
            case .float32: return 4
            case .float64, .int64: return 8
            }
        }
    }

    public var dtype: DType
    public var shape: [Int]
    /// Raw little-endian element bytes, C order.
    public var data: Data

    public init(dtype: DType, shape: [Int], data: Data) {
        precondition(shape.reduce(1, *) * dtype.size == data.count, "data size does not match shape")
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    public init(float32 values: [Float], shape: [Int]) {
        self.init(dtype: .float32, shape: shape, data: values.withUnsafeBytes { Data($0) })
    }

    /// The elements as Float, converting from any floating or integer dtype.
    public var floats: [Float] {
        data.withUnsafeBytes { raw -> [Float] in
            let n = shape.reduce(1, *)
            switch dtype {
            case .float32: return (0..<n).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
            case .float64: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
            case .float16:
                #if arch(x86_64) || arch(arm64)
                return (0..<n).map { Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
                #else
                return []
                #endif
            case .uint8: return (0..<n).map { Float(raw[$0]) }
            case .int16: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)) }
            case .int64: return (0..<n).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
            }
        }
    }

    /// The elements of an int64 array (nil for other dtypes).
    public var int64s: [Int64]? {
        guard dtype == .int64 else { return nil }
        return data.withUnsafeBytes { raw in (0..<shape.reduce(1, *)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) } }
    }

    /// An int64 array.
    public init(int64 values: [Int64], shape: [Int]) {
        self.init(dtype: .int64, shape: shape, data: values.withUnsafeBytes { Data($0) })
    }

    public func encoded() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93]) + Data("NUMPY".utf8) + Data([1, 0])
        let length = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        out.append(Data(header.utf8))
        out.append(data)
        return out
    }

    public func write(to path: String) throws {
        do { try encoded().write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw InputError(path: path, reason: "cannot write .npy: \(error.localizedDescription)")
        }
    }

    public static func read(_ path: String) throws -> NPYArray {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw InputError(path: path, reason: "cannot read .npy file")
        }
        return try decode(bytes, path: path)
    }

    public static func decode(_ bytes: Data, path: String) throws -> NPYArray {
        let b = [UInt8](bytes.prefix(12))
        guard b.count >= 10, b[0] == 0x93, Array(b[1...5]) == Array("NUMPY".utf8) else {
            throw InputError(path: path, reason: "not a .npy file (bad magic)")
        }
        let major = b[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(b[8]) | Int(b[9]) << 8; headerStart = 10
        } else if major == 2 || major == 3, b.count >= 12 {
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; headerStart = 12
        } else {
            throw InputError(path: path, reason: ".npy version \(major) is not supported")
        }
        guard bytes.count >= headerStart + headerLength else { throw InputError(path: path, reason: "truncated .npy header") }
        let header = String(decoding: bytes[(bytes.startIndex + headerStart)..<(bytes.startIndex + headerStart + headerLength)], as: UTF8.self)
        func value(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrText = value("descr"), let q1 = descrText.firstIndex(of: "'"),
              let q2 = descrText[descrText.index(after: q1)...].firstIndex(of: "'") else {
            throw InputError(path: path, reason: ".npy header lacks descr")
        }
        var descr = String(descrText[descrText.index(after: q1)..<q2])
        if descr == "<u1" { descr = "|u1" }
        guard let dtype = DType(rawValue: descr) else { throw InputError(path: path, reason: ".npy dtype \(descr) is not supported") }
        guard value("fortran_order")?.hasPrefix("False") ?? false else {
            throw InputError(path: path, reason: "Fortran-order .npy is not supported")
        }
        guard let shapeText = value("shape"), let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")") else {
            throw InputError(path: path, reason: ".npy header lacks shape")
        }
        let shape = shapeText[shapeText.index(after: open)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.compactMap { Int($0) }
        let count = shape.reduce(1, *) * dtype.size
        let start = bytes.startIndex + headerStart + headerLength
        guard bytes.count - headerStart - headerLength == count else {
            throw InputError(path: path, reason: ".npy data is \(bytes.count - headerStart - headerLength) bytes, shape \(shape) needs \(count)")
        }
        return NPYArray(dtype: dtype, shape: shape, data: bytes[start..<(start + count)])
    }
}
