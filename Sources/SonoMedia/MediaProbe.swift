import CFFmpeg
import Foundation
import SonoCore

/// Reads a recording's stream facts without decoding it, then checks that the file really
/// holds the packets its headers promise (a truncated file otherwise passes a header probe).
public enum MediaProbe {
    public static func probe(_ source: RecordingSource) throws -> ProbeResult {
        let input = try FormatContext(path: source.videoPath)
        guard let videoIndex = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw MediaError(.noVideoStream, path: source.videoPath, reason: "no video stream")
        }
        let video = try videoInfo(input, videoIndex)
        if let crop = source.crop, !crop.fits(width: video.displayWidth, height: video.displayHeight) {
            throw MediaError(.absurdMetadata, path: source.videoPath,
                             reason: "crop \(crop) does not fit the \(video.displayWidth)×\(video.displayHeight) frame")
        }

        var audio: AudioStreamInfo
        if let audioPath = source.audioPath {
            let audioInput = try FormatContext(path: audioPath)
            guard let audioIndex = audioInput.bestStream(AVMEDIA_TYPE_AUDIO) else {
                throw MediaError(.noAudioStream, path: audioPath, reason: "no audio stream in the separate audio file")
            }
            audio = try audioInfo(audioInput, audioIndex, offset: source.audioOffset)
            audio.startTime = try firstDecodedTime(audioInput, audioIndex) + source.audioOffset
        } else {
            guard let audioIndex = input.bestStream(AVMEDIA_TYPE_AUDIO) else {
                throw MediaError(.noAudioStream, path: source.videoPath,
                                 reason: "no audio stream (the sonographer's speech is required; give a separate audio file in the manifest if it was recorded apart)")
            }
            audio = try audioInfo(input, audioIndex, offset: 0)
            audio.startTime = try firstDecodedTime(input, audioIndex)
        }
        var readable = video
        let truncation = try truncation(input, videoIndex, video)
        if let truncation {
            // Clips are planned on the video's span: make it the readable one.
            readable.duration = max(0, truncation.readableEnd - video.startTime)
            if source.audioPath == nil, let d = audio.duration { audio.duration = min(d, max(0, truncation.readableEnd - audio.startTime)) }
        }
        return ProbeResult(container: input.formatName, containerDuration: input.duration, video: readable, audio: audio, truncation: truncation)
    }

    static func videoInfo(_ input: FormatContext, _ index: Int32) throws -> VideoStreamInfo {
        let st = input.stream(index)
        guard let par = st.pointee.codecpar else {
            throw MediaError(.unsupported, path: input.path, reason: "video stream has no codec parameters")
        }
        let tb = st.pointee.time_base.rational
        guard tb.isPositive else {
            throw MediaError(.absurdMetadata, path: input.path, reason: "video time base \(tb) is not positive")
        }
        let width = Int(par.pointee.width), height = Int(par.pointee.height)
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw MediaError(.absurdMetadata, path: input.path, reason: "video size \(width)×\(height) is not plausible")
        }
        let pixFmt = AVPixelFormat(rawValue: par.pointee.format)
        let pixName = av_get_pix_fmt_name(pixFmt).map { String(cString: $0) } ?? "unknown"
        let rotation = try displayRotation(st, path: input.path)
        let (start, duration) = span(of: st, in: input)
        func rate(_ r: AVRational) -> Rational? { r.rational.isPositive ? r.rational : nil }
        return VideoStreamInfo(
            codec: String(cString: avcodec_get_name(par.pointee.codec_id)),
            width: width, height: height, pixelFormat: pixName,
            averageFrameRate: rate(st.pointee.avg_frame_rate), realFrameRate: rate(st.pointee.r_frame_rate),
            frameCount: st.pointee.nb_frames > 0 ? st.pointee.nb_frames : nil,
            rotation: rotation, timeBase: tb, startTime: start, duration: duration)
    }

    static func audioInfo(_ input: FormatContext, _ index: Int32, offset: Microseconds) throws -> AudioStreamInfo {
        let st = input.stream(index)
        guard let par = st.pointee.codecpar else {
            throw MediaError(.unsupported, path: input.path, reason: "audio stream has no codec parameters")
        }
        let rate = Int(par.pointee.sample_rate)
        let channels = Int(par.pointee.ch_layout.nb_channels)
        guard rate >= 1000, rate <= 768_000 else {
            throw MediaError(.absurdMetadata, path: input.path, reason: "audio sample rate \(rate) Hz is not plausible")
        }
        guard channels >= 1, channels <= 64 else {
            throw MediaError(.absurdMetadata, path: input.path, reason: "audio channel count \(channels) is not plausible")
        }
        let (start, duration) = span(of: st, in: input)
        return AudioStreamInfo(path: input.path, codec: String(cString: avcodec_get_name(par.pointee.codec_id)),
                               sampleRate: rate, channels: channels, startTime: start + offset, duration: duration)
    }

    /// A stream's start (µs, 0 when unstated) and duration (µs; the container's, less the start,
    /// when the stream does not state its own).
    static func span(of st: UnsafeMutablePointer<AVStream>, in input: FormatContext) -> (Microseconds, Microseconds?) {
        let tb = st.pointee.time_base.rational
        let start = st.pointee.start_time == FFmpegCodes.noPTS ? 0 : (tb.scale(st.pointee.start_time, toUnit: 1_000_000) ?? 0)
        if st.pointee.duration != FFmpegCodes.noPTS, st.pointee.duration > 0 {
            return (start, tb.scale(st.pointee.duration, toUnit: 1_000_000))
        }
        return (start, input.duration.map { $0 - start })
    }

    /// Presentation time (µs) of the first decoded audio frame. Unlike the stream's start time,
    /// it excludes encoder priming (AAC's 1024 samples) that the decoder discards.
    static func firstDecodedTime(_ input: FormatContext, _ index: Int32) throws -> Microseconds {
        let st = input.stream(index)
        let tb = st.pointee.time_base.rational
        let codec = try CodecContext(stream: st, path: input.path, threads: 1)
        input.discardAll(except: [index])
        defer { input.discardAll(except: Set((0..<Int32(input.streamCount)).map { $0 })) }
        let packet = Packet(), frame = Frame()
        var sentFlush = false
        while true {
            let received = avcodec_receive_frame(codec.pointer, frame.pointer)
            if received == 0 {
                defer { av_frame_unref(frame.pointer) }
                let raw = frame.pointer.pointee.best_effort_timestamp
                if raw != FFmpegCodes.noPTS, let t = tb.scale(raw, toUnit: 1_000_000) { return t }
                continue
            }
            if received == FFmpegCodes.eof || (received == FFmpegCodes.again && sentFlush) {
                throw MediaError(.decodeFailed, path: input.path, reason: "the audio stream has no decodable frame")
            }
            if received != FFmpegCodes.again { try check(received, "avcodec_receive_frame", path: input.path) }
            let rc = av_read_frame(input.pointer, packet.pointer)
            if rc < 0 {
                sentFlush = true
                _ = avcodec_send_packet(codec.pointer, nil)
                continue
            }
            defer { av_packet_unref(packet.pointer) }
            guard packet.pointer.pointee.stream_index == index else { continue }
            _ = avcodec_send_packet(codec.pointer, packet.pointer)
        }
    }

    /// The presentation time (µs) of every video frame, in presentation order — frame index i
    /// is element i — read from the packets alone (no decoding): what frame-index labels need.
    /// A packet without a timestamp makes the frame order unknowable: an error naming the file.
    public static func framePresentationTimes(path: String) throws -> [Microseconds] {
        let input = try FormatContext(path: path)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { throw MediaError(.noVideoStream, path: path, reason: "no video stream") }
        input.discardAll(except: [index])
        let tb = input.stream(index).pointee.time_base.rational
        var times: [Microseconds] = []
        let rc = try readPackets(input, stream: index) { packet in
            let pts = packet.pointee.pts
            guard pts != FFmpegCodes.noPTS, let t = tb.scale(pts, toUnit: 1_000_000) else {
                throw MediaError(.unsupported, path: path, reason: "video packet \(times.count) has no presentation timestamp: label by time spans instead of frame indices")
            }
            times.append(t)
        }
        if rc != FFmpegCodes.eof { try check(rc, "av_read_frame", path: path, kind: .truncated) }
        return times.sorted()
    }

    /// Reads packets until `av_read_frame` stops, handing each packet of stream `index` to `body`
    /// (unreferenced after it); returns the code that stopped reading (EOF or an error).
    static func readPackets(_ input: FormatContext, stream index: Int32,
                            _ body: (UnsafeMutablePointer<AVPacket>) throws -> Void) rethrows -> Int32 {
        let packet = Packet()
        while true {
            let rc = av_read_frame(input.pointer, packet.pointer)
            if rc < 0 { return rc }
            defer { av_packet_unref(packet.pointer) }
            if packet.pointer.pointee.stream_index == index { try body(packet.pointer) }
        }
    }

    /// Clockwise degrees to rotate the decoded picture for display (what `ffmpeg` autorotate does).
    static func displayRotation(_ st: UnsafeMutablePointer<AVStream>, path: String) throws -> Int {
        let ccw = shim_stream_rotation(st)
        if ccw.isNaN { return 0 }
        var cw = -ccw
        cw -= 360 * (cw / 360).rounded(.down)
        let quarter = (cw / 90).rounded()
        guard abs(cw - quarter * 90) < 1 else {
            throw MediaError(.unsupported, path: path, reason: "display rotation of \(cw)° is not a multiple of 90°")
        }
        return Int(quarter * 90) % 360
    }

    /// Reads the packets of the last seconds of the video stream and checks they reach the
    /// stream's stated end: a file cut short keeps its headers but loses these packets. When
    /// they are missing, a demux-only pass from the start finds where the readable video ends
    /// (a `Truncation`); a file with no readable video packet is an error.
    static func truncation(_ input: FormatContext, _ index: Int32, _ video: VideoStreamInfo) throws -> Truncation? {
        guard let duration = video.duration, duration > 0 else { return nil }
        let end = video.startTime + duration
        let lookBack: Microseconds = 3_000_000
        let (tailEnd, tailError) = lastPacketEnd(input, index, video, from: max(video.startTime, end - lookBack))
        // Tolerate a few frames of slack: stated durations are rounded and B-frame reorder shifts pts.
        let slack: Microseconds = 500_000
        if let tailEnd, tailEnd >= end - slack { return nil }
        let reason = tailEnd.map { String(format: "video data ends at %.3f s but the stream is said to end at %.3f s", TimeMath.seconds($0), TimeMath.seconds(end)) }
            ?? "no video packets in the last \(lookBack / 1_000_000) s of a stream said to last \(String(format: "%.3f", TimeMath.seconds(duration))) s (\(ffmpegErrorText(tailError)))"
        let (readEnd, _) = tailEnd == nil ? lastPacketEnd(input, index, video, from: nil) : (tailEnd, tailError)
        // The last packets before a cut may not decode: keep a margin of the readable span.
        let margin: Microseconds = 500_000
        guard let readEnd, readEnd - margin > video.startTime + margin else {
            throw MediaError(.truncated, path: input.path, reason: "truncated: \(reason), and no readable video before it")
        }
        return Truncation(statedEnd: end, readableEnd: readEnd - margin, reason: "truncated: " + reason)
    }

    /// The end (µs) of the last video packet read from `start` on (nil: from the file's start),
    /// and the code that stopped reading.
    private static func lastPacketEnd(_ input: FormatContext, _ index: Int32, _ video: VideoStreamInfo, from start: Microseconds?) -> (Microseconds?, Int32) {
        let tb = video.timeBase
        let targetTS = start.flatMap { Rational(tb.den, tb.num * 1_000_000).scale($0, toUnit: 1) } ?? 0
        if start == nil || av_seek_frame(input.pointer, index, targetTS, AVSEEK_FLAG_BACKWARD) < 0 {
            _ = av_seek_frame(input.pointer, -1, 0, AVSEEK_FLAG_BACKWARD)
        }
        input.discardAll(except: [index])
        defer { input.discardAll(except: Set((0..<Int32(input.streamCount)).map { $0 })) }
        var lastEnd: Microseconds? = nil
        let stopped = readPackets(input, stream: index) { packet in
            let pts = packet.pointee.pts
            guard pts != FFmpegCodes.noPTS, let t = tb.scale(pts, toUnit: 1_000_000) else { return }
            let d = tb.scale(packet.pointee.duration, toUnit: 1_000_000) ?? 0
            lastEnd = max(lastEnd ?? .min, t + d)
        }
        return (lastEnd, stopped)
    }
}
