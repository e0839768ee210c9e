import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoShards

/// What `sono-inspect summary`, `verify` and `show` report, built from the catalog and shards.
public enum DatasetInspection {
    /// Datasets, shards, records, bytes, and clips per split and per scan.
    public static func summary(_ catalog: Catalog) throws -> String {
        var lines: [String] = []
        let recordings = try catalog.recordings()
        lines.append("recordings: \(recordings.filter { $0.status == .ingested }.count) ingested, \(recordings.filter { $0.status == .partial }.count) partial, \(recordings.filter { $0.status == .failed }.count) failed")
        for r in recordings where r.status == .partial { lines.append("  partial \(r.scanID): \(r.error ?? "")") }
        for d in try catalog.datasets() {
            guard let id = d.id else { continue }
            let shards = try catalog.shards(datasetID: id)
            let records = shards.reduce(0) { $0 + $1.recordCount }
            let bytes = shards.reduce(0) { $0 + $1.size }
            let stats = try catalog.clipCounts(datasetID: id)
            lines.append("dataset \(d.name) v\(d.version) (recipe \(d.recipeHash.prefix(12))): \(stats.total) clips, \(records) records in \(shards.count) shards, \(String(format: "%.1f", Double(bytes) / 1_048_576)) MiB, root \(catalog.rootURL(of: d).path)")
            lines.append("  splits: " + stats.bySplit.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", "))
            for scan in stats.byScan {
                lines.append("  scan \(scan.scanID): \(scan.clips) clips, \(scan.stored) records, \(String(format: "%.1f", TimeMath.seconds(scan.speechMicros))) s of speech detected")
            }
        }
        return lines.joined(separator: "\n")
    }

    public struct VerifyReport: Sendable {
        public var shardsChecked = 0
        public var recordsChecked = 0
        /// One line per problem: the shard, and each bad record's slot and clip id.
        public var problems: [String] = []
        public var isClean: Bool { problems.isEmpty }
    }

    /// Checks every shard of every dataset (or one) against the catalog and its own checksums.
    public static func verify(_ catalog: Catalog, dataset name: String? = nil) throws -> VerifyReport {
        var report = VerifyReport()
        for d in try catalog.datasets() where name == nil || d.name == name {
            guard let id = d.id else { continue }
            for shard in try catalog.shards(datasetID: id) {
                let path = catalog.shardPath(shard, of: d)
                report.shardsChecked += 1
                do {
                    let reader = try catalog.openShard(shard, of: d)
                    let result = reader.verify()
                    report.recordsChecked += reader.recordCount
                    guard UInt32(truncatingIfNeeded: shard.recordsCRC) == reader.header.recordsCRC else {
                        report.problems.append("\(path): records checksum differs from the catalog's")
                        continue
                    }
                    for slot in result.badRecords {
                        report.problems.append("\(path): record \(slot) (clip \(reader.record(slot).clipID)) fails its CRC-32C")
                    }
                    if !result.regionIntact {
                        report.problems.append("\(path): records region checksum mismatch" + (result.badRecords.isEmpty ? " (damage in padding)" : ""))
                    }
                } catch {
                    report.problems.append("\(error)")
                }
            }
        }
        return report
    }

    /// One record's fields as numbers, and PNG previews of its frames, still and log-mel.
    public static func show(_ catalog: Catalog, clipID: Int64, pngFolder: String?) throws -> String {
        guard let clip = try catalog.clip(clipID) else { throw InputError(path: catalog.path, reason: "no clip \(clipID)") }
        guard let location = try catalog.location(ofClip: clipID) else {
            throw InputError(path: catalog.path, reason: "clip \(clipID) has no record yet (not extracted)")
        }
        guard let dataset = try catalog.datasets().first(where: { $0.id == clip.datasetID }) else {
            throw InputError(path: catalog.path, reason: "clip \(clipID) names a missing dataset")
        }
        let path = catalog.shardPath(location.shard, of: dataset)
        let reader = try catalog.openShard(location.shard, of: dataset)
        let record = reader.record(location.slot)
        var lines = [
            "clip \(clipID): dataset \(dataset.name) v\(dataset.version), scan \(clip.scanID), \(clip.startMicros)…\(clip.endMicros) µs, speech ratio \(String(format: "%.3f", clip.speechRatio)), split \(clip.split.rawValue)",
            "  frames \(clip.frameIndices ?? "-"), still frame \(clip.stillIndex.map(String.init) ?? "-")",
            "  stored in \(path) slot \(location.slot), CRC \(reader.recordIsIntact(location.slot) ? "ok" : "BAD")",
        ]
        for field in reader.layout.fields where field.name != RecordLayout.crcFieldName {
            let values: [Float] = field.type == .f16 ? record.f16AsFloat(field.name)
                : field.type == .u8 ? record.u8(field.name).map(Float.init) : []
            if field.name == RecordLayout.clipIDFieldName { lines.append("  clip_id \(record.clipID)"); continue }
            guard let lo = values.min(), let hi = values.max() else { continue }
            let mean = values.reduce(0, +) / Float(values.count)
            lines.append("  \(field.name) \(field.type) \(field.shape): min \(lo), max \(hi), mean \(String(format: "%.3f", mean)), first \(values.prefix(6).map { String(format: "%g", $0) }.joined(separator: " "))")
        }
        if let folder = pngFolder {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var written: [String] = []
            func save(_ name: String, _ w: Int, _ h: Int, _ px: [UInt8]) throws {
                let file = folder + "/clip\(clipID)_\(name).png"
                try PNGWriter.gray(width: w, height: h, pixels: px).write(to: URL(fileURLWithPath: file))
                written.append(file)
            }
            for picture in RecordPictures.of(record, layout: reader.layout) {
                try save(picture.name, picture.width, picture.height, picture.pixels)
            }
            lines.append("  wrote " + written.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
