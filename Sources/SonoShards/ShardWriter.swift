import Foundation
import SonoCore

/// A shard that has been written, fsynced and renamed to its final name, ready to be indexed.
public struct SealedShard: Sendable, Equatable {
    /// Path relative to the dataset root (what the catalog stores).
    public var relativePath: String
    public var path: String
    public var size: Int
    public var recordCount: Int
    public var headerCRC: UInt32
    public var recordsCRC: UInt32
    /// Clip ids in slot order.
    public var clipIDs: [Int64]
}

/// Fills one record's fields. Writes go straight into the record buffer (no copies).
public struct RecordBuilder {
    /// The record's first byte (fields at `layout` offsets from here).
    public let base: UnsafeMutableRawPointer
    let layout: RecordLayout

    /// A builder over a caller's buffer of at least `layout.recordSize` bytes.
    public init(base: UnsafeMutableRawPointer, layout: RecordLayout) {
        self.base = base
        self.layout = layout
    }

    /// The bytes of field `name`, to be filled by the caller.
    public func bytes(_ name: String) -> UnsafeMutableRawBufferPointer {
        guard let f = layout.field(name) else { preconditionFailure("no field \(name) in the layout") }
        return UnsafeMutableRawBufferPointer(start: base + f.offset, count: f.byteCount)
    }

    public func setU8(_ name: String, _ values: [UInt8]) {
        let b = bytes(name)
        precondition(values.count == b.count, "\(name): \(values.count) values for \(b.count) bytes")
        values.withUnsafeBytes { b.copyMemory(from: $0) }
    }

    public func setF16(_ name: String, bits: [UInt16]) {
        let b = bytes(name)
        precondition(bits.count * 2 == b.count, "\(name): \(bits.count) halves for \(b.count) bytes")
        for (i, v) in bits.enumerated() { b.storeBytes(of: v.littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
    }

    public func setF32(_ name: String, _ values: [Float]) {
        let b = bytes(name)
        precondition(values.count * 4 == b.count, "\(name): \(values.count) floats for \(b.count) bytes")
        for (i, v) in values.enumerated() { b.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
    }

    public func setI64(_ name: String, _ values: [Int64]) {
        let b = bytes(name)
        precondition(values.count * 8 == b.count, "\(name): \(values.count) values for \(b.count) bytes")
        for (i, v) in values.enumerated() { b.storeBytes(of: v.littleEndian, toByteOffset: 8 * i, as: Int64.self) }
    }
}

/// Appends fixed-size records of one dataset to shards, rolling to a new shard at a target size.
///
/// Each shard is written under a temporary name (`.tmp-…`), its header completed, fsynced,
/// renamed to its final name, the directory fsynced, and only then handed to `onSeal` (which
/// indexes it in the catalog in one transaction). A crash at any moment leaves either nothing,
/// a temporary file, or a sealed but unindexed file: `ShardStore.removeLeftovers` deletes both
/// kinds on the next run, so the index never names a half-written shard.
public final class ShardWriter {
    public let root: URL
    public let layout: RecordLayout
    public let datasetID: Int64
    public let datasetName: String
    public let recordsPerShard: Int
    private let name: (Int) -> String
    private let onSeal: (SealedShard) throws -> Void

    private var fd: Int32 = -1
    private var tempPath = ""
    private var count = 0
    private var crc = CRC32C()
    private var clipIDs: [Int64] = []
    private var shardIndex = 0
    private let record: UnsafeMutableRawBufferPointer
    public private(set) var sealed: [SealedShard] = []

    /// - Parameters:
    ///   - root: the dataset's folder; shard paths in the catalog are relative to it.
    ///   - targetBytes: a shard is sealed once it reaches this size (default 256 MiB).
    ///   - name: the final file name of the n-th shard this writer seals (deterministic, unique).
    ///   - onSeal: indexes a sealed shard; if it throws, the shard file is removed again.
    public init(root: URL, datasetID: Int64, datasetName: String, layout: RecordLayout,
                targetBytes: Int = 256 << 20, name: @escaping (Int) -> String,
                onSeal: @escaping (SealedShard) throws -> Void) throws {
        self.root = root
        self.layout = layout
        self.datasetID = datasetID
        self.datasetName = datasetName
        recordsPerShard = max(1, (targetBytes - ShardHeader.size) / layout.stride)
        self.name = name
        self.onSeal = onSeal
        record = .allocate(byteCount: layout.stride, alignment: RecordLayout.recordAlignment)
        record.initializeMemory(as: UInt8.self, repeating: 0)
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        } catch {
            throw ShardError(path: root.path, reason: "cannot create the dataset folder: \(error.localizedDescription)")
        }
    }

    deinit {
        if fd >= 0 { close(fd); unlink(tempPath) }  // abandoned without finish(): leave nothing
        record.deallocate()
    }

    /// Appends one record: `fill` writes its fields; the clip id and CRC are set here.
    public func append(clipID: Int64, fill: (RecordBuilder) throws -> Void) throws {
        if fd < 0 { try openShard() }
        memset(record.baseAddress!, 0, layout.stride)
        let builder = RecordBuilder(base: record.baseAddress!, layout: layout)
        try fill(builder)
        if layout.field(RecordLayout.clipIDFieldName) != nil { builder.setI64(RecordLayout.clipIDFieldName, [clipID]) }
        let recordCRC = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: record[0..<layout.crcOffset]))
        record.storeBytes(of: recordCRC.littleEndian, toByteOffset: layout.crcOffset, as: UInt32.self)
        try writeAll(UnsafeRawBufferPointer(record))
        crc.update(UnsafeRawBufferPointer(record))
        clipIDs.append(clipID)
        count += 1
        if count >= recordsPerShard { try seal() }
    }

