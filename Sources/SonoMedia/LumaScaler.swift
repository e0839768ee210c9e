import CFFmpeg
import SonoCore

/// How decoded frames become model input: the region of interest (in displayed coordinates),
/// and the output size. Output is full-range 8-bit luma in display orientation.
public struct GrayConversion: Hashable, Sendable {
    public var crop: CropRect?
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int, crop: CropRect? = nil) {
        precondition(width > 0 && height > 0, "output size must be positive")
        self.width = width
        self.height = height
        self.crop = crop
    }

    /// A square `size`×`size` output, e.g. 128.
    public init(size: Int, crop: CropRect? = nil) {
        self.init(width: size, height: size, crop: crop)
    }
}

/// An 8-bit gray image, row-major, no padding.
public struct GrayImage: Hashable, Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    public subscript(x: Int, y: Int) -> UInt8 { pixels[y * width + x] }

    public var mean: Double { pixels.isEmpty ? 0 : Double(pixels.reduce(0) { $0 + Int($1) }) / Double(pixels.count) }
}

/// Turns one decoded `AVFrame` into full-range gray at the requested crop and size.
///
/// Planar YUV (and gray) input: only the luma plane is read, viewed as a gray image, cropped by
/// pointer offset (any pixel offset, no chroma alignment needed) and area-resized by swscale;
/// limited range (16…235, the usual for H.264) is then expanded to 0…255 with a table. Higher
/// bit depths are scaled by swscale, not truncated. Other layouts (RGB, packed YUV) go through a
/// full-size swscale conversion to full-range gray first. Rotation is applied last, on the small
/// image. One instance per decoder and thread (swscale contexts are not shared).
final class LumaScaler {
    private var scaleContext: OpaquePointer?
    private var scaleKey: [Int32] = []
    private var fullContext: OpaquePointer?
    private var fullKey: [Int32] = []
    /// Owned buffers, reallocated only when the size changes (pointers into them stay valid).
    private var fullBuffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 0)
    private var scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 0)

    /// Full range expansion of limited-range luma: round((v − 16) · 255 / 219), clamped.
    static let limitedToFull: [UInt8] = (0..<256).map { v in
        let x = (Double(v) - 16) * 255 / 219
        return UInt8(max(0, min(255, x.rounded())))
    }

    deinit {
        sws_freeContext(scaleContext)
        sws_freeContext(fullContext)
        fullBuffer.deallocate()
        scratch.deallocate()
    }

    private static func resized(_ buffer: inout UnsafeMutableBufferPointer<UInt8>, to count: Int) {
        guard buffer.count < count else { return }
        buffer.deallocate()
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: 0)
    }

    /// Where the luma of `format` can be read directly: the gray format that views plane 0.
    private static func lumaPlaneFormat(_ format: AVPixelFormat) -> AVPixelFormat? {
        guard let desc = av_pix_fmt_desc_get(format) else { return nil }
        let flags = Int32(truncatingIfNeeded: desc.pointee.flags)
        let excluded = shim_pix_fmt_flag_rgb() | shim_pix_fmt_flag_pal() | shim_pix_fmt_flag_bitstream() | shim_pix_fmt_flag_hwaccel()
        guard flags & excluded == 0, desc.pointee.nb_components >= 1 else { return nil }
        let luma = desc.pointee.comp.0
        let depth = Int(luma.depth)
        guard luma.plane == 0, luma.shift == 0, luma.offset == 0, Int(luma.step) == (depth + 7) / 8 else { return nil }
        let bigEndian = flags & shim_pix_fmt_flag_be() != 0
        switch (depth, bigEndian) {
        case (8, _): return AV_PIX_FMT_GRAY8
        case (9, false): return AV_PIX_FMT_GRAY9LE
        case (9, true): return AV_PIX_FMT_GRAY9BE
        case (10, false): return AV_PIX_FMT_GRAY10LE
        case (10, true): return AV_PIX_FMT_GRAY10BE
        case (12, false): return AV_PIX_FMT_GRAY12LE
        case (12, true): return AV_PIX_FMT_GRAY12BE
        case (14, false): return AV_PIX_FMT_GRAY14LE
        case (14, true): return AV_PIX_FMT_GRAY14BE
        case (16, false): return AV_PIX_FMT_GRAY16LE
        case (16, true): return AV_PIX_FMT_GRAY16BE
        default: return nil
        }
    }

    /// True when luma values of this frame use the limited (video) range.
    private static func isLimitedRange(_ frame: UnsafeMutablePointer<AVFrame>, _ format: AVPixelFormat) -> Bool {
        if frame.pointee.color_range == AVCOL_RANGE_JPEG { return false }
        if frame.pointee.color_range == AVCOL_RANGE_MPEG { return true }
        guard let desc = av_pix_fmt_desc_get(format) else { return false }
        let name = String(cString: desc.pointee.name)
        if name.hasPrefix("yuvj") { return false }
        // Unspecified: YUV is limited by convention; a bare gray stream is taken as full range.
        return desc.pointee.nb_components >= 3
    }

    /// The source rectangle (coded coordinates) that a display-space crop covers.
    static func sourceRect(_ crop: CropRect, rotation: Int, codedWidth w: Int, codedHeight h: Int) -> CropRect {
        switch rotation {
        case 90: return CropRect(x: crop.y, y: h - crop.x - crop.width, width: crop.height, height: crop.width)
        case 180: return CropRect(x: w - crop.x - crop.width, y: h - crop.y - crop.height, width: crop.width, height: crop.height)
        case 270: return CropRect(x: w - crop.y - crop.height, y: crop.x, width: crop.height, height: crop.width)
        default: return crop
        }
    }

    func convert(_ frame: UnsafeMutablePointer<AVFrame>, rotation: Int, conversion: GrayConversion,
                 into out: UnsafeMutableBufferPointer<UInt8>, path: String) throws {
        precondition(out.count >= conversion.width * conversion.height, "output buffer too small")
        let w = Int(frame.pointee.width), h = Int(frame.pointee.height)
        let format = AVPixelFormat(rawValue: frame.pointee.format)
        let displayW = rotation % 180 == 0 ? w : h, displayH = rotation % 180 == 0 ? h : w
        let crop = conversion.crop ?? CropRect(x: 0, y: 0, width: displayW, height: displayH)
        guard crop.fits(width: displayW, height: displayH) else {
            throw MediaError(.absurdMetadata, path: path, reason: "crop \(crop) does not fit the \(displayW)×\(displayH) frame")
        }
        let src = Self.sourceRect(crop, rotation: rotation, codedWidth: w, codedHeight: h)
        let outW = rotation % 180 == 0 ? conversion.width : conversion.height
        let outH = rotation % 180 == 0 ? conversion.height : conversion.width

        // The luma plane to scale from: the frame's own, or a full-range gray copy.
        var plane: UnsafePointer<UInt8>
        var stride: Int
        var planeFormat: AVPixelFormat
        var limited: Bool
        if let lumaFormat = Self.lumaPlaneFormat(format), let data = frame.pointee.data.0 {
            plane = UnsafePointer(data)
            stride = Int(frame.pointee.linesize.0)
            planeFormat = lumaFormat
            limited = Self.isLimitedRange(frame, format)
        } else {
            try convertToFullGray(frame, width: w, height: h, format: format, path: path)
            plane = UnsafePointer(fullBuffer.baseAddress!)
            stride = w
            planeFormat = AV_PIX_FMT_GRAY8
            limited = false
        }
        let bytesPerSample = planeFormat == AV_PIX_FMT_GRAY8 ? 1 : 2
        let origin = plane + src.y * stride + src.x * bytesPerSample

        let key: [Int32] = [Int32(src.width), Int32(src.height), planeFormat.rawValue, Int32(outW), Int32(outH)]
        if key != scaleKey {
            sws_freeContext(scaleContext)
            scaleContext = sws_getContext(Int32(src.width), Int32(src.height), planeFormat,
                                          Int32(outW), Int32(outH), AV_PIX_FMT_GRAY8, SWS_AREA, nil, nil, nil)
            scaleKey = key
            guard scaleContext != nil else {
                scaleKey = []
                throw MediaError(.unsupported, path: path, reason: "swscale cannot scale \(src.width)×\(src.height) to \(outW)×\(outH) (sws_getContext)")
            }
        }

        let direct = rotation == 0 && !limited
        if !direct { Self.resized(&scratch, to: outW * outH) }
        let target = direct ? out.baseAddress! : scratch.baseAddress!
        var srcSlices: [UnsafePointer<UInt8>?] = [origin, nil, nil, nil]
        var srcStrides: [Int32] = [Int32(stride), 0, 0, 0]
        var dstSlices: [UnsafeMutablePointer<UInt8>?] = [target, nil, nil, nil]
        var dstStrides: [Int32] = [Int32(outW), 0, 0, 0]
        let rc = sws_scale(scaleContext, &srcSlices, &srcStrides, 0, Int32(src.height), &dstSlices, &dstStrides)
        try check(rc, "sws_scale", path: path)
        if direct { return }

        let lut = limited ? Self.limitedToFull : nil
        Self.rotate(UnsafeBufferPointer(rebasing: scratch[0..<(outW * outH)]), width: outW, height: outH,
                    rotation: rotation, lut: lut, into: out)
    }

    /// Copies a `width`×`height` image rotated clockwise by `rotation`, mapping values through `lut`.
    static func rotate(_ s: UnsafeBufferPointer<UInt8>, width w: Int, height h: Int, rotation: Int,
                       lut: [UInt8]?, into d: UnsafeMutableBufferPointer<UInt8>) {
        let identity = lut == nil
        let table = lut ?? []
        @inline(__always) func map(_ v: UInt8) -> UInt8 { identity ? v : table[Int(v)] }
        switch rotation {
        case 90:  // display is h wide, w tall: D(x', y') = S(y', h-1-x')
            for y in 0..<w { for x in 0..<h { d[y * h + x] = map(s[(h - 1 - x) * w + y]) } }
        case 180:
            for y in 0..<h { for x in 0..<w { d[y * w + x] = map(s[(h - 1 - y) * w + (w - 1 - x)]) } }
        case 270:  // D(x', y') = S(w-1-y', x')
            for y in 0..<w { for x in 0..<h { d[y * h + x] = map(s[x * w + (w - 1 - y)]) } }
        default:
            for i in 0..<(w * h) { d[i] = map(s[i]) }
        }
    }

    /// Full-size conversion of a frame of any layout to full-range GRAY8, into `fullBuffer`.
    private func convertToFullGray(_ frame: UnsafeMutablePointer<AVFrame>, width w: Int, height h: Int,
                                   format: AVPixelFormat, path: String) throws {
        let key: [Int32] = [Int32(w), Int32(h), format.rawValue]
        if key != fullKey {
            sws_freeContext(fullContext)
            fullContext = sws_getContext(Int32(w), Int32(h), format, Int32(w), Int32(h), AV_PIX_FMT_GRAY8,
                                         SWS_POINT, nil, nil, nil)
            guard let ctx = fullContext else {
                fullKey = []
                let name = av_get_pix_fmt_name(format).map { String(cString: $0) } ?? "\(format.rawValue)"
                throw MediaError(.unsupported, path: path, reason: "swscale cannot convert pixel format \(name) to gray")
            }
            let srcFull: Int32 = Self.isLimitedRange(frame, format) ? 0 : 1
            let coefficients = sws_getCoefficients(SWS_CS_DEFAULT)
            sws_setColorspaceDetails(ctx, coefficients, srcFull, coefficients, 1, 0, 1 << 16, 1 << 16)
            fullKey = key
            Self.resized(&fullBuffer, to: w * h)
        }
        let rc: Int32 = {
            var dstSlices: [UnsafeMutablePointer<UInt8>?] = [fullBuffer.baseAddress, nil, nil, nil]
            var dstStrides: [Int32] = [Int32(w), 0, 0, 0]
            return withUnsafePointer(to: &frame.pointee.data) { dataTuple in
                dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: Int(AV_NUM_DATA_POINTERS)) { data in
                    withUnsafePointer(to: &frame.pointee.linesize) { lineTuple in
                        lineTuple.withMemoryRebound(to: Int32.self, capacity: Int(AV_NUM_DATA_POINTERS)) { lines in
                            sws_scale(fullContext, data, lines, 0, Int32(h), &dstSlices, &dstStrides)
                        }
                    }
                }
            }
        }()
        try check(rc, "sws_scale", path: path)
    }
}
