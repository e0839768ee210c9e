import ArgumentParser
import SonoCLI
import Foundation
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
    @Option(help: "Background noise kinds, comma-separated: \(SampleSpec.NoiseKind.allCases.map(\.rawValue).joined(separator: ",")).")
    var noise = "white"
    @Option(help: "Speech level (RMS while speaking) in dBFS.") var speechDbfs: Double = -20
    @Option(help: "Per-utterance speech level spread, ± dB.") var speechJitterDb: Double = 0
    @Option(help: "Level changes of the whole mix within ± this many dB (0: none).") var levelChangeDb: Double = 0
    @Option(help: "About one pause in six lasts this many seconds (0: none).") var longSilenceS: Double = 0
    @Flag(help: "No speech at all.") var noSpeech = false
    @Option(help: "espeak-ng voice set: standard|foreign.") var voices = "standard"
    @Option(help: "Add a second talker this many dB quieter.") var secondTalkerDb: Double?
    @Option(help: "Audio codec: aac|mp3.") var audioCodec = "aac"
    @Option(help: "Audio bit rate in kb/s.") var audioKbps = 128
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Write a one-row manifest CSV for this recording here.") var manifest: String?
    @Option(help: "Screen layout, comma-separated: fan|linear, x=F (sector centre, fraction of the width), width=F, changing UI: \(ScreenLayout.Element.allCases.map(\.rawValue).joined(separator: ",")), and stretches freeze=S-E (image frozen) and off=S-E (probe lifted), in seconds, while the UI goes on. The sector's box goes in NAME.speech.json.")
    var screen: String?
    @OptionGroup(title: "Labelled samples") var labelledArguments: LabelledArguments

    func run() throws {
        let dims = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard dims.count == 2 else { throw ValidationError("--size must be WxH, e.g. 1008x784") }
        var spec = SampleSpec()
        spec.name = name; spec.seconds = seconds; spec.width = dims[0]; spec.height = dims[1]
        spec.framesPerSecond = fps; spec.sampleRate = sampleRate; spec.channels = channels
        spec.snrDB = snrDb; spec.hum = hum; spec.clicksPerMinute = clicksPerMinute; spec.seed = seed
        spec.noise = try noise.split(separator: ",").map { name in
            guard let kind = SampleSpec.NoiseKind(rawValue: String(name).trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--noise: unknown kind '\(name)'")
            }
            return kind
        }
        guard !spec.noise.isEmpty else { throw ValidationError("--noise needs at least one kind") }
        guard let voiceSet = SampleSpec.VoiceSet(rawValue: voices) else { throw ValidationError("--voices must be standard or foreign") }
        guard let codec = SampleSpec.AudioCodec(rawValue: audioCodec) else { throw ValidationError("--audio-codec must be aac or mp3") }
        spec.speechDBFS = speechDbfs; spec.speechJitterDB = speechJitterDb; spec.levelChangeDB = levelChangeDb
        spec.longSilenceSeconds = longSilenceS; spec.noSpeech = noSpeech; spec.voices = voiceSet
        spec.secondTalkerDB = secondTalkerDb; spec.audioCodec = codec; spec.audioKilobitsPerSecond = audioKbps
        if let screen { spec.screen = try ScreenLayout(parsing: screen, option: "--screen") }
        if let options = try labelledArguments.options() {
            guard spec.screen == nil else { throw ValidationError("--screen is for unlabelled samples (not with --labelled)") }
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
