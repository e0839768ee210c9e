import Foundation
import GRDB
import SonoCore
import SonoDataset
import SonoShards

/// How a scan's extraction for a dataset ended. Stored as its raw value in `extractions`.
public enum ExtractionStatus: String, Codable, Sendable {
    /// Committed whole: shards, record slots and every clip's provenance.
    case extracted
    /// Nothing indexed; a rerun tries the scan again.
    case failed
}

/// Extraction bookkeeping per (dataset, scan): what makes `sono-extract` resumable.
extension Catalog {
    /// Scans whose extraction for a dataset is committed (extracted or failed).
    public func extractionStatus(datasetID: Int64) throws -> [String: ExtractionStatus] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT scan_id, status FROM extractions WHERE dataset_id = ?",
                                                              arguments: [datasetID]).compactMap { row in
                ExtractionStatus(rawValue: row["status"]).map { (row["scan_id"] as String, $0) }
            })
        }
    }

    /// How each extracted scan of a dataset was decoded (scans extracted before the record
    /// existed are left out).
    public func extractionDecodes(datasetID: Int64) throws -> [String: ScanDecode] {
        try read { db in
            var out: [String: ScanDecode] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT scan_id, decode_mode, packets_decoded, packets_total, decode_fallback FROM extractions
                WHERE dataset_id = ? AND status = 'extracted' AND decode_mode IS NOT NULL
                """, arguments: [datasetID]) {
                guard let mode = ScanDecode.Mode(rawValue: row["decode_mode"]) else { continue }
                out[row["scan_id"]] = ScanDecode(mode: mode, packetsDecoded: row["packets_decoded"] ?? 0, packetsTotal: row["packets_total"],
                                                 fallback: row["decode_fallback"])
            }
            return out
        }
    }

    /// The damage each extracted scan of a dataset met (scans without any are left out).
    public func extractionDamage(datasetID: Int64) throws -> [String: ScanDamage] {
        try read { db in
            var out: [String: ScanDamage] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT scan_id, damage FROM extractions WHERE dataset_id = ? AND damage IS NOT NULL", arguments: [datasetID]) {
                guard let text: String = row["damage"], let damage = try? JSONDecoder().decode(ScanDamage.self, from: Data(text.utf8)) else { continue }
                out[row["scan_id"]] = damage
            }
            return out
        }
    }

    /// Indexed shard paths of a dataset (for leftover clean-up).
    public func indexedShardPaths(datasetID: Int64) throws -> Set<String> {
        Set(try shards(datasetID: datasetID).map(\.path))
    }
}

/// What extracting one scan produced for one dataset.
/// What a scan's decoding met: the damage stored with its extraction (`extractions.damage`)
/// and, when there is any, the recording's `partial` status with the reasons.
public struct ScanDamage: Codable, Sendable, Equatable {
    public var videoCorruptPackets = 0
    /// Timestamp jumps longer than 1.5 frames, and the frames missing in them.
    public var timestampGaps = 0, framesLost = 0
    public var missingTimestamps = 0
    public var audioCorruptPackets = 0
    /// Gaps in the audio timestamps (zero-filled).
    public var audioGaps = 0
    /// Where the video damage was (µs on the video timeline: timestamp gaps, rejected packets),
    /// for the report's timelines; nil in rows written before it was kept, and whenever the
    /// counts above are all 0 (a span comes with a gap or a rejected packet).
    public var videoSpans: [Range<Microseconds>]?

    public init() {}

    public var isEmpty: Bool { self == ScanDamage() }

    /// "8 corrupt video packets, 3 frames lost in 1 gap, …"; empty when undamaged.
    public var description: String {
        var parts: [String] = []
        if videoCorruptPackets > 0 { parts.append("\(videoCorruptPackets) corrupt video packets") }
        if framesLost > 0 { parts.append("\(framesLost) frames lost in \(timestampGaps) timestamp gaps") }
        if missingTimestamps > 0 { parts.append("\(missingTimestamps) frames without timestamps") }
        if audioCorruptPackets > 0 { parts.append("\(audioCorruptPackets) corrupt audio packets") }
        if audioGaps > 0 { parts.append("\(audioGaps) audio gaps zero-filled") }
        return parts.joined(separator: ", ")
    }
}

/// How a scan's video was decoded for its extraction (issue 18), stored with it
/// (`extractions.decode_mode`, `packets_decoded`, `packets_total`, `decode_fallback`).
public struct ScanDecode: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Only the packets the targets' frames need (`DecodePlan`).
        case planned
        /// Every frame up to the last target.
        case all
    }

    public var mode: Mode
    /// Packets sent to the decoder.
    public var packetsDecoded: Int
    /// The stream's video packets, where a demux pass counted them (a planned pass).
    public var packetsTotal: Int?
    /// Why a planned extraction decoded every frame instead (nil when it was planned, or when
    /// every frame was asked for).
    public var fallback: String?

    public init(mode: Mode, packetsDecoded: Int, packetsTotal: Int?, fallback: String? = nil) {
        self.mode = mode
        self.packetsDecoded = packetsDecoded
        self.packetsTotal = packetsTotal
        self.fallback = fallback
    }
}

public struct ScanExtractionResult: Sendable {
    public struct ClipOutcome: Sendable {
        public var clipID: Int64
        public var frameIndices: [Int]
        public var stillIndex: Int
        /// The presentation times (µs) of those frames and of the still.
        public var frameTimes: [Microseconds], stillTime: Microseconds
        /// nil when written; otherwise why the clip was rejected.
        public var rejectReason: RejectReason?
        public init(clipID: Int64, frameIndices: [Int], stillIndex: Int, frameTimes: [Microseconds] = [], stillTime: Microseconds = 0,
                    rejectReason: RejectReason?) {
            self.clipID = clipID
            self.frameIndices = frameIndices
            self.stillIndex = stillIndex
            self.frameTimes = frameTimes
            self.stillTime = stillTime
            self.rejectReason = rejectReason
        }
    }

    public var datasetID: Int64
    public var shards: [SealedShard]
    public var clips: [ClipOutcome]
    public var rejected: RejectCounts
    /// What the scan's decoding met (the same for every dataset of the pass).
    public var damage = ScanDamage()
    /// How the video was decoded (the same for every dataset of the pass).
    public var decode: ScanDecode

    public init(datasetID: Int64, shards: [SealedShard], clips: [ClipOutcome], rejected: RejectCounts, damage: ScanDamage = ScanDamage(),
                decode: ScanDecode) {
        self.datasetID = datasetID
        self.shards = shards
        self.clips = clips
        self.rejected = rejected
        self.damage = damage
        self.decode = decode
    }
}

extension Catalog {
    /// Commits a scan's extraction for every dataset at once: shards and record slots, each
    /// clip's provenance (frame indices, still) or rejection, and the scan marked extracted.
    /// One transaction: after a crash the scan is either wholly committed or not at all.
    public func commitExtraction(scanID: String, results: [ScanExtractionResult], runID: Int64?) throws {
        try write { db in
            for result in results {
                for shard in result.shards {
                    _ = try Self.insert(shard, datasetID: result.datasetID, runID: runID, db: db)
                }
                let update = try db.makeStatement(sql: """
                    UPDATE clips SET status = ?, reject_reason = ?, frame_indices = ?, still_index = ?, frame_times_us = ?, still_time_us = ? WHERE id = ?
                    """)
                for c in result.clips {
                    let status: ClipRecord.Status = c.rejectReason == nil ? .extracted : .rejected
                    try update.execute(arguments: [status.rawValue, c.rejectReason?.rawValue, ClipRecord.frameIndicesText(c.frameIndices),
                                                   c.stillIndex, ClipRecord.frameIndicesText(c.frameTimes), c.stillTime, c.clipID])
                }
                let records = result.shards.reduce(0) { $0 + $1.recordCount }
                try db.execute(sql: """
                    INSERT OR REPLACE INTO extractions (dataset_id, scan_id, status, records, rejected, error, extracted_at, run_id, damage,
                        decode_mode, packets_decoded, packets_total, decode_fallback)
                    VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [result.datasetID, scanID, ExtractionStatus.extracted.rawValue, records,
                                     try Self.json(result.rejected), CatalogClock.now(), runID, result.damage.isEmpty ? nil : try Self.json(encoding: result.damage),
                                     result.decode.mode.rawValue, result.decode.packetsDecoded, result.decode.packetsTotal, result.decode.fallback])
            }
            // Damage makes a whole recording partial, with the reasons (a truncated one already is).
            if let damage = results.first?.damage, !damage.isEmpty {
                try db.execute(sql: """
                    UPDATE recordings SET status = 'partial', error_kind = coalesce(error_kind, 'damaged'),
                        error = CASE WHEN error IS NULL THEN ? ELSE error || '; ' || ? END
                    WHERE scan_id = ? AND (error IS NULL OR instr(error, ?) = 0)
                    """, arguments: ["damaged: " + damage.description, "damaged: " + damage.description, scanID, "damaged: " + damage.description])
            }
        }
    }

    /// Marks a scan's extraction failed (nothing of it is indexed); a rerun tries it again.
    public func failExtraction(scanID: String, datasetIDs: [Int64], error: String, runID: Int64?) throws {
        try write { db in
            for id in datasetIDs {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO extractions (dataset_id, scan_id, status, records, rejected, error, extracted_at, run_id)
                    VALUES (?, ?, ?, 0, NULL, ?, ?, ?)
                    """, arguments: [id, scanID, ExtractionStatus.failed.rawValue, error, CatalogClock.now(), runID])
            }
        }
    }

    /// Points a dataset at the folder its shards go to (before any shard is indexed).
    public func setRoot(_ root: String, datasetID: Int64) throws {
        try write { db in try db.execute(sql: "UPDATE datasets SET root = ? WHERE id = ?", arguments: [root, datasetID]) }
    }
}
