import Foundation

/// One self-contained HTML page: no network, every picture inline (SVG as markup, PNG as a
/// data: URI), and every figure also written beside it as a file, for papers and slides.
public final class HTMLPage {
    public let title: String
    /// Where the figure files go (the page's folder).
    public let folder: URL
    private var body: [String] = []
    private(set) public var figureFiles: [String] = []

    public init(title: String, folder: URL) {
        self.title = title
        self.folder = folder
    }

    static func escape(_ s: String) -> String { SVGChart.escape(s) }

    public func heading(_ text: String, level: Int = 2, id: String? = nil) {
        body.append("<h\(level)\(id.map { " id=\"\($0)\"" } ?? "")>\(Self.escape(text))</h\(level)>")
    }

    public func paragraph(_ text: String, className: String? = nil) {
        body.append("<p\(className.map { " class=\"\($0)\"" } ?? "")>\(Self.escape(text))</p>")
    }

    /// A table; the first row is the header.
    public func table(_ rows: [[String]], className: String = "data") {
        guard let head = rows.first else { return }
        var s = "<table class=\"\(className)\"><thead><tr>" + head.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows.dropFirst() { s += "<tr>" + row.map { "<td>\(Self.escape($0))</td>" }.joined() + "</tr>" }
        body.append(s + "</tbody></table>")
    }

    /// An SVG figure, inline and as `name.svg`.
    public func figure(svg: String, name: String, caption: String? = nil) throws {
        try Data(svg.utf8).write(to: folder.appendingPathComponent(name + ".svg"), options: .atomic)
        figureFiles.append(name + ".svg")
        body.append("<figure>\(svg)\(caption.map { "<figcaption>\(Self.escape($0))</figcaption>" } ?? "")</figure>")
    }

    /// Gray pictures in a row, inline as PNG and each as `name-k.png`.
    public func pictures(_ pngs: [(name: String, data: Data, width: Int, height: Int, scale: Double)], caption: String? = nil) throws {
        var s = "<figure class=\"pictures\">"
        for p in pngs {
            try p.data.write(to: folder.appendingPathComponent(p.name + ".png"), options: .atomic)
            figureFiles.append(p.name + ".png")
            s += "<img alt=\"\(Self.escape(p.name))\" width=\"\(Int(Double(p.width) * p.scale))\" height=\"\(Int(Double(p.height) * p.scale))\" src=\"data:image/png;base64,\(p.data.base64EncodedString())\"/>"
        }
        body.append(s + (caption.map { "<figcaption>\(Self.escape($0))</figcaption>" } ?? "") + "</figure>")
    }

    /// The page. A small script marks, once everything has loaded, how many images did not
    /// (`data-broken-images` on <body>), so a headless browser can check the page it rendered.
    public var html: String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
        <style>
        body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1400px; }
        table.data { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
        table.data td, table.data th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
        table.data th { background: #f0f0f0; }
        figure { margin: 8px 0 18px; }
        figure.pictures img { image-rendering: pixelated; margin-right: 6px; max-width: 100%; height: auto; border: 1px solid #ddd; vertical-align: top; }
        figcaption { font-size: 12px; color: #555; }
        p.note { font-size: 12px; color: #555; }
        </style></head>
        <body>
        <h1>\(Self.escape(title))</h1>
        \(body.joined(separator: "\n"))
        <script>
        window.addEventListener("load", function () {
          var broken = 0, images = document.images;
          for (var i = 0; i < images.length; i++) { if (!images[i].complete || images[i].naturalWidth === 0) broken++; }
          document.body.setAttribute("data-images", String(images.length));
          document.body.setAttribute("data-broken-images", String(broken));
        });
        </script>
        </body></html>
        """
    }

    public func write(name: String = "report.html") throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(html.utf8).write(to: url, options: .atomic)
        return url
    }
}
