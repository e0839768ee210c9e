import CFFmpeg
import SonoCore

/// One video packet as a demux-only pass sees it, in decode order.
public struct PacketInfo: Hashable, Sendable {
    public var pts: Microseconds
    /// Other frames may predict from it (H.264 `nal_ref_idc` ≠ 0). True when unknown.
    public var isReference: Bool
    /// Decoding can restart here cleanly (an H.264 IDR picture).
    public var isCleanStart: Bool
}

/// Which packets a pass must decode so that the frames it needs come out bit-identical to a
/// full decode (issue 18): a needed frame's packet; every reference packet of a needed
/// stretch (from the clean start before a needed frame to the last needed frame of that
/// stretch, in decode order), since later frames may predict from it; nothing else. A packet
/// that is not a reference is never predicted from, so dropping it changes no other frame; a
/// stretch that starts at a clean start (IDR) needs nothing before it.
///
/// Only streams whose structure can be read are planned (H.264 in MP4/MOV/MKV, length-prefixed
/// NAL units with an `avcC` record); for others `structure(path:)` says why and the caller
/// decodes everything.
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

    /// Why a stream cannot be planned (nil: it can).
    public enum Unplannable: Error, Sendable, CustomStringConvertible {
        case codec(String)
        case noLengthPrefixedNALs
        public var description: String {
            switch self {
            case .codec(let c): return "codec \(c): only H.264 is planned"
            case .noLengthPrefixedNALs: return "H.264 without an avcC record (Annex B stream): its structure is not read"
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
        guard par.pointee.codec_id == AV_CODEC_ID_H264 else { throw Unplannable.codec(String(cString: avcodec_get_name(par.pointee.codec_id))) }
        guard par.pointee.extradata_size >= 7, let extra = par.pointee.extradata, extra[0] == 1 else { throw Unplannable.noLengthPrefixedNALs }
        let lengthSize = Int(extra[4] & 0x3) + 1
        input.discardAll(except: [index])
        let tb = st.pointee.time_base.rational
        var packets: [PacketInfo] = []
        let rc = try MediaProbe.readPackets(input, stream: index) { packet in
            let pts = packet.pointee.pts
            guard pts != FFmpegCodes.noPTS, let t = tb.scale(pts, toUnit: 1_000_000) else {
                throw MediaError(.unsupported, path: path, reason: "video packet \(packets.count) has no presentation timestamp")
            }
            let (isReference, isIDR) = nalKind(packet.pointee.data, count: Int(packet.pointee.size), lengthSize: lengthSize)
            let disposable = packet.pointee.flags & AV_PKT_FLAG_DISPOSABLE != 0
            packets.append(PacketInfo(pts: t, isReference: isReference && !disposable, isCleanStart: isIDR))
        }
        if rc != FFmpegCodes.eof { try check(rc, "av_read_frame", path: path, kind: .truncated) }
        return packets
    }

    /// The first slice NAL unit's `nal_ref_idc` ≠ 0 and whether it is an IDR slice; (true,
    /// false) when no slice is found (kept, and no clean start: the safe reading).
    static func nalKind(_ data: UnsafeMutablePointer<UInt8>?, count: Int, lengthSize: Int) -> (reference: Bool, idr: Bool) {
        guard let data else { return (true, false) }
        var offset = 0
        while offset + lengthSize < count {
            var length = 0
            for k in 0..<lengthSize { length = length << 8 | Int(data[offset + k]) }
            let header = data[offset + lengthSize]
            let type = header & 0x1F
            if (1...5).contains(type) { return ((header >> 5) & 0x3 != 0, type == 5) }
            offset += lengthSize + length
        }
        return (true, false)
    }
}
