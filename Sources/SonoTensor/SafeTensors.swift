import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the raw
/// little-endian data. Checkpoints are written in it so PyTorch users can load them with
/// `safetensors.torch.load_file`.
public enum SafeTensors {
    public struct File {
        public var tensors: [(String, [Int], [Float])]
        public var metadata: [String: String]
    }

    /// Writes F32 tensors (sorted by name, as the reference writer does) and metadata, atomically.
    public static func write(_ tensors: [(String, [Int], [Float])], metadata: [String: String], to path: String) throws {
        let sorted = tensors.sorted { $0.0 < $1.0 }
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, shape, values) in sorted {
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * values.count]]
            offset += 4 * values.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so data starts aligned
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, _, values) in sorted { values.withUnsafeBytes { out.append(contentsOf: $0) } }
        try out.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public static func read(_ path: String) throws -> File {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count >= 8 else { throw CocoaError(.fileReadCorruptFile) }
        let length = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        guard length > 0, 8 + length <= data.count,
              let header = try JSONSerialization.jsonObject(with: data[8..<(8 + length)]) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        var tensors: [(String, [Int], [Float])] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" { metadata = value as? [String: String] ?? [:]; continue }
            guard let entry = value as? [String: Any], entry["dtype"] as? String == "F32",
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                  offsets[0] >= 0, offsets[1] >= offsets[0], 8 + length + offsets[1] <= data.count,
                  offsets[1] - offsets[0] == 4 * shape.reduce(1, *) else { throw CocoaError(.fileReadCorruptFile) }
            let start = 8 + length + offsets[0]
            let values = data[start..<(8 + length + offsets[1])].withUnsafeBytes { raw in
                (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            tensors.append((name, shape, values))
        }
        return File(tensors: tensors.sorted { $0.0 < $1.0 }, metadata: metadata)
    }
}
