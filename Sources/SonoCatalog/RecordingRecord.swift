import Foundation
import GRDB
import SonoCore


/// A scan's row in `recordings`: where its media is, whether it could be read, and the
/// stream facts the probe found. A failed row keeps the reason and no facts.
public struct RecordingRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "recordings"

    public enum Status: String, Codable, Sendable {
        case ingested
        /// Readable in part (cut short): `error` says what was lost; clips come from the readable span.
        case partial
        case failed

        /// Whether later stages use the recording.
        public var isUsable: Bool { self != .failed }
    }

    /// Where a recording's crop came from. Stored as its raw value.
    public enum CropSource: String, Codable, Sendable {
        /// Given in the recording manifest.
        case manifest
        /// Detected at ingest (the moving sector, see `SectorCrop`).
        case auto
    }

    public var scanID: String
    public var videoPath: String
    public var audioPath: String?
    public var audioOffsetMicros: Microseconds
    public var cropX: Int?, cropY: Int?, cropWidth: Int?, cropHeight: Int?
    /// Where the crop came from (nil: no crop, whole frames).
    public var cropSource: CropSource?
    /// A detected crop's method, confidence (share of the moving pixels in the sector) and
    /// fill (share of the crop the sector fills); nil for manifest crops and older catalogs.
    public var cropMethod: String?, cropConfidence: Double?, cropFill: Double?
    public var status: Status
    public var errorKind: String?
    public var error: String?
    public var videoFingerprint: String?
    public var audioFingerprint: String?
    public var container: String?
    public var containerDurationMicros: Microseconds?
    public var videoCodec: String?
    public var width: Int?
    public var height: Int?
    public var pixelFormat: String?
    public var averageFrameRate: String?
    public var realFrameRate: String?
    public var frameCount: Int64?
    public var rotation: Int?
    public var videoStartMicros: Microseconds?
    public var videoDurationMicros: Microseconds?
    public var audioCodec: String?
    public var audioSampleRate: Int?
    public var audioChannels: Int?
    public var audioStartMicros: Microseconds?
    public var audioDurationMicros: Microseconds?
    /// The whole `ProbeResult` as JSON, so later stages get every fact without new columns.
    public var probe: String?
    public var updatedAt: String
    public var runID: Int64?

    enum CodingKeys: String, CodingKey {
        case scanID = "scan_id", videoPath = "video_path", audioPath = "audio_path"
        case audioOffsetMicros = "audio_offset_us"
        case cropX = "crop_x", cropY = "crop_y", cropWidth = "crop_w", cropHeight = "crop_h", cropSource = "crop_source"
        case cropMethod = "crop_method", cropConfidence = "crop_confidence", cropFill = "crop_fill"
        case status, errorKind = "error_kind", error
        case videoFingerprint = "video_fingerprint", audioFingerprint = "audio_fingerprint"
        case container, containerDurationMicros = "container_duration_us"
        case videoCodec = "video_codec", width, height, pixelFormat = "pixel_format"
        case averageFrameRate = "avg_frame_rate", realFrameRate = "real_frame_rate"
        case frameCount = "frame_count", rotation
        case videoStartMicros = "video_start_us", videoDurationMicros = "video_duration_us"
        case audioCodec = "audio_codec", audioSampleRate = "audio_sample_rate", audioChannels = "audio_channels"
        case audioStartMicros = "audio_start_us", audioDurationMicros = "audio_duration_us"
        case probe, updatedAt = "updated_at", runID = "run_id"
    }

    /// The media location this row describes.
    public var source: RecordingSource {
        var crop: CropRect? = nil
        if let x = cropX, let y = cropY, let w = cropWidth, let h = cropHeight {
            crop = CropRect(x: x, y: y, width: w, height: h)
        }
        return RecordingSource(videoPath: videoPath, audioPath: audioPath, audioOffset: audioOffsetMicros, crop: crop)
    }

    /// The source as the manifest gave it (without a detected crop): what a rerun compares.
    public var manifestSource: RecordingSource {
        var s = source
        if cropSource == .auto { s.crop = nil }
        return s
    }

    /// The decoded probe facts (nil for a failed row).
    public var probeResult: ProbeResult? {
        guard let probe else { return nil }
        return try? JSONDecoder().decode(ProbeResult.self, from: Data(probe.utf8))
    }

    /// A row for a source, before its outcome is known.
    init(scanID: String, source: RecordingSource, status: Status, runID: Int64?) {
        self.scanID = scanID
        videoPath = source.videoPath
        audioPath = source.audioPath
        audioOffsetMicros = source.audioOffset
        cropX = source.crop?.x; cropY = source.crop?.y
        cropWidth = source.crop?.width; cropHeight = source.crop?.height
        cropSource = source.crop == nil ? nil : .manifest
        self.status = status
        updatedAt = CatalogClock.now()
        self.runID = runID
    }

    /// A crop found at ingest, with how it was found.
    public struct DetectedCrop: Sendable {
        public var crop: CropRect, method: String, confidence: Double, fill: Double
        public init(crop: CropRect, method: String, confidence: Double, fill: Double) {
            self.crop = crop; self.method = method; self.confidence = confidence; self.fill = fill
        }
    }

    /// A successfully probed recording; `detectedCrop` is used when the manifest gave none.
    public static func ingested(scanID: String, source: RecordingSource, probe: ProbeResult, detectedCrop: DetectedCrop? = nil,
                                videoFingerprint: String, audioFingerprint: String?, runID: Int64?) -> RecordingRecord {
        var r = RecordingRecord(scanID: scanID, source: source, status: .ingested, runID: runID)
        if source.crop == nil, let detected = detectedCrop {
            let crop = detected.crop
            r.cropX = crop.x; r.cropY = crop.y; r.cropWidth = crop.width; r.cropHeight = crop.height
            r.cropSource = .auto
            r.cropMethod = detected.method; r.cropConfidence = detected.confidence; r.cropFill = detected.fill
        }
        if let truncation = probe.truncation {
            r.status = .partial
            r.errorKind = "truncated"
            r.error = truncation.summary(videoStart: probe.video.startTime)
        }
        r.videoFingerprint = videoFingerprint
        r.audioFingerprint = audioFingerprint
        r.container = probe.container
        r.containerDurationMicros = probe.containerDuration
        let v = probe.video
        r.videoCodec = v.codec; r.width = v.width; r.height = v.height; r.pixelFormat = v.pixelFormat
        r.averageFrameRate = v.averageFrameRate?.description
        r.realFrameRate = v.realFrameRate?.description
        r.frameCount = v.frameCount; r.rotation = v.rotation
        r.videoStartMicros = v.startTime; r.videoDurationMicros = v.duration
        let a = probe.audio
        r.audioCodec = a.codec; r.audioSampleRate = a.sampleRate; r.audioChannels = a.channels
        r.audioStartMicros = a.startTime; r.audioDurationMicros = a.duration
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        r.probe = (try? encoder.encode(probe)).map { String(decoding: $0, as: UTF8.self) }
        return r
    }

    /// A recording that could not be read, with why.
    public static func failed(scanID: String, source: RecordingSource, errorKind: String, error: String,
                              videoFingerprint: String?, audioFingerprint: String?, runID: Int64?) -> RecordingRecord {
        var r = RecordingRecord(scanID: scanID, source: source, status: .failed, runID: runID)
        r.errorKind = errorKind
        r.error = error
        r.videoFingerprint = videoFingerprint
        r.audioFingerprint = audioFingerprint
        return r
    }
}

extension Catalog {
    public func recording(_ scanID: String) throws -> RecordingRecord? {
        try read { db in try RecordingRecord.fetchOne(db, key: scanID) }
    }

    public func recordings() throws -> [RecordingRecord] {
        try read { db in try RecordingRecord.order(Column("scan_id")).fetchAll(db) }
    }

    /// Inserts or replaces a scan's row, in its own transaction (so each finished probe is kept
    /// even if the run dies later).
    public func save(_ recording: RecordingRecord) throws {
        try write { db in try recording.save(db) }
    }
}
