import CFFmpeg
import SonoCore

/// One video packet as a demux-only pass sees it, in decode order.
public struct PacketInfo: Hashable, Sendable {
    public var pts: Microseconds
    /// Other frames may predict from it (H.264 `nal_ref_idc` ≠ 0). True when unknown.
    public var isReference: Bool
    /// Decoding can restart here cleanly (an H.264 IDR picture).
    public var isCleanStart: Bool
    /// Its structure reads as whole: the NAL units' lengths fill it exactly and the demuxer did
    /// not flag it corrupt. A damaged stream is not planned (the decoder is to meet the damage).
    public var isIntact = true
}

/// Which packets a pass must decode so that the frames it needs come out bit-identical to a
/// full decode (issue 18): a needed frame's packet; every reference packet of a needed
/// stretch (from the clean start before a needed frame to the last needed frame of that
/// stretch, in decode order), since later frames may predict from it; nothing else. A packet
/// that is not a reference is never predicted from, so dropping it changes no other frame; a
/// stretch that starts at a clean start (IDR) needs nothing before it.
///
/// Only streams whose structure can be read are planned: H.264 and HEVC with length-prefixed
/// NAL units (an `avcC` / `hvcC` record, as MP4, MOV and Matroska store them) and MPEG-4 Part 2;
/// for others `packets(path:)` throws `Unplannable`, saying why, and the caller decodes
/// everything.
public struct DecodePlan: Sendable {
    /// Per packet in decode order: decode it or not.
    public let decode: [Bool]
    public var decodedCount: Int { decode.filter { $0 }.count }

    /// The plan for the packets `packets` (decode order) when the frames at `needed`
    /// (presentation times) are wanted.
    public init(packets: [PacketInfo], needed: Set<Microseconds>) {
        var decode = [Bool](repeating: false, count: packets.count)
        // Walk backwards: a reference is needed when a needed frame follows it in decode order
        // before the next clean start.
        var neededAhead = false
        for i in packets.indices.reversed() {
            let p = packets[i]
            let isNeeded = needed.contains(p.pts)
            if isNeeded { neededAhead = true }
            decode[i] = isNeeded || (p.isReference && neededAhead)
            if p.isCleanStart { neededAhead = false }
        }
        self.decode = decode
    }

    /// Why a stream cannot be planned.
    public enum Unplannable: Error, Sendable, CustomStringConvertible {
        case codec(String)
        case noLengthPrefixedNALs(String)
        case timestamps(String)
        public var description: String {
            switch self {
            case .codec(let c): return "codec \(c): only H.264, HEVC and MPEG-4 Part 2 are planned"
            case .noLengthPrefixedNALs(let c): return "\(c) without a length-prefixed (avcC/hvcC) record, as in an Annex B stream: its structure is not read"
            case .timestamps(let why): return "packet timestamps \(why)"
            }
        }
    }

    /// The video packets of `path` in decode order, from a demux-only pass, with what each
    /// one is; throws `Unplannable` for streams whose structure is not read.
    public static func packets(path: String) throws -> [PacketInfo] {
        let input = try FormatContext(path: path)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else { throw MediaError(.noVideoStream, path: path, reason: "no video stream") }
        let st = input.stream(index)
        guard let par = st.pointee.codecpar else { throw MediaError(.unsupported, path: path, reason: "video stream has no codec parameters") }
        let syntax = try Syntax(par.pointee)
        input.discardAll(except: [index])
        let tb = st.pointee.time_base.rational
        var packets: [PacketInfo] = []
        var temporalIDs: [Int] = [], subLayerNonReference: [Bool] = []
        let rc = try MediaProbe.readPackets(input, stream: index) { packet in
            let pts = packet.pointee.pts
            guard pts != FFmpegCodes.noPTS, let t = tb.scale(pts, toUnit: 1_000_000) else {
                throw Unplannable.timestamps("missing (video packet \(packets.count))")
            }
            let kind = syntax.kind(packet.pointee.data, count: Int(packet.pointee.size))
            let disposable = packet.pointee.flags & AV_PKT_FLAG_DISPOSABLE != 0
            let corrupt = packet.pointee.flags & AV_PKT_FLAG_CORRUPT != 0
            packets.append(PacketInfo(pts: t, isReference: kind.reference && !disposable, isCleanStart: kind.cleanStart,
                                      isIntact: kind.intact && !corrupt))
            temporalIDs.append(kind.temporalID)
            subLayerNonReference.append(kind.subLayerNonReference)
        }
        if rc != FFmpegCodes.eof { try check(rc, "av_read_frame", path: path, kind: .truncated) }
        // HEVC: a sub-layer non-reference picture may still be predicted from by a higher
        // sub-layer, so only those of the highest sub-layer present are never referenced.
        if let top = temporalIDs.max() {
            for i in packets.indices where subLayerNonReference[i] && temporalIDs[i] == top { packets[i].isReference = false }
        }
        return packets
    }

    /// What a packet is, read from the first picture unit in it.
    struct PacketKind {
        /// Unknown reads as a reference and no clean start: the safe reading.
        var reference = true, cleanStart = false
        var intact = true
        /// HEVC only: a sub-layer non-reference NAL unit type, and its TemporalId.
        var subLayerNonReference = false, temporalID = 0
    }

