import Foundation

/// The part of TOML that dataset recipes and run configs use: `[table]` headers, `key = value` with basic
/// strings, integers, floats, booleans and single-line arrays of those, and `#` comments.
/// Anything else is an error naming the file and line (never silently ignored).
public enum TOMLValue: Equatable, Sendable {
    case string(String), integer(Int), float(Double), bool(Bool), array([TOMLValue])

    public var double: Double? {
        switch self {
        case .integer(let i): return Double(i)
        case .float(let d): return d
        default: return nil
        }
    }
}

public enum TOMLSubset {
    /// Keys as "table.key" ("key" at top level), in file order.
    public static func parse(_ text: String, path: String) throws -> [(key: String, value: TOMLValue, line: Int)] {
        var table = ""
        var out: [(String, TOMLValue, Int)] = []
        var seen = Set<String>()
        for (i, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = i + 1
            let content = stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            func fail(_ why: String) -> InputError { InputError(path: path, reason: "line \(line): \(why)") }
            if content.hasPrefix("[") {
                guard content.hasSuffix("]"), !content.hasPrefix("[["), content.count > 2 else { throw fail("malformed table header \(content)") }
                table = String(content.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                guard table.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { throw fail("unsupported table name \(table)") }
                continue
            }
            guard let eq = content.firstIndex(of: "=") else { throw fail("expected key = value") }
            let key = content[..<eq].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { throw fail("unsupported key '\(key)'") }
            let full = table.isEmpty ? key : "\(table).\(key)"
            guard seen.insert(full).inserted else { throw fail("\(full) is set twice") }
            let valueText = content[content.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            out.append((full, try value(valueText, fail: fail), line))
        }
        return out
    }

    private static func stripComment(_ s: String) -> String {
        var inString = false
        var result = ""
        var previous: Character = " "
        for c in s {
            if c == "\"" && previous != "\\" { inString.toggle() }
            if c == "#" && !inString { break }
            result.append(c)
            previous = c
        }
        return result
    }

    private static func value(_ text: String, fail: (String) -> InputError) throws -> TOMLValue {
        if text.hasPrefix("\"") {
            guard text.count >= 2, text.hasSuffix("\"") else { throw fail("unterminated string") }
            let body = String(text.dropFirst().dropLast())
            guard !body.contains("\"") || body.contains("\\\"") else { throw fail("unsupported string \(text)") }
            return .string(body.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\"))
        }
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if text.hasPrefix("[") {
            guard text.hasSuffix("]") else { throw fail("arrays must be on one line") }
            let inner = text.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
            if inner.isEmpty { return .array([]) }
            return .array(try inner.split(separator: ",").map { part in
                let item = part.trimmingCharacters(in: .whitespaces)
                guard !item.hasPrefix("[") else { throw fail("nested arrays are not supported") }
                return try value(item, fail: fail)
            })
        }
        let number = text.replacingOccurrences(of: "_", with: "")
        if let i = Int(number) { return .integer(i) }
        if let d = Double(number), d.isFinite { return .float(d) }
        throw fail("unsupported value \(text)")
    }
}

