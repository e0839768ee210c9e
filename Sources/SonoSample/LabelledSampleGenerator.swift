import Foundation
import SonoCore

/// Makes LABELLED sample recordings, for testing evaluation (standard-plane detection, gaze
/// saliency) on material whose labels are known: the sector shows one synthetic standard view
/// per hold, between background spans, the speech names the view in about 60 % of the holds,
/// and a sonographer's gaze follows the structure. Writes, beside `<name>.mp4` and
/// `<name>.speech.json` (as `SampleGenerator`), `<name>.planes.csv` and `<name>.gaze.csv`.
public enum LabelledSampleGenerator {
    /// What was said in one interval of the plan.
    public struct Spoken: Hashable, Sendable {
        public var text: String
        /// Whether the phrase names the interval's view.
        public var namesView: Bool
    }

    public struct Output: Sendable {
        /// The video and the speech truth, as for a plain sample (usable with `writeManifest`).
        public var sample: SampleGenerator.Output
        public var planesPath: String
        public var gazePath: String
        public var plan: LabelledPlan
        /// Per interval of `plan.intervals`: what was said in it (nil: silence).
        public var spoken: [Spoken?]
    }

    public static func generate(_ spec: SampleSpec, options: LabelledOptions = LabelledOptions(),
                                into directory: String) throws -> Output {
        try spec.validate(directory: directory)
        guard !spec.name.isEmpty, spec.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw InputError(path: directory, reason: "labelled sample name '\(spec.name)' must be letters, digits, '.', '_' or '-' (it is the CSVs' scan_id)")
        }
        let plan = try LabelledPlan(spec: spec, options: options)
        return try SampleGenerator.withFolders(spec, directory) { dir, work in
            let speech = try LabelledSpeech(plan: plan, workDirectory: work)
            let video = LabelledVideo(plan: plan)
            // The same band as the plain samples: nothing in it gives the view away.
            let sample = try SampleGenerator.encode(spec, samples: speech.samples, utterances: speech.utterances,
                                                    bandHeight: plan.sector.bandHeight, into: dir, work: work) {
                video.render(frame: $0, into: &$1)
            }
            let planesURL = dir.appendingPathComponent("\(spec.name).planes.csv")
            let gazeURL = dir.appendingPathComponent("\(spec.name).gaze.csv")
            try planesCSV(plan).write(to: planesURL, atomically: true, encoding: .utf8)
            try gazeCSV(plan).write(to: gazeURL, atomically: true, encoding: .utf8)
            return Output(sample: sample,
                          planesPath: planesURL.path, gazePath: gazeURL.path, plan: plan,
                          spoken: speech.spoken.map { $0.map { Spoken(text: $0.text, namesView: $0.namesView) } })
        }
    }

    /// `scan_id,start_s,end_s,label`: the plan's intervals (ms precision), covering the video.
    public static func planesCSV(_ plan: LabelledPlan) -> String {
        var text = "scan_id,start_s,end_s,label\n"
        for i in plan.intervals {
            text += "\(plan.spec.name),\(String(format: "%.3f", i.startSeconds)),\(String(format: "%.3f", i.endSeconds)),\(i.label.rawValue)\n"
        }
        return text
    }

    /// `scan_id,time_s,x,y`: the gaze in displayed pixels of the full frame (0.1 px).
    public static func gazeCSV(_ plan: LabelledPlan) -> String {
        var text = "scan_id,time_s,x,y\n"
        text.reserveCapacity(plan.gaze.count * (plan.spec.name.count + 24))
        for g in plan.gaze {
            text += "\(plan.spec.name),\(String(format: "%.4f", g.time)),\(String(format: "%.1f", g.x)),\(String(format: "%.1f", g.y))\n"
        }
        return text
    }
}
