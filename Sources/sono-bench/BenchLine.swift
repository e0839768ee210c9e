import Foundation

/// One result line of `sono-bench`: a JSON object, written by `JSONEncoder` (never by string
/// interpolation), so that a value that is not a finite number (a zero time, a lossless PSNR)
/// comes out as `null`, never as an invalid `inf`.
struct BenchLine: Encodable {
    enum Value: Encodable {
        case number(Double), integer(Int), text(String), object(BenchLine), array([Value])

        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .number(let x): if x.isFinite { try c.encode(x) } else { try c.encodeNil() }
            case .integer(let n): try c.encode(n)
            case .text(let s): try c.encode(s)
            case .object(let o): try c.encode(o)
            case .array(let a): try c.encode(a)
            }
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private(set) var fields: [(String, Value)] = []

    init(_ fields: [(String, Value)] = []) { self.fields = fields }

    mutating func add(_ key: String, _ value: Value) { fields.append((key, value)) }
    mutating func add(_ other: BenchLine) { fields += other.fields }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (key, value) in fields { try c.encode(value, forKey: Key(stringValue: key)) }
    }

    /// Prints the line to standard output.
    func print() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        Swift.print(String(decoding: try encoder.encode(self), as: UTF8.self))
    }
}