    /// Seals the shard in progress, if any. Call once at the end.
    public func finish() throws {
        if fd >= 0 { try seal() }
    }

    private func openShard() throws {
        tempPath = root.appendingPathComponent(".tmp-\(name(shardIndex))-\(getpid())").path
        fd = open(tempPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ShardError(path: tempPath, reason: Errno.reason("cannot create")) }
        count = 0
        crc = CRC32C()
        clipIDs = []
        let placeholder = [UInt8](repeating: 0, count: ShardHeader.size)
        try placeholder.withUnsafeBytes { try writeAll($0) }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ShardError(path: tempPath, reason: Errno.reason("write failed"))
            }
            done += n
        }
    }

    private func seal() throws {
        let header = ShardHeader(datasetID: datasetID, datasetName: datasetName, recordCount: count,
                                 layout: layout, recordsCRC: crc.value)
        let bytes = header.encode()
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        guard written == bytes.count else { throw ShardError(path: tempPath, reason: Errno.reason("header write failed")) }
        guard fsync(fd) == 0 else { throw ShardError(path: tempPath, reason: Errno.reason("fsync failed")) }
        close(fd)
        fd = -1
        CrashPoint.hit("shard-before-rename")
        let relative = name(shardIndex)
        let final = root.appendingPathComponent(relative).path
        guard rename(tempPath, final) == 0 else {
            throw ShardError(path: final, reason: Errno.reason("rename from \(tempPath) failed"))
        }
        ShardStore.fsyncDirectory(root.path)
        CrashPoint.hit("shard-before-index")
        let shard = SealedShard(relativePath: relative, path: final, size: header.fileSize, recordCount: count,
                                headerCRC: ShardHeader.storedCRC(bytes.withUnsafeBytes { $0 }), recordsCRC: crc.value,
                                clipIDs: clipIDs)
        do {
            try onSeal(shard)
        } catch {
            unlink(final)
            throw error
        }
        sealed.append(shard)
        shardIndex += 1
    }
}

/// Test hooks that kill the process at a named point (`SONODUAL_CRASH_POINT=name`), to prove
/// that a crash there leaves a consistent catalog. Inert unless the variable is set.
public enum CrashPoint {
    private static let armed = ProcessInfo.processInfo.environment["SONODUAL_CRASH_POINT"]

    public static func hit(_ name: String) {
        if armed == name { kill(getpid(), SIGKILL) }
    }
}

/// Housekeeping of a dataset folder.
public enum ShardStore {
    /// Deletes what a crash can leave behind: temporary shards, and sealed shards the catalog
    /// does not index. Returns the removed file names.
    @discardableResult
    public static func removeLeftovers(root: URL, indexed: Set<String>) throws -> [String] {
        guard FileManager.default.fileExists(atPath: root.path) else { return [] }
        var removed: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            let isTemp = name.hasPrefix(".tmp-")
            let isOrphan = name.hasSuffix(".shard") && !indexed.contains(name)
            if isTemp || isOrphan {
                try FileManager.default.removeItem(at: root.appendingPathComponent(name))
                removed.append(name)
            }
        }
        return removed
    }

    /// Makes a rename durable.
    static func fsyncDirectory(_ path: String) {
        let dfd = open(path, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
