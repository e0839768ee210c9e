import Foundation
import SonoCore

/// The screen around a sample's sector: its shape, position and width, and the machine's UI
/// that changes while carrying no speckle (a clock, a frame counter, a cine-loop bar, changing
/// text), as real screen captures show. Sector detection is tested on these (issue 17). The
/// default (`SampleSpec.screen` nil) is the original screen: a centred 38° fan, no changing UI.
public struct ScreenLayout: Hashable, Sendable, Codable {
    public enum Shape: String, Hashable, Sendable, Codable, CaseIterable {
        /// Curvilinear probe: a fan from an apex below the text band.
        case fan
        /// Linear probe: a rectangle.
        case linear
    }

    /// UI that changes during the recording, each in a fixed place outside the sector.
    public enum Element: String, Hashable, Sendable, Codable, CaseIterable {
        /// HH:MM:SS at the right of the top band, changing every second.
        case clock
        /// The frame number at the bottom left, changing every frame.
        case frameCounter = "frame-counter"
        /// A cine-loop bar at the bottom right, filling over 3 s, changing every frame.
        case cineBar = "cine-bar"
        /// Four digits at the right edge, mid-height, changing every 2 s.
        case changingText = "changing-text"
    }

    public var shape: Shape = .fan
    /// Sector centre, as a fraction of the frame width.
    public var centerX: Double = 0.5
    /// Sector width at its widest, as a fraction of the frame width (nil: the original 38° fan,
    /// or half the width for a linear sector).
    public var width: Double?
    public var elements: [Element] = []
    /// A stretch (s) where the image is frozen (calipers on a still) while the UI goes on.
    public var frozen: Range<Double>?
    /// A stretch (s) where the probe is lifted: the sector goes black while the UI goes on.
    public var probeOff: Range<Double>?

    public init(shape: Shape = .fan, centerX: Double = 0.5, width: Double? = nil, elements: [Element] = []) {
        self.shape = shape
        self.centerX = centerX
        self.width = width
        self.elements = elements
    }

    /// The frame whose image frame `index` shows (a frozen stretch repeats its first frame's),
    /// and whether the probe is off then.
    func imageFrame(_ index: Int, fps: Int) -> (frame: Int, probeOff: Bool) {
        let t = Double(index) / Double(fps)
        let off = probeOff.map { $0.contains(t) } ?? false
        if let frozen, frozen.contains(t) { return (Int((frozen.lowerBound * Double(fps)).rounded(.up)), off) }
        return (index, off)
    }

