import SonoShards

/// A record's fields as gray pictures a person can look at: the frames side by side in one
/// strip, the still, and the log-mel (time → x, low mel bins at the bottom, scaled to its own
/// range). Used by `sono-inspect show` and by the report's sample grid.
public struct RecordPicture: Sendable {
    public var name: String
    public var width: Int, height: Int
    public var pixels: [UInt8]
}

public enum RecordPictures {
    /// "frames", "still" and "logmel" pictures, for the fields the layout has.
    public static func of(_ record: ShardRecord, layout: RecordLayout) -> [RecordPicture] {
        var out: [RecordPicture] = []
        if let video = layout.field(.video), video.shape.count == 3 {
            let (t, h, w) = (video.shape[0], video.shape[1], video.shape[2])
            let px = record.u8(.video)
            var strip = [UInt8](repeating: 0, count: t * w * h)
            for f in 0..<t { for y in 0..<h { for x in 0..<w { strip[y * t * w + f * w + x] = px[(f * h + y) * w + x] } } }
            out.append(RecordPicture(name: "frames", width: t * w, height: h, pixels: strip))
        }
        if let still = layout.field(.still), still.shape.count == 2 {
            out.append(RecordPicture(name: "still", width: still.shape[1], height: still.shape[0], pixels: record.u8(.still)))
        }
        if let mel = layout.field(.logmel), mel.shape.count == 2 {
            let v = record.f16AsFloat(.logmel)
            let (frames, bins) = (mel.shape[0], mel.shape[1])
            let lo = v.min() ?? 0, hi = max(v.max() ?? 1, lo + 1e-6)
            var px = [UInt8](repeating: 0, count: frames * bins)
            for t in 0..<frames { for m in 0..<bins {
                px[(bins - 1 - m) * frames + t] = UInt8(max(0, min(255, (v[t * bins + m] - lo) / (hi - lo) * 255)))
            } }
            out.append(RecordPicture(name: "logmel", width: frames, height: bins, pixels: px))
        }
        return out
    }
}
