import Foundation

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the raw
/// little-endian data. Checkpoints are written in it so PyTorch users can load them with
/// `safetensors.torch.load_file`.
public enum SafeTensors {
    public struct File {
        public var tensors: [(String, [Int], [Float])]
        public var metadata: [String: String]
        /// Tensors of another dtype than F32 (name, dtype, shape), not converted; only filled
        /// by `read(_:skippingOtherDTypes: true)` (e.g. PyTorch's I64 `num_batches_tracked`).
        public var skipped: [(String, String, [Int])] = []
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

    /// Reads every F32 tensor. A tensor of another dtype makes the file unreadable unless
    /// `skippingOtherDTypes`, which lists it in `File.skipped` instead.
    public static func read(_ path: String, skippingOtherDTypes: Bool = false) throws -> File {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count >= 8 else { throw CocoaError(.fileReadCorruptFile) }
        let length = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
        guard length > 0, 8 + length <= data.count,
              let header = try JSONSerialization.jsonObject(with: data[8..<(8 + length)]) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        var tensors: [(String, [Int], [Float])] = []
        var skipped: [(String, String, [Int])] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" { metadata = value as? [String: String] ?? [:]; continue }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], shape.allSatisfy({ $0 >= 0 }),
                  let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                  offsets[0] >= 0, offsets[1] >= offsets[0], 8 + length + offsets[1] <= data.count else {
                throw CocoaError(.fileReadCorruptFile)
            }
            guard dtype == "F32" else {
                guard skippingOtherDTypes else { throw CocoaError(.fileReadCorruptFile) }
                skipped.append((name, dtype, shape))
                continue
            }
            let count = shape.reduce(1, *)
            guard offsets[1] - offsets[0] == 4 * count else { throw CocoaError(.fileReadCorruptFile) }
            let start = 8 + length + offsets[0]
            let values = data[start..<(8 + length + offsets[1])].withUnsafeBytes { raw in
                [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    // Little-endian data: a plain copy on little-endian hosts, swapped otherwise.
                    if 1.littleEndian == 1 {
                        if count > 0, let base = buffer.baseAddress, let source = raw.baseAddress {
                            UnsafeMutableRawPointer(base).copyMemory(from: source, byteCount: 4 * count)
                        }
                    } else {
                        for i in 0..<count {
                            buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                        }
                    }
                    initialized = count
                }
            }
            tensors.append((name, shape, values))
        }
        return File(tensors: tensors.sorted { $0.0 < $1.0 }, metadata: metadata, skipped: skipped.sorted { $0.0 < $1.0 })
    }
}
