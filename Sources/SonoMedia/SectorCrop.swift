import SonoCore

/// What sector detection found: the crop, how it was found, and how sure it is.
public struct SectorDetection: Hashable, Sendable {
    public var crop: CropRect
    /// The method and its version, stored with the crop.
    public var method: String
    /// Share of the moving pixels that lie in the sector (1: nothing else moves). Low when
    /// several large regions move (a dual view, moving UI larger than the sector).
    public var confidence: Double
    /// Share of the crop the sector's moving pixels fill (a fan ≈ 0.6–0.8, a rectangle ≈ 1).
    public var fill: Double

    /// Below these the detection is reported as doubtful at ingest.
    public static let confidentShare = 0.8, plausibleFill = 0.3
    public var isConfident: Bool { confidence >= Self.confidentShare && fill >= Self.plausibleFill }
}

/// Finds the ultrasound image in a screen capture: the sector's speckle changes at nearly every
/// pixel from frame to frame, while the machine's UI (a clock, a frame counter, a cine bar,
/// changing text) changes in small separate patches and text bands, menus and margins stay
/// still. Used when a manifest gives no crop.
///
/// Method (`live-component/2`): the first `seconds` of video are reduced to gray on a grid of
/// about `gridWidth` cells across; a cell is live when its values over those frames span more
/// than `threshold` gray levels. Live cells are grouped into 8-connected components after
/// closing one-cell gaps (speckle's dark spots), and the component with the most live cells is
/// the sector; the crop is the box of its live cells at full resolution. UI patches three cells or
/// more from the sector are separate components and left out.
public enum SectorCrop {
    public static let method = "live-component/2"

    public static func detect(path: String, seconds: Double = 5, gridWidth: Int = 256, threshold: Int = 24,
                              threads: Int = 2) throws -> SectorDetection? {
        let decoder = try VideoDecoder(path: path, threads: threads)
        let dw = decoder.info.displayWidth, dh = decoder.info.displayHeight
        let scale = max(1, dw / max(1, gridWidth))
        let w = max(1, dw / scale), h = max(1, dh / scale)
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
        let live = (0..<(w * h)).map { Int(hi[$0]) - Int(lo[$0]) > threshold }
        guard let sector = LiveComponents(live: live, width: w, height: h).largest, sector.liveCells > 0 else { return nil }
        let x0 = sector.box.x0 * dw / w, y0 = sector.box.y0 * dh / h
        let x1 = min(dw, (sector.box.x1 + 1) * dw / w), y1 = min(dh, (sector.box.y1 + 1) * dh / h)
        guard x1 - x0 >= 16, y1 - y0 >= 16 else { return nil }
        let totalLive = live.reduce(0) { $0 + ($1 ? 1 : 0) }
        let boxCells = (sector.box.x1 - sector.box.x0 + 1) * (sector.box.y1 - sector.box.y0 + 1)
        return SectorDetection(crop: CropRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0), method: method,
                               confidence: Double(sector.liveCells) / Double(max(1, totalLive)),
                               fill: Double(sector.liveCells) / Double(max(1, boxCells)))
    }
}

/// The 8-connected components of a live mask closed by one cell (a cell next to a live cell
/// joins its neighbours), each with its live cells counted and their box.
struct LiveComponents {
    struct Component {
        var liveCells = 0
        var box = (x0: Int.max, y0: Int.max, x1: Int.min, y1: Int.min)
    }

    private(set) var components: [Component] = []

    init(live: [Bool], width w: Int, height h: Int) {
        // Closing's dilation: a cell is joined when any cell of its 3×3 neighbourhood is live.
        var joined = [Bool](repeating: false, count: w * h)
        for y in 0..<h {
            for x in 0..<w where live[y * w + x] {
                for yy in max(0, y - 1)...min(h - 1, y + 1) { for xx in max(0, x - 1)...min(w - 1, x + 1) { joined[yy * w + xx] = true } }
            }
        }
        var label = [Int](repeating: -1, count: w * h)
        var stack: [Int] = []
        for start in 0..<(w * h) where joined[start] && label[start] < 0 {
            var c = Component()
            label[start] = components.count
            stack.append(start)
            while let i = stack.popLast() {
                let x = i % w, y = i / w
                if live[i] {
                    c.liveCells += 1
                    c.box = (min(c.box.x0, x), min(c.box.y0, y), max(c.box.x1, x), max(c.box.y1, y))
                }
                for yy in max(0, y - 1)...min(h - 1, y + 1) {
                    for xx in max(0, x - 1)...min(w - 1, x + 1) where joined[yy * w + xx] && label[yy * w + xx] < 0 {
                        label[yy * w + xx] = components.count
                        stack.append(yy * w + xx)
                    }
                }
            }
            components.append(c)
        }
    }

    /// The component with the most live cells.
    var largest: Component? { components.max { $0.liveCells < $1.liveCells } }
}
