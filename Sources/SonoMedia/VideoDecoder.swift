import CFFmpeg
import SonoCore

/// One decoded frame's place in the stream.
public struct FrameTiming: Hashable, Sendable {
    /// 0-based position in presentation order: the frame index stored as provenance.
    public var index: Int
    /// Presentation time (µs) on the recording's timeline.
    public var pts: Microseconds

    public init(index: Int, pts: Microseconds) {
        self.index = index
        self.pts = pts
    }
}

/// A frame and the span of times it is the nearest frame to: [start, end). Ties go to the
/// earlier frame. The first frame's cell starts at −∞; the last one's ends one nominal frame
/// after it (targets past the video are left unresolved rather than given the last frame).
public struct FrameCell: Hashable, Sendable {
    public var timing: FrameTiming
    public var start: Microseconds
    public var end: Microseconds

    public func contains(_ t: Microseconds) -> Bool { t >= start && t < end }

    /// The end of the cell of a frame at `pts`: just past the midpoint to the next frame (a
    /// time at the midpoint belongs to the earlier frame), or one nominal frame after the last.
    static func end(of pts: Microseconds, next: Microseconds?, nominal: Microseconds) -> Microseconds {
        next.map { (pts + $0) / 2 + 1 } ?? pts + nominal
    }

    /// For each target time, the index (into `frames`, sorted presentation times) of the frame
    /// whose cell holds it, or nil past the last cell: the decode pass's choice, made from the
    /// timestamps alone (a demux-only pass, `MediaProbe.framePresentationTimes`), so a plan can
    /// know before decoding which frames the targets need.
    public static func resolve(_ targets: [Microseconds], frames: [Microseconds], nominal: Microseconds) -> [Int?] {
        let order = targets.indices.sorted { targets[$0] < targets[$1] }
        var out = [Int?](repeating: nil, count: targets.count)
        var i = 0
        for k in order {
            while i < frames.count, targets[k] >= end(of: frames[i], next: i + 1 < frames.count ? frames[i + 1] : nil, nominal: nominal) { i += 1 }
            if i < frames.count { out[k] = i }
        }
        return out
    }
}

/// Counters a caller should look at after a pass: what the decoder had to tolerate.
public struct DecodeStats: Hashable, Sendable, Codable {
    public var frames = 0
    /// Packets the decoder rejected (corrupt data); decoding went on, as `ffmpeg` does.
    public var corruptPackets = 0
    /// Frames the decoder returned with errors concealed (`decode_error_flags`, or flagged corrupt).
    public var concealedFrames = 0
    /// Frames without a timestamp, placed one nominal frame after their predecessor.
    public var missingTimestamps = 0
    /// Frames whose timestamp did not increase, moved to 1 µs after their predecessor.
    public var nonIncreasingTimestamps = 0
    /// A read error (not end of file) that ended the pass early, in FFmpeg's words.
    public var readError: String?
    /// Jumps in the timestamps longer than 1.5 nominal frames, and the frames they are missing
    /// (the jump in nominal frames, less one): frames lost to damage, on a constant-rate stream.
    public var timestampGaps = 0, framesLost = 0
    /// Where the damage was: each timestamp gap (from the frame before it to the one after) and
    /// each rejected packet (its own time), µs.
    public var damagedSpans: [Range<Microseconds>] = []
}

/// Decodes a recording's video stream in presentation order, one sequential pass, with
/// FFmpeg's frame threading. The caller looks at each frame's time first and converts only the
/// frames it needs (conversion costs more than a skip).
///
/// ```swift
/// let decoder = try VideoDecoder(path: "scan.mp4")
/// let gray = GrayConversion(size: 128)
/// while let frame = try decoder.nextFrame() {
///     if wanted(frame.pts) { let image = try decoder.currentImage(gray) }
/// }
/// ```
/// Not thread-safe: one decoder per thread.
public final class VideoDecoder {
    public let path: String
    public let info: VideoStreamInfo
    public private(set) var stats = DecodeStats()
    /// Packets sent to the decoder (fewer than the stream's under a plan).
    public var packetsSent: Int { decoder.packetsSent }

    private let decoder: StreamDecoder
    private var frame: Frame { decoder.frame }
    private let scaler = LumaScaler()
    private var finished = false
    private var hasCurrentFrame = false
    private var lastPTS: Microseconds?
    /// Rejected packets already placed in `stats.damagedSpans`.
    private var corruptSeen = 0
    private let nominalFrameDuration: Microseconds

    // Cell mode (`nextCell`): the frame handed out is held while the next one is decoded.
    private let held = Frame()
    private var heldTiming: FrameTiming?
    private var lookahead: FrameTiming?
    private var cellStart: Microseconds = .min
    private var cellsStarted = false

