import CFFmpeg
import SonoCore

/// One stream of a file opened for decoding, and FFmpeg's send/receive loop over it: the part
/// the video and audio decoders share.
///
/// Packets of other streams are discarded by the demuxer. A packet the decoder rejects is
/// counted (`corruptPackets`) and decoding goes on, as `ffmpeg` does; a read error other than
/// end of file ends the input (`readError`); at the end the decoder is flushed, so frames held
/// back by reordering and threading come out. The corresponding C functions are
/// `av_read_frame`, `avcodec_send_packet` and `avcodec_receive_frame`.
final class StreamDecoder {
    let path: String
    let input: FormatContext
    let streamIndex: Int32
    let codec: CodecContext
    /// The frame `receiveFrame` filled; the caller unreferences it when done.
    let frame = Frame()
    private(set) var corruptPackets = 0
    /// The presentation timestamps (stream time base) of the rejected packets that had one.
    private(set) var corruptPacketPTS: [Int64] = []
    private(set) var readError: String?
    private(set) var inputEnded = false
    /// When set, packet k of the stream (decode order) is sent only if `plan[k]`; the others
    /// are read and dropped (`DecodePlan`). Counts below are of the stream's packets.
    var plan: [Bool]?
    private(set) var packetsRead = 0, packetsSent = 0
    private let packet = Packet()

    /// The best stream of a type in a file, opened but not yet decoding: the moment to read
    /// stream facts, before the other streams are discarded.
    struct Opened {
        let path: String
        let input: FormatContext
        let index: Int32

        init(path: String, type: AVMediaType, missing: MediaError.Kind) throws {
            self.path = path
            input = try FormatContext(path: path)
            guard let index = input.bestStream(type) else {
                throw MediaError(missing, path: path, reason: type == AVMEDIA_TYPE_VIDEO ? "no video stream" : "no audio stream")
            }
            self.index = index
        }
    }

    init(_ opened: Opened, threads: Int, skipLoopFilter: Bool = false) throws {
        path = opened.path
        input = opened.input
        streamIndex = opened.index
        input.discardAll(except: [streamIndex])
        codec = try CodecContext(stream: input.stream(streamIndex), path: path, threads: threads, skipLoopFilter: skipLoopFilter)
    }

    var stream: UnsafeMutablePointer<AVStream> { input.stream(streamIndex) }

    /// Decodes the next frame into `frame`; false at the end of the stream.
    func receiveFrame() throws -> Bool {
        while true {
            let received = avcodec_receive_frame(codec.pointer, frame.pointer)
            if received == 0 { return true }
            if received == FFmpegCodes.eof { return false }
            if received != FFmpegCodes.again {
                try check(received, "avcodec_receive_frame", path: path)
            }
            if inputEnded { return false }  // flushed, yet no end-of-stream: never spin.
            try feed()
        }
    }

    /// Reads packets until one of the stream is accepted by the decoder (or sends the
    /// end-of-stream flush).
    private func feed() throws {
        guard !inputEnded else { return }
        while true {
            let rc = av_read_frame(input.pointer, packet.pointer)
            if rc < 0 {
                if rc != FFmpegCodes.eof { readError = "\(ffmpegErrorText(rc)) (av_read_frame)" }
                inputEnded = true
                try check(avcodec_send_packet(codec.pointer, nil), "avcodec_send_packet", path: path)
                return
            }
            defer { av_packet_unref(packet.pointer) }
            guard packet.pointer.pointee.stream_index == streamIndex else { continue }
            packetsRead += 1
            if let plan, packetsRead - 1 < plan.count, !plan[packetsRead - 1] { continue }
            packetsSent += 1
            let sent = avcodec_send_packet(codec.pointer, packet.pointer)
            if sent == 0 { return }
            // EAGAIN is not expected (frames are drained before feeding): count it as corrupt
            // rather than spin, like any other rejected packet.
            corruptPackets += 1
            if packet.pointer.pointee.pts != FFmpegCodes.noPTS { corruptPacketPTS.append(packet.pointer.pointee.pts) }
            if sent == FFmpegCodes.again { return }
        }
    }
}