    /// Parses `sono-sample --screen`: comma-separated `fan|linear`, `x=F`, `width=F` and element names.
    public init(parsing text: String, option: String) throws {
        for raw in text.split(separator: ",") {
            let item = raw.trimmingCharacters(in: .whitespaces)
            if let shape = Shape(rawValue: item) { self.shape = shape; continue }
            if let element = Element(rawValue: item) { elements.append(element); continue }
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[0] == "freeze" || parts[0] == "off" {
                let ends = parts[1].split(separator: "-").compactMap { Double($0) }
                guard ends.count == 2, ends[0].isFinite, ends[1].isFinite, ends[0] >= 0, ends[1] > ends[0] else {
                    throw InputError(path: option, reason: "'\(item)': expected \(parts[0])=START-END in seconds")
                }
                if parts[0] == "freeze" { frozen = ends[0]..<ends[1] } else { probeOff = ends[0]..<ends[1] }
                continue
            }
            guard parts.count == 2, let value = Double(parts[1]), value.isFinite else {
                throw InputError(path: option, reason: "'\(item)': expected fan, linear, x=F, width=F, freeze=S-E, off=S-E or one of \(Element.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            switch parts[0] {
            case "x": centerX = value
            case "width": width = value
            default: throw InputError(path: option, reason: "'\(item)': unknown setting \(parts[0]) (x, width)")
            }
        }
        try validate(source: option)
    }

    func validate(source: String) throws {
        guard (0.2...0.8).contains(centerX) else { throw InputError(path: source, reason: "sector centre x=\(centerX) must lie within 0.2…0.8") }
        if let width { guard (0.2...0.95).contains(width) else { throw InputError(path: source, reason: "sector width=\(width) must lie within 0.2…0.95") } }
        guard Set(elements).count == elements.count else { throw InputError(path: source, reason: "a screen element is listed twice") }
    }

    /// Per pixel: 0 outside the sector, the depth attenuation inside; `band` rows at the top
    /// hold the machine's text. nil layout: the original fan.
    static func sectorGain(_ layout: ScreenLayout?, width: Int, height: Int, band: Int) -> [Float] {
        var gain = [Float](repeating: 0, count: width * height)
        let layout = layout ?? ScreenLayout()
        let top = Double(band + 4)
        switch layout.shape {
        case .fan:
            let apexX = Double(width) * layout.centerX
            let radius = Double(height) - top - 4
            let halfAngle = layout.width.map { asin(min(1, $0 * Double(width) / (2 * radius))) } ?? 38.0 * Double.pi / 180
            for y in 0..<height {
                for x in 0..<width {
                    let dx = Double(x) - apexX, dy = Double(y) - top
                    guard dy > 0 else { continue }
                    let r = (dx * dx + dy * dy).squareRoot()
                    if r < radius && r > 0.06 * radius && abs(atan2(dx, dy)) < halfAngle {
                        gain[y * width + x] = Float(1.0 - 0.45 * r / radius)
                    }
                }
            }
        case .linear:
            let w = (layout.width ?? 0.5) * Double(width)
            let x0 = Int((Double(width) * layout.centerX - w / 2).rounded()), x1 = Int((Double(width) * layout.centerX + w / 2).rounded())
            let y0 = Int(top), y1 = height - max(16, height / 12)
            for y in y0..<y1 {
                for x in max(0, x0)..<min(width, x1) { gain[y * width + x] = Float(1.0 - 0.45 * Double(y - y0) / Double(y1 - y0)) }
            }
        }
        return gain
    }

    /// The bounding box of the sector's pixels: what a detected crop should be.
    static func sectorBox(_ gain: [Float], width: Int, height: Int) -> CropRect? {
        var x0 = width, y0 = height, x1 = -1, y1 = -1
        for y in 0..<height {
            for x in 0..<width where gain[y * width + x] > 0 {
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
            }
        }
        guard x1 >= x0, y1 >= y0 else { return nil }
        return CropRect(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
    }

    /// Draws the changing UI of frame `index` into `pixels`.
    func drawElements(frame index: Int, fps: Int, width: Int, height: Int, band: Int, into pixels: inout [UInt8]) {
        let unit = max(1, height / 96)
        let glyph = PixelFont(unit: unit)
        for element in elements {
            switch element {
            case .clock:
                let s = 10 * 3600 + 23 * 60 + index / max(1, fps)
                let text = String(format: "%02d:%02d:%02d", s / 3600 % 24, s / 60 % 60, s % 60)
                glyph.draw(text, x: width - 4 - glyph.width(text), y: max(0, (band - glyph.height) / 2), width: width, height: height, into: &pixels)
            case .frameCounter:
                let text = String(format: "%06d", index)
                glyph.draw(text, x: 4, y: height - 3 - glyph.height, width: width, height: height, into: &pixels)
            case .cineBar:
                let w = width / 5, h = 3 * unit, x0 = width - 4 - w, y0 = height - 3 - h
                let period = max(1, 3 * fps), filled = (index % period + 1) * (w - 2) / period
                for y in y0..<(y0 + h) {
                    for x in x0..<(x0 + w) {
                        let edge = y == y0 || y == y0 + h - 1 || x == x0 || x == x0 + w - 1
                        pixels[y * width + x] = edge ? 160 : (x - x0 - 1 < filled ? 220 : 0)
                    }
                }
            case .changingText:
                var rng = SeededGenerator(seed: UInt64(index / max(1, 2 * fps)), stream: 0x7E47)
                let text = String((0..<4).map { _ in Character(String(Int(rng.next() % 10))) })
                glyph.draw(text, x: width - 3 - glyph.width(text), y: height / 2 - glyph.height / 2, width: width, height: height, into: &pixels)
            }
        }
    }
}

/// A 3×5 bitmap font of digits and ':', scaled by `unit`: the UI's text, drawn without a font file.
struct PixelFont {
    let unit: Int
    private static let glyphs: [Character: [String]] = [
        "0": ["###", "#.#", "#.#", "#.#", "###"], "1": [".#.", "##.", ".#.", ".#.", "###"],
        "2": ["###", "..#", "###", "#..", "###"], "3": ["###", "..#", "###", "..#", "###"],
        "4": ["#.#", "#.#", "###", "..#", "..#"], "5": ["###", "#..", "###", "..#", "###"],
        "6": ["###", "#..", "###", "#.#", "###"], "7": ["###", "..#", "..#", "..#", "..#"],
        "8": ["###", "#.#", "###", "#.#", "###"], "9": ["###", "#.#", "###", "..#", "###"],
        ":": ["...", ".#.", "...", ".#.", "..."],
    ]

    var height: Int { 5 * unit }
    func width(_ text: String) -> Int { text.count * 4 * unit - unit }

    func draw(_ text: String, x: Int, y: Int, width: Int, height: Int, into pixels: inout [UInt8]) {
        for (k, c) in text.enumerated() {
            guard let rows = Self.glyphs[c] else { continue }
            for (gy, row) in rows.enumerated() {
                for (gx, bit) in row.enumerated() {
                    let on = bit == "#"
                    for py in 0..<unit {
                        for px in 0..<unit {
                            let xx = x + (k * 4 + gx) * unit + px, yy = y + gy * unit + py
                            guard xx >= 0, xx < width, yy >= 0, yy < height else { continue }
                            pixels[yy * width + xx] = on ? 230 : 0
                        }
                    }
                }
            }
        }
    }
}
