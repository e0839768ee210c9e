import SonoCore

/// Finds the live image region of a screen capture: the ultrasound sector moves, while the
/// machine's text band, menus and black margins stay still. Used when a manifest gives no crop.
///
/// Method: the first `seconds` of video are decoded and reduced to gray at 1/`scale` of the
/// displayed size; a pixel is live when its values over those frames span more than
/// `threshold` gray levels; rows and columns with at least `minimumFraction` live pixels bound
/// the region, which is scaled back and widened by one reduced pixel on every side.
public enum SectorCrop {
    public static func detect(path: String, seconds: Double = 5, scale: Int = 4, threshold: Int = 24,
                              minimumFraction: Double = 0.02, threads: Int = 2) throws -> CropRect? {
        let decoder = try VideoDecoder(path: path, threads: threads)
        let w = max(1, decoder.info.displayWidth / scale), h = max(1, decoder.info.displayHeight / scale)
        let conversion = GrayConversion(width: w, height: h)
        var lo = [UInt8](repeating: 255, count: w * h), hi = [UInt8](repeating: 0, count: w * h)
        var frames = 0
        var first: Microseconds? = nil
        var image = [UInt8](repeating: 0, count: w * h)
        while let frame = try decoder.nextFrame() {
            if first == nil { first = frame.pts }
            if let first, TimeMath.seconds(frame.pts - first) > seconds { break }
            try image.withUnsafeMutableBufferPointer { try decoder.convertCurrentFrame(conversion, into: $0) }
            for i in 0..<(w * h) {
                lo[i] = min(lo[i], image[i])
                hi[i] = max(hi[i], image[i])
            }
            frames += 1
        }
        guard frames >= 3 else { return nil }
        var rowLive = [Int](repeating: 0, count: h), colLive = [Int](repeating: 0, count: w)
        for y in 0..<h {
            for x in 0..<w where Int(hi[y * w + x]) - Int(lo[y * w + x]) > threshold {
                rowLive[y] += 1
                colLive[x] += 1
            }
        }
        let rows = rowLive.indices.filter { Double(rowLive[$0]) >= minimumFraction * Double(w) }
        let cols = colLive.indices.filter { Double(colLive[$0]) >= minimumFraction * Double(h) }
        guard let top = rows.first, let bottom = rows.last, let left = cols.first, let right = cols.last else { return nil }
        let dw = decoder.info.displayWidth, dh = decoder.info.displayHeight
        let x0 = max(0, (left - 1) * dw / w), y0 = max(0, (top - 1) * dh / h)
        let x1 = min(dw, (right + 2) * dw / w), y1 = min(dh, (bottom + 2) * dh / h)
        guard x1 - x0 >= 16, y1 - y0 >= 16 else { return nil }
        return CropRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }
}