    /// The bitstream syntax whose picture headers are read.
    enum Syntax {
        /// Length-prefixed NAL units (avcC): `nal_ref_idc` and IDR.
        case h264(lengthSize: Int)
        /// Length-prefixed NAL units (hvcC): sub-layer non-reference types, IDR, TemporalId.
        case hevc(lengthSize: Int)
        /// Start-code VOPs: B-VOPs are never references. No clean starts: a B-VOP that follows
        /// an I-VOP in decode order may predict from the anchor before it.
        case mpeg4Part2

        init(_ par: AVCodecParameters) throws {
            let name = String(cString: avcodec_get_name(par.codec_id))
            let extra = par.extradata, size = Int(par.extradata_size)
            switch par.codec_id {
            case AV_CODEC_ID_H264:
                guard size >= 7, let extra, extra[0] == 1 else { throw Unplannable.noLengthPrefixedNALs(name) }
                self = .h264(lengthSize: Int(extra[4] & 0x3) + 1)
            case AV_CODEC_ID_HEVC:
                guard size >= 23, let extra, extra[0] == 1 else { throw Unplannable.noLengthPrefixedNALs(name) }
                self = .hevc(lengthSize: Int(extra[21] & 0x3) + 1)
            case AV_CODEC_ID_MPEG4:
                self = .mpeg4Part2
            default:
                throw Unplannable.codec(name)
            }
        }

        func kind(_ data: UnsafeMutablePointer<UInt8>?, count: Int) -> PacketKind {
            guard let data else { return PacketKind() }
            switch self {
            case .h264(let lengthSize):
                let (units, whole) = Self.nalUnits(data, count: count, lengthSize: lengthSize)
                for (offset, _) in units {
                    let header = data[offset]
                    let type = header & 0x1F
                    if (1...5).contains(type) { return PacketKind(reference: (header >> 5) & 0x3 != 0, cleanStart: type == 5, intact: whole) }
                }
                return PacketKind(intact: whole)
            case .hevc(let lengthSize):
                let (units, whole) = Self.nalUnits(data, count: count, lengthSize: lengthSize)
                for (offset, length) in units where length >= 2 {
                    let type = Int(data[offset] >> 1) & 0x3F
                    guard type <= 31 else { continue }  // not a slice (VCL) unit
                    var k = PacketKind(cleanStart: type == 19 || type == 20, intact: whole)
                    k.subLayerNonReference = type <= 14 && type % 2 == 0
                    k.temporalID = Int(data[offset + 1] & 0x7) - 1
                    return k
                }
                return PacketKind(intact: whole)
            case .mpeg4Part2:
                // Reference unless every VOP in the packet is a B-VOP (vop_coding_type 2).
                var sawVOP = false
                var i = 0
                while i + 4 < count {
                    if data[i] == 0, data[i + 1] == 0, data[i + 2] == 1, data[i + 3] == 0xB6 {
                        sawVOP = true
                        if data[i + 4] >> 6 != 2 { return PacketKind() }
                        i += 4
                    } else {
                        i += 1
                    }
                }
                if sawVOP { return PacketKind(reference: false) }
            }
            return PacketKind()
        }

        /// (payload offset, payload length) of each length-prefixed NAL unit that fits the
        /// packet, and whether they fill it exactly (damage shows as a length that does not).
        static func nalUnits(_ data: UnsafeMutablePointer<UInt8>, count: Int, lengthSize: Int) -> (units: [(Int, Int)], whole: Bool) {
            var units: [(Int, Int)] = []
            var offset = 0
            while offset + lengthSize < count {
                var length = 0
                for k in 0..<lengthSize { length = length << 8 | Int(data[offset + k]) }
                let start = offset + lengthSize
                guard length > 0, start + length <= count else { return (units, false) }
                units.append((start, length))
                offset = start + length
            }
            return (units, offset == count)
        }
    }
}

extension VideoDecoder {
    /// The frame nearest to `time` (µs, the extraction's rule: `FrameCell`) as gray, decoding
    /// only what it needs where the stream can be planned, otherwise every frame up to it; nil
    /// past the last frame. For pictures of a scan (the report's crop), not for extraction.
    /// - nominalFrameDuration: the stream's (`VideoStreamInfo`, as probed at ingest): the last frame's cell.
    public static func grab(path: String, at time: Microseconds, nominalFrameDuration: Microseconds, conversion: GrayConversion,
                            threads: Int = 2) throws -> GrayImage? {
        if let packets = try? DecodePlan.packets(path: path), packets.allSatisfy(\.isIntact) {
            let frames = packets.map(\.pts).sorted()
            guard let index = FrameCell.resolve([time], frames: frames, nominal: nominalFrameDuration).first ?? nil else { return nil }
            let decoder = try VideoDecoder(path: path, threads: threads, plan: DecodePlan(packets: packets, needed: [frames[index]]))
            while let frame = try decoder.nextFrame(), frame.pts <= frames[index] {
                if frame.pts == frames[index] { return try decoder.currentImage(conversion) }
            }
            return nil
        }
        let decoder = try VideoDecoder(path: path, threads: threads)
        while let cell = try decoder.nextCell(), cell.start <= time {
            if cell.contains(time) {
                var pixels = [UInt8](repeating: 0, count: conversion.width * conversion.height)
                try pixels.withUnsafeMutableBufferPointer { try decoder.convertCellFrame(conversion, into: $0) }
                return GrayImage(width: conversion.width, height: conversion.height, pixels: pixels)
            }
        }
        return nil
    }
}
