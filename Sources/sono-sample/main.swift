import ArgumentParser
import SonoCLI
import SonoSample

/// `sono-sample`: makes a PULSE-like recording (video, speech, true speech intervals).
struct SonoSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sono-sample",
        abstract: "Make a deterministic ultrasound-like sample recording with spoken comments.")

    @Option(help: "Output directory.") var out: String
    @Option(help: "Recording name (file stem).") var name = "sample_scan"
    @Option(help: "Duration in seconds.") var seconds: Double = 60
    @Option(help: "Frame size WxH.") var size = "1008x784"
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "Audio sample rate (Hz).") var sampleRate = 48000
    @Option(help: "Audio channels.") var channels = 2
    @Option(help: "Speech-to-noise ratio in dB.") var snrDb: Double = 20
    @Flag(help: "Add 50 Hz mains hum to the background.") var hum = false
    @Option(help: "Short clicks per minute in the background.") var clicksPerMinute: Double = 0
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Write a one-row manifest CSV for this recording here.") var manifest: String?
    @OptionGroup(title: "Labelled samples") var labelledArguments: LabelledArguments

    func run() throws {
        let dims = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard dims.count == 2 else { throw ValidationError("--size must be WxH, e.g. 1008x784") }
        var spec = SampleSpec()
        spec.name = name; spec.seconds = seconds; spec.width = dims[0]; spec.height = dims[1]
        spec.framesPerSecond = fps; spec.sampleRate = sampleRate; spec.channels = channels
        spec.snrDB = snrDb; spec.hum = hum; spec.clicksPerMinute = clicksPerMinute; spec.seed = seed
        if let options = try labelledArguments.options() {
            let output = try LabelledSampleGenerator.generate(spec, options: options, into: out)
            if let manifest { try SampleGenerator.writeManifest(for: [output.sample], to: manifest) }
            let holds = output.plan.intervals.filter(\.isHold).count
            print("wrote \(output.sample.videoPath) (\(holds) holds, \(output.sample.annotation.utterances.count) utterances), \(output.planesPath) and \(output.gazePath)")
            return
        }
        let output = try SampleGenerator.generate(spec, into: out)
        if let manifest { try SampleGenerator.writeManifest(for: [output], to: manifest) }
        print("wrote \(output.videoPath) (\(output.annotation.utterances.count) utterances) and \(output.annotationPath)")
    }
}

SonoSampleCommand.mainWithStageExitCodes()
