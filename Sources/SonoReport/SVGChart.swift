import Foundation

/// Small, dependency-free SVG charts for the report: line charts over steps, histograms, bars,
/// lanes of intervals on a time axis and heat maps. Every mark a test may count carries a
/// `class` (and `data-*` attributes), so a chart can be checked against the data it draws.
public enum SVGChart {
    /// A colour per series or category, readable on white and distinct in gray.
    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    /// Round tick values covering lo…hi (about `count` of them).
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var v = ceil(lo / step) * step
        while v <= hi + step * 1e-9 { out.append(v); v += step }
        return out
    }

    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1e4 || abs(v) < 1e-3 { return String(format: "%.1e", v) }
        if v == v.rounded() { return String(Int(v)) }
        return String(format: abs(v) < 1 ? "%.3g" : "%.4g", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// The frame of a chart: plot area, axes with ticks and labels.
    struct Frame {
        let width: Double, height: Double
        let left = 60.0, right = 150.0, top = 28.0, bottom = 40.0
        let x0: Double, x1: Double, y0: Double, y1: Double
        var plotWidth: Double { width - left - right }
        var plotHeight: Double { height - top - bottom }
        func x(_ v: Double) -> Double { left + (x1 > x0 ? (v - x0) / (x1 - x0) : 0.5) * plotWidth }
        func y(_ v: Double) -> Double { top + plotHeight - (y1 > y0 ? (v - y0) / (y1 - y0) : 0.5) * plotHeight }

        func axes(title: String, xLabel: String, yLabel: String, xTicks: Bool = true) -> String {
            var s = "<text x=\"\(left)\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>"
            s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#999\"/>"
            for t in ticks(y0, y1) {
                let yy = y(t)
                s += "<line x1=\"\(left - 4)\" x2=\"\(left)\" y1=\"\(yy)\" y2=\"\(yy)\" stroke=\"#999\"/>"
                s += "<text x=\"\(left - 6)\" y=\"\(yy + 4)\" font-size=\"10\" text-anchor=\"end\">\(format(t))</text>"
            }
            if xTicks {
                for t in ticks(x0, x1) {
                    let xx = x(t)
                    s += "<line x1=\"\(xx)\" x2=\"\(xx)\" y1=\"\(top + plotHeight)\" y2=\"\(top + plotHeight + 4)\" stroke=\"#999\"/>"
                    s += "<text x=\"\(xx)\" y=\"\(top + plotHeight + 15)\" font-size=\"10\" text-anchor=\"middle\">\(format(t))</text>"
                }
            }
            s += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 6)\" font-size=\"11\" text-anchor=\"middle\">\(escape(xLabel))</text>"
            s += "<text x=\"12\" y=\"\(top + plotHeight / 2)\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(top + plotHeight / 2))\">\(escape(yLabel))</text>"
            return s
        }

        func legend(_ names: [String]) -> String {
            names.enumerated().map { k, name in
                let yy = top + 6 + Double(k) * 16
                return "<rect x=\"\(width - right + 10)\" y=\"\(yy)\" width=\"10\" height=\"10\" fill=\"\(palette[k % palette.count])\"/>"
                    + "<text x=\"\(width - right + 25)\" y=\"\(yy + 9)\" font-size=\"10\">\(escape(name))</text>"
            }.joined()
        }
    }

    static func svg(_ width: Double, _ height: Double, _ body: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\">\(body)</svg>"
    }

    /// Lines over x (steps): one polyline per series, points with a finite y only.
    public static func lines(_ series: [Series], title: String, xLabel: String, yLabel: String, width: Double = 640, height: Double = 260) -> String {
        let all = series.flatMap(\.points).filter { $0.y.isFinite && $0.x.isFinite }
        let xs = all.map(\.x), ys = all.map(\.y)
        var (ylo, yhi) = (ys.min() ?? 0, ys.max() ?? 1)
        if yhi == ylo { ylo -= 0.5; yhi += 0.5 }
        let f = Frame(width: width, height: height, x0: xs.min() ?? 0, x1: max(xs.max() ?? 1, (xs.min() ?? 0) + 1), y0: ylo, y1: yhi)
        var body = f.axes(title: title, xLabel: xLabel, yLabel: yLabel)
        for (k, s) in series.enumerated() {
            let pts = s.points.filter { $0.y.isFinite && $0.x.isFinite }
            let color = palette[k % palette.count]
            if pts.count == 1, let p = pts.first {
                body += "<circle class=\"point\" cx=\"\(f.x(p.x))\" cy=\"\(f.y(p.y))\" r=\"3\" fill=\"\(color)\"/>"
            } else if !pts.isEmpty {
                let path = pts.map { String(format: "%.1f,%.1f", f.x($0.x), f.y($0.y)) }.joined(separator: " ")
                body += "<polyline class=\"series\" data-name=\"\(escape(s.name))\" data-points=\"\(pts.count)\" points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
            }
        }
        body += f.legend(series.map(\.name))
        return svg(width, height, body)
    }

    /// Bars, one per labelled value (per-class scores, counts).
    public static func bars(_ values: [(label: String, value: Double)], title: String, yLabel: String, width: Double = 640, height: Double = 260) -> String {
        let hi = max(values.map(\.value).max() ?? 1, 1e-12)
        let f = Frame(width: width, height: height, x0: 0, x1: Double(max(values.count, 1)), y0: 0, y1: hi)
        var body = f.axes(title: title, xLabel: "", yLabel: yLabel, xTicks: false)
        let w = f.plotWidth / Double(max(values.count, 1))
        for (k, v) in values.enumerated() {
            let x = f.left + Double(k) * w, top = f.y(v.value)
            body += "<rect class=\"bar\" data-label=\"\(escape(v.label))\" data-value=\"\(v.value)\" x=\"\(x + w * 0.1)\" y=\"\(top)\" width=\"\(w * 0.8)\" height=\"\(f.top + f.plotHeight - top)\" fill=\"\(palette[0])\"/>"
            body += "<text x=\"\(x + w / 2)\" y=\"\(f.top + f.plotHeight + 12)\" font-size=\"9\" text-anchor=\"end\" transform=\"rotate(-35 \(x + w / 2) \(f.top + f.plotHeight + 12))\">\(escape(v.label))</text>"
        }
        return svg(width, height, body)
    }

    /// A histogram of `values` in `bins` equal bins over their range (or `range`).
    public static func histogram(_ values: [Double], bins: Int = 20, range: ClosedRange<Double>? = nil, title: String, xLabel: String,
                                 width: Double = 420, height: Double = 220) -> String {
        let finite = values.filter(\.isFinite)
        let lo = range?.lowerBound ?? finite.min() ?? 0
        let hi = max(range?.upperBound ?? finite.max() ?? 1, lo + 1e-9)
        var counts = [Int](repeating: 0, count: bins)
        for v in finite { counts[min(bins - 1, max(0, Int((v - lo) / (hi - lo) * Double(bins))))] += 1 }
        let f = Frame(width: width, height: height, x0: lo, x1: hi, y0: 0, y1: Double(max(counts.max() ?? 1, 1)))
        var body = f.axes(title: title + " (n = \(finite.count))", xLabel: xLabel, yLabel: "count")
        let w = (hi - lo) / Double(bins)
        for (k, c) in counts.enumerated() where c > 0 {
            let x = f.x(lo + Double(k) * w), x2 = f.x(lo + Double(k + 1) * w), top = f.y(Double(c))
            body += "<rect class=\"bin\" data-count=\"\(c)\" x=\"\(x)\" y=\"\(top)\" width=\"\(max(0.5, x2 - x - 1))\" height=\"\(f.top + f.plotHeight - top)\" fill=\"\(palette[0])\"/>"
        }
        return svg(width, height, body)
    }

    /// One lane of a timeline: intervals (seconds) drawn as marks of a class and colour.
    public struct Lane: Sendable {
        public struct Mark: Sendable {
            public var start: Double, end: Double
            public var color: String
            /// The mark's CSS class ("speech", "clip") and a tooltip.
            public var kind: String
            public var title: String
            public var attributes: [String: String] = [:]
            public init(start: Double, end: Double, color: String, kind: String, title: String, attributes: [String: String] = [:]) {
                self.start = start; self.end = end; self.color = color; self.kind = kind; self.title = title; self.attributes = attributes
            }
        }
        public var name: String
        public var marks: [Mark]
        public init(name: String, marks: [Mark]) { self.name = name; self.marks = marks }
    }

    /// Lanes on one time axis 0…`duration` seconds, with a legend of colours.
    public static func timeline(_ lanes: [Lane], duration: Double, title: String, legend: [(String, String)], width: Double = 960) -> String {
        let laneHeight = 18.0
        let height = 28 + Double(lanes.count) * (laneHeight + 6) + 40 + Double((legend.count + 4) / 5) * 16
        let left = 110.0, plot = width - left - 20
        func x(_ t: Double) -> Double { left + max(0, min(1, t / max(duration, 1e-9))) * plot }
        var body = "<text x=\"\(left)\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>"
        for (k, lane) in lanes.enumerated() {
            let y = 28 + Double(k) * (laneHeight + 6)
            body += "<text x=\"\(left - 6)\" y=\"\(y + 13)\" font-size=\"11\" text-anchor=\"end\">\(escape(lane.name))</text>"
            body += "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(plot)\" height=\"\(laneHeight)\" fill=\"#f3f3f3\"/>"
            for m in lane.marks {
                let attrs = m.attributes.sorted { $0.key < $1.key }.map { " data-\($0.key)=\"\(escape($0.value))\"" }.joined()
                body += "<rect class=\"\(m.kind)\"\(attrs) x=\"\(String(format: "%.2f", x(m.start)))\" y=\"\(y)\" width=\"\(String(format: "%.2f", max(0.8, x(m.end) - x(m.start))))\" height=\"\(laneHeight)\" fill=\"\(m.color)\"><title>\(escape(m.title))</title></rect>"
            }
        }
        let axisY = 28 + Double(lanes.count) * (laneHeight + 6)
        for t in ticks(0, duration, count: 10) {
            body += "<line x1=\"\(x(t))\" x2=\"\(x(t))\" y1=\"\(axisY)\" y2=\"\(axisY + 4)\" stroke=\"#999\"/>"
            body += "<text x=\"\(x(t))\" y=\"\(axisY + 15)\" font-size=\"10\" text-anchor=\"middle\">\(format(t)) s</text>"
        }
        for (k, item) in legend.enumerated() {
            let lx = left + Double(k % 5) * 175, ly = axisY + 26 + Double(k / 5) * 16
            body += "<rect x=\"\(lx)\" y=\"\(ly)\" width=\"10\" height=\"10\" fill=\"\(item.1)\"/><text x=\"\(lx + 14)\" y=\"\(ly + 9)\" font-size=\"10\">\(escape(item.0))</text>"
        }
        return svg(width, height, body)
    }

    /// A heat map of a square matrix (a confusion matrix: rows true, columns predicted), each
    /// cell shaded by its share of its row and labelled with its count.
    public static func heatmap(_ matrix: [[Int]], labels: [String], title: String, cell: Double = 34) -> String {
        let n = matrix.count
        let left = 110.0, top = 110.0
        let width = max(left + Double(n) * cell + 20, 9 * Double(title.count) + 20), height = top + Double(n) * cell + 30
        var body = "<text x=\"10\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(escape(title))</text>"
        body += "<text x=\"\(left + Double(n) * cell / 2)\" y=\"34\" font-size=\"11\" text-anchor=\"middle\">predicted</text>"
        for (i, row) in matrix.enumerated() {
            let total = max(1, row.reduce(0, +))
            body += "<text x=\"\(left - 6)\" y=\"\(top + Double(i) * cell + cell / 2 + 4)\" font-size=\"10\" text-anchor=\"end\">\(escape(i < labels.count ? labels[i] : "\(i)"))</text>"
            for (j, c) in row.enumerated() {
                let share = Double(c) / Double(total)
                let shade = Int(255 - 200 * share)
                body += "<rect class=\"cell\" data-row=\"\(i)\" data-col=\"\(j)\" data-count=\"\(c)\" x=\"\(left + Double(j) * cell)\" y=\"\(top + Double(i) * cell)\" width=\"\(cell - 1)\" height=\"\(cell - 1)\" fill=\"rgb(\(shade),\(shade),255)\"/>"
                if c > 0 {
                    body += "<text x=\"\(left + Double(j) * cell + cell / 2)\" y=\"\(top + Double(i) * cell + cell / 2 + 4)\" font-size=\"10\" text-anchor=\"middle\">\(c)</text>"
                }
            }
        }
        for j in 0..<n {
            let x = left + Double(j) * cell + cell / 2
            body += "<text x=\"\(x)\" y=\"\(top - 6)\" font-size=\"10\" transform=\"rotate(-45 \(x) \(top - 6))\">\(escape(j < labels.count ? labels[j] : "\(j)"))</text>"
        }
        return svg(width, height, body)
    }
}