    /// - Parameters:
    ///   - threads: decoder threads (frame threading); 2 matches this machine's cores.
    ///   - skipLoopFilter: skip H.264 deblocking (faster; pixels differ slightly, see docs/media.md).
    /// - plan: packets to decode (`DecodePlan.decode`, decode order); nil decodes all.
    public init(path: String, threads: Int = 2, skipLoopFilter: Bool = false, plan: DecodePlan? = nil) throws {
        self.path = path
        let opened = try StreamDecoder.Opened(path: path, type: AVMEDIA_TYPE_VIDEO, missing: .noVideoStream)
        info = try MediaProbe.videoInfo(opened.input, opened.index)
        decoder = try StreamDecoder(opened, threads: threads, skipLoopFilter: skipLoopFilter)
        decoder.plan = plan?.decode
        nominalFrameDuration = info.nominalFrameDuration
    }

    /// Decodes the next frame in presentation order; nil at the end of the stream.
    public func nextFrame() throws -> FrameTiming? {
        if hasCurrentFrame {
            av_frame_unref(frame.pointer)
            hasCurrentFrame = false
        }
        guard !finished else { return nil }
        defer {
            for raw in decoder.corruptPacketPTS.dropFirst(corruptSeen) {
                if let t = info.timeBase.scale(raw, toUnit: 1_000_000) { stats.damagedSpans.append(t..<(t + nominalFrameDuration)) }
            }
            corruptSeen = decoder.corruptPacketPTS.count
            stats.corruptPackets = decoder.corruptPackets
            stats.readError = decoder.readError
        }
        guard try decoder.receiveFrame() else {
            finished = true
            return nil
        }
        hasCurrentFrame = true
        let f = frame.pointer.pointee
        if f.decode_error_flags != 0 || f.flags & AV_FRAME_FLAG_CORRUPT != 0 { stats.concealedFrames += 1 }
        return timing()
    }

    private func timing() -> FrameTiming {
        var pts: Microseconds
        let raw = frame.pointer.pointee.best_effort_timestamp
        if raw != FFmpegCodes.noPTS, let t = info.timeBase.scale(raw, toUnit: 1_000_000) {
            pts = t
        } else {
            stats.missingTimestamps += 1
            pts = (lastPTS ?? info.startTime - nominalFrameDuration) + nominalFrameDuration
        }
        if let last = lastPTS, pts <= last {
            stats.nonIncreasingTimestamps += 1
            pts = last + 1
        }
        if let last = lastPTS, (pts - last) * 2 > nominalFrameDuration * 3 {
            stats.timestampGaps += 1
            stats.damagedSpans.append(last..<pts)
            stats.framesLost += max(1, Int((Double(pts - last) / Double(nominalFrameDuration)).rounded()) - 1)
        }
        lastPTS = pts
        defer { stats.frames += 1 }
        return FrameTiming(index: stats.frames, pts: pts)
    }

    /// The next frame with the span of times it is nearest to (one frame of lookahead). Use
    /// `convertCellFrame` to convert it. Do not mix with `nextFrame`.
    public func nextCell() throws -> FrameCell? {
        if !cellsStarted {
            cellsStarted = true
            lookahead = try nextFrame()
        }
        guard let current = lookahead else {
            heldTiming = nil
            return nil
        }
        av_frame_unref(held.pointer)
        av_frame_move_ref(held.pointer, frame.pointer)
        hasCurrentFrame = false
        heldTiming = current
        lookahead = try nextFrame()
        let end = FrameCell.end(of: current.pts, next: lookahead?.pts, nominal: nominalFrameDuration)
        let cell = FrameCell(timing: current, start: cellStart, end: end)
        cellStart = end
        return cell
    }

    /// Converts the frame of the last `nextCell` into `buffer`.
    public func convertCellFrame(_ conversion: GrayConversion, into buffer: UnsafeMutableBufferPointer<UInt8>) throws {
        precondition(heldTiming != nil, "convertCellFrame needs a frame from nextCell()")
        try scaler.convert(held.pointer, rotation: info.rotation, conversion: conversion, into: buffer, path: path)
    }

    /// Converts the current frame (the one `nextFrame` returned last) into `buffer`
    /// (`conversion.width × conversion.height` bytes, row-major).
    public func convertCurrentFrame(_ conversion: GrayConversion, into buffer: UnsafeMutableBufferPointer<UInt8>) throws {
        precondition(hasCurrentFrame, "convertCurrentFrame needs a frame from nextFrame()")
        try scaler.convert(frame.pointer, rotation: info.rotation, conversion: conversion, into: buffer, path: path)
    }

    /// The current frame as a new gray image.
    public func currentImage(_ conversion: GrayConversion) throws -> GrayImage {
        var pixels = [UInt8](repeating: 0, count: conversion.width * conversion.height)
        try pixels.withUnsafeMutableBufferPointer { try convertCurrentFrame(conversion, into: $0) }
        return GrayImage(width: conversion.width, height: conversion.height, pixels: pixels)
    }

    /// The current frame's coded size and pixel format name (they may change mid-stream).
    public var currentFrameFormat: (width: Int, height: Int, pixelFormat: String) {
        let f = frame.pointer.pointee
        let name = av_get_pix_fmt_name(AVPixelFormat(rawValue: f.format)).map { String(cString: $0) } ?? "unknown"
        return (Int(f.width), Int(f.height), name)
    }
}
