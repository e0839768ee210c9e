import Foundation
import SonoCore
import SonoModels
import SonoTrain

/// The report's training part (issue 19, item 2), from a run's JSON-lines log (`sono-train
/// --log`, `python -m sonodual.train --metrics`): each loss term, the learning rate, clips/s
/// and data wait over steps, and validation retrieval over steps. A log still being written is
/// read up to its last whole line, so the page can be made while the run goes on.
public struct TrainingLog: Sendable {
    public var name: String
    public var steps: [StepLog] = []
    public var validations: [ValidationReport] = []
    /// Lines that were not whole (the one being written) or not a known event.
    public var skippedLines = 0

    public init(name: String, path: String) throws {
        self.name = name
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(path: path, reason: "cannot read the training log") }
        let decoder = JSONDecoder()
        struct Validation: Decodable { var validation: ValidationReport }
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            if let v = try? decoder.decode(Validation.self, from: Data(line)) {
                validations.append(v.validation)
            } else if let s = try? decoder.decode(StepLog.self, from: Data(line)) {
                steps.append(s)
            } else {
                skippedLines += 1
            }
        }
        guard !steps.isEmpty || !validations.isEmpty else { throw InputError(path: path, reason: "no training steps or validations in it (not a sono-train log?)") }
    }
}

public struct TrainingSection: Sendable {
    public var logs: [TrainingLog]
    public init(logs: [TrainingLog]) { self.logs = logs }


    public func render(into page: HTMLPage) throws {
        guard !logs.isEmpty else { return }
        page.heading("Training", id: "training")
        for (k, log) in logs.enumerated() {
            let tag = "\(k)-\(DatasetSection.fileSafe(log.name))"
            let last = log.steps.last
            page.heading(log.name, level: 3)
            page.paragraph("\(log.steps.count) steps logged" + (last.map { String(format: ", last step %d (epoch %d): loss %.4f, %.1f clips/s, data wait %.3f", $0.step, $0.epoch, $0.loss, $0.clipsPerSecond, $0.dataWait) } ?? "")
                           + "; \(log.validations.count) validations" + (log.skippedLines > 0 ? "; \(log.skippedLines) lines not read (a run still writing?)" : "") + ".")
            let x = log.steps.map { Double($0.step) }
            func series(_ name: String, _ values: [Double?]) -> SVGChart.Series? {
                let points = zip(x, values).compactMap { p in p.1.map { (x: p.0, y: $0) } }
                return points.isEmpty ? nil : SVGChart.Series(name: name, points: points)
            }
            var lossSeries = [series("total", log.steps.map { Double($0.loss) })].compactMap { $0 }
            lossSeries += LossTerms.termNames.enumerated().compactMap { k, name in series(name, log.steps.map { $0.terms.named[k].value.map(Double.init) }) }
            try page.figure(svg: SVGChart.lines(lossSeries, title: "Loss terms", xLabel: "step", yLabel: "loss"), name: "train-\(tag)-loss")
            if let gaps = log.steps.first?.diagnostics?.gapToTrivial, !gaps.isEmpty {
                let names = gaps.keys.sorted()
                try page.figure(svg: SVGChart.lines(names.compactMap { n in series(n, log.steps.map { $0.diagnostics?.gapToTrivial[n] }) },
                                                    title: "Gap of each term to its trivial value (below 0: learning)", xLabel: "step", yLabel: "term − trivial"),
                                name: "train-\(tag)-gap")
            }
            try page.figure(svg: SVGChart.lines([series("lr", log.steps.map { Double($0.lr) })].compactMap { $0 }, title: "Learning rate", xLabel: "step", yLabel: "lr"),
                            name: "train-\(tag)-lr")
            try page.figure(svg: SVGChart.lines([series("clips/s", log.steps.map(\.clipsPerSecond))].compactMap { $0 }, title: "Throughput", xLabel: "step", yLabel: "clips/s"),
                            name: "train-\(tag)-throughput")
            try page.figure(svg: SVGChart.lines([series("data wait", log.steps.map(\.dataWait))].compactMap { $0 }, title: "Data wait (share of the step)", xLabel: "step", yLabel: "share"),
                            name: "train-\(tag)-datawait")
            if !log.validations.isEmpty {
                let vx = log.validations.map { Double($0.step) }
                /// The named validation metrics that were logged, and a chance line.
                func validation(_ names: [String], chance: (ValidationReport) -> Double, chanceName: String) -> [SVGChart.Series] {
                    names.compactMap { m -> SVGChart.Series? in
                        let points = zip(vx, log.validations).compactMap { p in p.1.metrics[m].map { (x: p.0, y: $0) } }
                        return points.isEmpty ? nil : SVGChart.Series(name: m, points: points)
                    } + [SVGChart.Series(name: chanceName, points: zip(vx, log.validations).map { (x: $0.0, y: chance($0.1)) })]
                }
                let recall = validation(["v2i_latent_r1", "v2a_latent_r1", "v2i_similarity_r1", "v2a_similarity_r1"],
                                        chance: { 1 / Double(max(1, $0.clips)) }, chanceName: "chance (1/N)")
                try page.figure(svg: SVGChart.lines(recall, title: "Validation retrieval R@1", xLabel: "step", yLabel: "R@1"), name: "train-\(tag)-recall")
                let ranks = validation(["v2i_latent_median_rank", "v2a_latent_median_rank"], chance: { Double($0.clips + 1) / 2 }, chanceName: "chance")
                try page.figure(svg: SVGChart.lines(ranks, title: "Validation median rank", xLabel: "step", yLabel: "median rank"), name: "train-\(tag)-rank")
            }
        }
    }
}
