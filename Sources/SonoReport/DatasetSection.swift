import Foundation
import SonoCatalog
import SonoCore
import SonoDataset
import SonoInspection
import SonoMedia
import SonoSegment
import SonoShards

/// The report's dataset part (issue 19, item 1): what the pipeline chose, per scan and overall,
/// drawn from the catalog and the shards.
public struct DatasetSection: Sendable {
    /// Datasets shown (latest versions); empty: every dataset's latest version.
    public var datasetNames: [String] = []
    /// Records read per dataset for the brightness and motion histograms (a seeded sample).
    public var histogramRecords = 400
    /// Sample clips shown per dataset.
    public var samplesPerDataset = 6
    /// At most this many scans get their crop drawn on a frame (decoding one frame each); nil: all.
    public var cropScans: Int?

    public init() {}

    /// Colours by what became of a clip: its split when extracted, its reason when rejected.
    static let splitColors: [Split: String] = [.train: "#2ca02c", .val: "#1f77b4", .test: "#9467bd"]
    static func color(_ reason: RejectReason) -> String {
        let colors = ["#d62728", "#ff7f0e", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#17becf"]
        return colors[(RejectReason.allCases.firstIndex(of: reason) ?? 0) % colors.count]
    }

    public func render(_ catalog: Catalog, into page: HTMLPage) throws {
        let all = try catalog.datasets()
        var datasets: [DatasetRecord] = []
        if datasetNames.isEmpty {
            for name in Set(all.map(\.name)).sorted() { datasets.append(try catalog.latestDataset(named: name)) }
        } else {
            datasets = try datasetNames.map { try catalog.latestDataset(named: $0) }
        }
        let recordings = try catalog.recordings()
        page.heading("Dataset", id: "dataset")
        page.paragraph("\(recordings.count) recordings (\(recordings.filter { $0.status == .partial }.count) partial, \(recordings.filter { $0.status == .failed }.count) failed); datasets: \(datasets.map(\.label).joined(separator: ", ")).")

        // Clips by dataset and scan, once.
        var clips: [Int64: [String: [ClipRecord]]] = [:]
        for d in datasets {
            guard let id = d.id else { continue }
            for r in recordings where r.status.isUsable {
                let list = try catalog.clips(datasetID: id, scanID: r.scanID)
                if !list.isEmpty { clips[id, default: [:]][r.scanID] = list }
            }
        }
        try counts(datasets, recordings, clips, page)
        try timelines(catalog, datasets, recordings, clips, page)
        try histograms(catalog, datasets, clips, page)
        try samples(catalog, datasets, clips, page)
        try crops(recordings, page)
    }

    private func counts(_ datasets: [DatasetRecord], _ recordings: [RecordingRecord], _ clips: [Int64: [String: [ClipRecord]]], _ page: HTMLPage) throws {
        page.heading("Counts", level: 3)
        var rows = [["dataset", "clips", "extracted", "rejected", "not extracted", "train", "val", "test", "rejected by reason"]]
        for d in datasets {
            let list = (clips[d.id ?? -1] ?? [:]).values.flatMap { $0 }
            let extracted = list.filter { $0.status == .extracted }
            var reasons: [String: Int] = [:]
            for c in list where c.status == .rejected { reasons[c.rejectReason?.rawValue ?? "?", default: 0] += 1 }
            rows.append([d.label, "\(list.count)", "\(extracted.count)", "\(list.filter { $0.status == .rejected }.count)",
                         "\(list.filter { $0.status == .planned }.count)"]
                        + [Split.train, .val, .test].map { s in "\(extracted.filter { $0.split == s }.count)" }
                        + [reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")])
        }
        page.table(rows)
        var scanRows = [["scan", "status", "duration (s)"] + datasets.map { "\($0.name): extracted / rejected" }]
        for r in recordings {
            let seconds = r.videoDurationMicros.map { String(format: "%.1f", TimeMath.seconds($0)) } ?? "-"
            scanRows.append([r.scanID, r.status.rawValue + (r.error.map { ": " + $0 } ?? ""), seconds] + datasets.map { d in
                let list = clips[d.id ?? -1]?[r.scanID] ?? []
                return "\(list.filter { $0.status == .extracted }.count) / \(list.filter { $0.status == .rejected }.count)"
            })
        }
        page.table(scanRows)
    }

    private func timelines(_ catalog: Catalog, _ datasets: [DatasetRecord], _ recordings: [RecordingRecord], _ clips: [Int64: [String: [ClipRecord]]], _ page: HTMLPage) throws {
        page.heading("Timelines", level: 3)
        page.paragraph("Per scan: the speech the detector found, and each dataset's clips, coloured by split when extracted and by reason when rejected (grey: planned, not extracted yet).", className: "note")
        var legend: [(String, String)] = [("speech", "#555")] + [Split.train, .val, .test].map { ("extracted, \($0.rawValue)", Self.splitColors[$0] ?? "#000") }
        legend += RejectReason.allCases.map { ("rejected: \($0.rawValue)", Self.color($0)) } + [("planned", "#bbb")]
        var damage: [String: ScanDamage] = [:]
        for d in datasets { if let id = d.id { damage.merge(try catalog.extractionDamage(datasetID: id)) { a, _ in a } } }
        legend.append(("damage: gap or corrupt packet", "#000"))
        for (k, r) in recordings.enumerated() where r.status.isUsable {
            var lanes: [SVGChart.Lane] = []
            if let spans = damage[r.scanID]?.videoSpans, !spans.isEmpty {
                lanes.append(.init(name: "damage", marks: spans.map {
                    .init(start: TimeMath.seconds($0.lowerBound), end: TimeMath.seconds($0.upperBound), color: "#000", kind: "damage",
                          title: String(format: "damage %.2f–%.2f s", TimeMath.seconds($0.lowerBound), TimeMath.seconds($0.upperBound)))
                }))
            }
            if let first = datasets.first(where: { clips[$0.id ?? -1]?[r.scanID] != nil }), let id = first.id {
                let speech = try catalog.speechIntervals(datasetID: id, scanID: r.scanID)
                lanes.append(.init(name: "speech", marks: speech.map {
                    .init(start: TimeMath.seconds($0.lowerBound), end: TimeMath.seconds($0.upperBound), color: "#555", kind: "speech",
                          title: String(format: "speech %.2f–%.2f s", TimeMath.seconds($0.lowerBound), TimeMath.seconds($0.upperBound)))
                }))
            }
            for d in datasets {
                let list = clips[d.id ?? -1]?[r.scanID] ?? []
                // Grid windows the planner did not keep: rejected for too little speech.
                var marks: [SVGChart.Lane.Mark] = []
                if let recipe = d.parsedRecipe, recipe.selection == .minSpeechRatio, !list.isEmpty, let probe = r.probeResult, let end = probe.videoEnd {
                    let kept = Set(list.map(\.startMicros))
                    for (s, e) in ClipPlanner.gridWindows(recipe, videoStart: probe.video.startTime, videoEnd: end) where !kept.contains(s) {
                        marks.append(.init(start: TimeMath.seconds(s), end: TimeMath.seconds(e), color: Self.color(.lowSpeech), kind: "window",
                                           title: "window \(String(format: "%.1f–%.1f s", TimeMath.seconds(s), TimeMath.seconds(e))): rejected at planning (low_speech)",
                                           attributes: ["dataset": d.name, "scan": r.scanID, "status": "rejected"]))
                    }
                }
                lanes.append(.init(name: d.name, marks: marks + list.map { c in
                    let color: String
                    switch c.status {
                    case .extracted: color = Self.splitColors[c.split] ?? "#000"
                    case .rejected: color = c.rejectReason.map(Self.color) ?? "#d62728"
                    default: color = "#bbb"
                    }
                    return .init(start: TimeMath.seconds(c.startMicros), end: TimeMath.seconds(c.endMicros), color: color, kind: "clip",
                                 title: "clip \(c.id ?? 0): \(c.status.rawValue)\(c.rejectReason.map { " (\($0.rawValue))" } ?? ""), speech \(String(format: "%.2f", c.speechRatio)), \(c.split.rawValue)",
                                 attributes: ["dataset": d.name, "scan": r.scanID, "status": c.status.rawValue])
                }))
            }
            let duration = TimeMath.seconds(r.videoDurationMicros ?? 0)
            var title = "\(r.scanID) (\(String(format: "%.0f", duration)) s)"
            if r.status == .partial { title += ": partial, \(r.error ?? "")" }
            try page.figure(svg: SVGChart.timeline(lanes, duration: duration, title: title, legend: legend), name: "timeline-\(k)-\(Self.fileSafe(r.scanID))")
        }
    }

    private func histograms(_ catalog: Catalog, _ datasets: [DatasetRecord], _ clips: [Int64: [String: [ClipRecord]]], _ page: HTMLPage) throws {
        page.heading("Distributions", level: 3)
        for d in datasets {
            let list = (clips[d.id ?? -1] ?? [:]).values.flatMap { $0 }
            guard !list.isEmpty else { continue }
            try page.figure(svg: SVGChart.histogram(list.map(\.speechRatio), bins: 20, range: 0...1, title: "\(d.name): speech ratio of planned clips", xLabel: "speech ratio"),
                            name: "speech-ratio-\(Self.fileSafe(d.name))")
            // Brightness and motion as the clip checks measure them (`ClipQuality`), on a sample of records.
            var brightness: [Double] = [], motion: [Double] = []
            let extracted = list.filter { $0.status == .extracted }.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
            let step = max(1, extracted.count / max(1, histogramRecords))
            var shards = ShardCache(catalog: catalog, dataset: d)
            for c in stride(from: 0, to: extracted.count, by: step).map({ extracted[$0] }) {
                guard let id = c.id, let (reader, slot) = try shards.record(ofClip: id) else { continue }
                guard let video = reader.layout.field(.video), video.shape.count == 3 else { break }
                let px = reader.record(slot).u8(.video)
                brightness.append(ClipQuality.brightness(px))
                motion.append(ClipQuality.activity(px, frames: video.shape[0]))
            }
            if !brightness.isEmpty {
                try page.figure(svg: SVGChart.histogram(brightness, title: "\(d.name): mean gray of extracted clips", xLabel: "mean gray (0–255)"),
                                name: "brightness-\(Self.fileSafe(d.name))")
                try page.figure(svg: SVGChart.histogram(motion, title: "\(d.name): motion of extracted clips", xLabel: "mean |Δgray| between sampled frames"),
                                name: "motion-\(Self.fileSafe(d.name))")
            }
        }
    }

    private func samples(_ catalog: Catalog, _ datasets: [DatasetRecord], _ clips: [Int64: [String: [ClipRecord]]], _ page: HTMLPage) throws {
        page.heading("Sample clips", level: 3)
        for d in datasets {
            let extracted = (clips[d.id ?? -1] ?? [:]).values.flatMap { $0 }.filter { $0.status == .extracted }.sorted { ($0.scanID, $0.startMicros) < ($1.scanID, $1.startMicros) }
            guard !extracted.isEmpty else { continue }
            let picks = (0..<min(samplesPerDataset, extracted.count)).map { extracted[$0 * extracted.count / min(samplesPerDataset, extracted.count)] }
            var shards = ShardCache(catalog: catalog, dataset: d)
            for c in picks {
                guard let id = c.id, let (reader, slot) = try shards.record(ofClip: id) else { continue }
                let pictures = RecordPictures.of(reader.record(slot), layout: reader.layout)
                let pngs = pictures.map { p in
                    (name: "sample-\(Self.fileSafe(d.name))-\(id)-\(p.name)", data: PNGWriter.gray(width: p.width, height: p.height, pixels: p.pixels),
                     width: p.width, height: p.height, scale: p.name == "logmel" ? 1.0 : (p.height <= 64 ? 2.0 : 1.0))
                }
                try page.pictures(pngs, caption: "\(d.name) clip \(id): scan \(c.scanID), \(String(format: "%.1f–%.1f s", TimeMath.seconds(c.startMicros), TimeMath.seconds(c.endMicros))), speech \(String(format: "%.2f", c.speechRatio)), \(c.split.rawValue); frames, still, log-mel")
            }
        }
    }

    private func crops(_ recordings: [RecordingRecord], _ page: HTMLPage) throws {
        let shown = recordings.filter { $0.status.isUsable }.prefix(cropScans ?? Int.max)
        guard !shown.isEmpty else { return }
        page.heading("Crops", level: 3)
        page.paragraph("The crop each scan's frames are cut to, drawn on its frame at 5 s (or its middle): white box.", className: "note")
        for r in shown {
            guard let w = r.width, let h = r.height, w > 0, h > 0 else { continue }
            let start = r.videoStartMicros ?? 0, duration = r.videoDurationMicros ?? 0
            let t = start + min(5_000_000, duration / 2)
            let scale = min(1.0, 480.0 / Double(w))
            let (ow, oh) = (max(1, Int(Double(w) * scale)), max(1, Int(Double(h) * scale)))
            let rotated = (r.rotation ?? 0) % 180 != 0
            let conversion = GrayConversion(width: rotated ? oh : ow, height: rotated ? ow : oh)
            guard let nominal = r.probeResult?.video.nominalFrameDuration,
                  var image = try? VideoDecoder.grab(path: r.videoPath, at: t, nominalFrameDuration: nominal, conversion: conversion) else {
                page.paragraph("\(r.scanID): no frame could be decoded at \(String(format: "%.1f", TimeMath.seconds(t))) s.", className: "note")
                continue
            }
            let crop = r.source.crop ?? CropRect(x: 0, y: 0, width: rotated ? h : w, height: rotated ? w : h)
            let s = Double(image.width) / Double(rotated ? h : w)
            Self.drawBox(&image, x: Int(Double(crop.x) * s), y: Int(Double(crop.y) * s), width: Int(Double(crop.width) * s), height: Int(Double(crop.height) * s))
            let how = r.cropSource.map { "\($0.rawValue)" + (r.cropMethod.map { ", \($0)" } ?? "") + (r.cropConfidence.map { String(format: ", confidence %.2f", $0) } ?? "") } ?? "whole frame"
            try page.pictures([(name: "crop-\(Self.fileSafe(r.scanID))", data: PNGWriter.gray(width: image.width, height: image.height, pixels: image.pixels),
                                width: image.width, height: image.height, scale: 1)],
                              caption: "\(r.scanID): crop \(crop) (\(how))")
        }
    }

    /// A dataset's shards opened once each, however many of their records are read.
    struct ShardCache {
        let catalog: Catalog
        let dataset: DatasetRecord
        private var open: [Int64: ShardReader] = [:]

        init(catalog: Catalog, dataset: DatasetRecord) {
            self.catalog = catalog
            self.dataset = dataset
        }

        /// The reader and slot of a clip's record; nil when it has none.
        mutating func record(ofClip id: Int64) throws -> (ShardReader, Int)? {
            guard let loc = try catalog.location(ofClip: id) else { return nil }
            if open[loc.shard.id ?? -1] == nil { open[loc.shard.id ?? -1] = try catalog.openShard(loc.shard, of: dataset) }
            return open[loc.shard.id ?? -1].map { ($0, loc.slot) }
        }
    }

    static func drawBox(_ image: inout GrayImage, x: Int, y: Int, width: Int, height: Int) {
        func set(_ px: Int, _ py: Int) {
            guard px >= 0, py >= 0, px < image.width, py < image.height else { return }
            image.pixels[py * image.width + px] = 255
        }
        for k in 0..<max(0, width) { for d in 0..<2 { set(x + k, y + d); set(x + k, y + height - 1 - d) } }
        for k in 0..<max(0, height) { for d in 0..<2 { set(x + d, y + k); set(x + width - 1 - d, y + k) } }
    }

    static func fileSafe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
