import CFFmpeg
import Foundation
import SonoCore

/// An open container (demuxer), owning its `AVFormatContext`.
/// The corresponding C functions are `avformat_open_input` / `avformat_close_input`.
final class FormatContext {
    let pointer: UnsafeMutablePointer<AVFormatContext>
    let path: String

    init(path: String) throws {
        self.path = path
        try Self.checkFile(path)
        FFmpegLog.quiet()
        var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
        let rc = avformat_open_input(&ctx, path, nil, nil)
        guard rc >= 0, let ctx else {
            throw MediaError(.unreadable, path: path,
                             reason: "not a recording FFmpeg can read: \(ffmpegErrorText(rc)) (avformat_open_input)", code: rc)
        }
        pointer = ctx
        let info = avformat_find_stream_info(ctx, nil)
        if info < 0 {
            // Every stored property is set, so deinit runs and closes the context: closing it
            // here too would free it twice (found by HostileInputTests).
            throw MediaError(.unreadable, path: path,
                             reason: "cannot read stream information: \(ffmpegErrorText(info)) (avformat_find_stream_info)", code: info)
        }
    }

    deinit {
        var p: UnsafeMutablePointer<AVFormatContext>? = pointer
        avformat_close_input(&p)
    }

    /// Fails early, with a plain reason, for a path that is missing, a directory, or empty.
    static func checkFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MediaError(.notFound, path: path, reason: "no such file")
        }
        if isDirectory.boolValue { throw MediaError(.unreadable, path: path, reason: "is a directory, not a recording") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        if size == 0 { throw MediaError(.emptyFile, path: path, reason: "empty file (0 bytes)") }
    }

    var streamCount: Int { Int(pointer.pointee.nb_streams) }

    func stream(_ index: Int32) -> UnsafeMutablePointer<AVStream> {
        pointer.pointee.streams[Int(index)]!
    }

    /// The stream FFmpeg would pick for this media type, or nil when there is none.
    /// The corresponding C function is `av_find_best_stream`.
    func bestStream(_ type: AVMediaType) -> Int32? {
        let index = av_find_best_stream(pointer, type, -1, -1, nil, 0)
        return index >= 0 ? index : nil
    }

    /// Container format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
    var formatName: String {
        guard let iformat = pointer.pointee.iformat, let name = iformat.pointee.name else { return "unknown" }
        return String(cString: name)
    }

    /// Container duration in µs, or nil when unknown.
    var duration: Microseconds? {
        let d = pointer.pointee.duration
        return d == FFmpegCodes.noPTS || d <= 0 ? nil : d
    }

    /// Tells the demuxer to drop packets of every stream except `keep`.
    func discardAll(except keep: Set<Int32>) {
        for i in 0..<streamCount {
            stream(Int32(i)).pointee.discard = keep.contains(Int32(i)) ? AVDISCARD_DEFAULT : AVDISCARD_ALL
        }
    }
}

/// FFmpeg prints warnings to stderr by default; SonoDual reports problems itself.
enum FFmpegLog {
    private static let once: Void = { shim_av_log_set_level(AV_LOG_FATAL) }()
    static func quiet() { _ = once }
}

/// An owning `AVPacket`. The corresponding C functions are `av_packet_alloc` / `av_packet_free`.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>
    init() {
        guard let p = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        pointer = p
    }
    deinit {
        var p: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&p)
    }
}

/// An owning `AVFrame`. The corresponding C functions are `av_frame_alloc` / `av_frame_free`.
final class Frame {
    let pointer: UnsafeMutablePointer<AVFrame>
    init() {
        guard let p = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
        pointer = p
    }
    deinit {
        var p: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&p)
    }
}

/// An opened decoder for one stream. The corresponding C functions are
/// `avcodec_alloc_context3` / `avcodec_open2` / `avcodec_free_context`.
final class CodecContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>

    /// - Parameter threads: decoder threads; > 1 enables frame threading (set before open).
    /// - Parameter skipLoopFilter: skip H.264's deblocking filter (faster, slightly different pixels).
    init(stream: UnsafeMutablePointer<AVStream>, path: String, threads: Int, skipLoopFilter: Bool = false) throws {
        guard let params = stream.pointee.codecpar else {
            throw MediaError(.unsupported, path: path, reason: "stream has no codec parameters")
        }
        guard let codec = avcodec_find_decoder(params.pointee.codec_id) else {
            let name = String(cString: avcodec_get_name(params.pointee.codec_id))
            throw MediaError(.unsupported, path: path, reason: "no decoder for codec \(name)")
        }
        guard let ctx = avcodec_alloc_context3(codec) else { fatalError("avcodec_alloc_context3: out of memory") }
        pointer = ctx
        try check(avcodec_parameters_to_context(ctx, params), "avcodec_parameters_to_context", path: path, kind: .unsupported)
        ctx.pointee.pkt_timebase = stream.pointee.time_base
        if threads > 1 {
            ctx.pointee.thread_count = Int32(threads)
            ctx.pointee.thread_type = FF_THREAD_FRAME
        } else {
            ctx.pointee.thread_count = 1
        }
        if skipLoopFilter { ctx.pointee.skip_loop_filter = AVDISCARD_ALL }
        try check(avcodec_open2(ctx, codec, nil), "avcodec_open2", path: path, kind: .unsupported)
    }

    deinit {
        var p: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&p)
    }
}

extension AVRational {
    var rational: Rational { Rational(Int64(num), Int64(den)) }
}
