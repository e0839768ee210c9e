import SonoShards

/// The named arrays of a clip record, beside the format's own `clip_id` and `crc32c`
/// (`RecordLayout.clipIDFieldName`, `.crcFieldName`). The raw value is the name in the shard.
public enum ClipField: String, CaseIterable, Sendable {
    /// u8 [frames, size, size]: the clip's sampled frames.
    case video
    /// u8 [size, size]: one frame of the clip (the still image).
    case still
    /// f16 [melFrames, mels]: the log-mel spectrogram of the clip's audio.
    case logmel
}

/// The shapes of a clip record: what a dataset's recipe fixes, and what a shard layout holds.
/// The layout is derived from it at segmentation and stored in the catalog; extraction reads
/// the stored one back (`init(layout:)`), so the catalog is the one truth of a dataset's shapes.
public struct ClipRecordShape: Hashable, Sendable {
    public var frames: Int
    public var size: Int
    public var melFrames: Int
    public var mels: Int

    public init(frames: Int = 14, size: Int = 128, melFrames: Int, mels: Int = 64) {
        self.frames = frames
        self.size = size
        self.melFrames = melFrames
        self.mels = mels
    }

    /// The shard layout: clip id, video, still, log-mel (float16), in that order.
    public var layout: RecordLayout {
        RecordLayout([
            (RecordLayout.clipIDFieldName, .i64, [1]),
            (ClipField.video.rawValue, .u8, [frames, size, size]),
            (ClipField.still.rawValue, .u8, [size, size]),
            (ClipField.logmel.rawValue, .f16, [melFrames, mels]),
        ])
    }

    /// The shape a clip layout holds; nil when `layout` is not a clip record layout.
    public init?(layout: RecordLayout) {
        guard let video = layout.field(.video), video.type == .u8, video.shape.count == 3, video.shape[1] == video.shape[2],
              let mel = layout.field(.logmel), mel.type == .f16, mel.shape.count == 2 else { return nil }
        self.init(frames: video.shape[0], size: video.shape[1], melFrames: mel.shape[0], mels: mel.shape[1])
        guard self.layout == layout else { return nil }
    }

    /// Bytes of one frame.
    public var frameBytes: Int { size * size }
}

extension DatasetRecipe {
    /// The record shape this recipe's clips have.
    public var recordShape: ClipRecordShape {
        ClipRecordShape(frames: framesPerClip, size: frameSize, melFrames: melFrames, mels: logMel.melBins)
    }
}

extension RecordLayout {
    /// The standard clip record layout (see `ClipRecordShape`).
    public static func clip(frames: Int = 14, size: Int = 128, melFrames: Int, mels: Int = 64) -> RecordLayout {
        ClipRecordShape(frames: frames, size: size, melFrames: melFrames, mels: mels).layout
    }

    public func field(_ field: ClipField) -> FieldSpec? { self.field(field.rawValue) }
}

extension ShardRecord {
    public func bytes(_ field: ClipField) -> UnsafeRawBufferPointer { bytes(field.rawValue) }
    public func u8(_ field: ClipField) -> [UInt8] { u8(field.rawValue) }
    public func f16AsFloat(_ field: ClipField) -> [Float] { f16AsFloat(field.rawValue) }
}

extension RecordBuilder {
    public func setU8(_ field: ClipField, _ values: [UInt8]) { setU8(field.rawValue, values) }
    public func setF16(_ field: ClipField, bits: [UInt16]) { setF16(field.rawValue, bits: bits) }
}
