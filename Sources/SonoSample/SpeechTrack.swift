import Foundation
import SonoCore
import SonoMedia

/// The sample recording's sound: espeak-ng comments of the kind a sonographer makes, between
/// silences of varying length, over low background noise.
struct SpeechTrack {
    static let phrases = [
        "This is the four chamber view of the heart.",
        "Now measuring the femur length.",
        "Here you can see the spine in the sagittal plane.",
        "The baby is moving quite a lot today.",
        "Let's have a look at the abdomen.",
        "That is the stomach bubble.",
        "Head circumference looks normal.",
        "Both kidneys are visible.",
        "I am looking for the three vessel view.",
        "The lips look fine, no cleft.",
        "Can you hold still for a moment please.",
        "Checking the transcerebellar plane now.",
        "This is the profile of the face.",
        "Placenta is anterior and clear of the cervix.",
        "Heart rate is one hundred and forty.",
        "Now the left ventricular outflow tract.",
    ]

    let samples: [[Float]]  // per channel
    let utterances: [Utterance]

    /// Synthesises and mixes the track. `workDirectory` holds espeak-ng's temporary WAV files.
    init(spec: SampleSpec, workDirectory: URL) throws {
        var rng = SeededGenerator(seed: spec.seed, stream: 0xA0D10)
        let n = spec.sampleCount
        var speech = [Float](repeating: 0, count: n)
        var utterances: [Utterance] = []
        var cache: [String: [Float]] = [:]
        let rate = spec.sampleRate
        var t = Int((0.4 + 1.2 * rng.nextUnit()) * Double(rate))
        var k = 0
        while true {
            let phrase = Self.phrases[Int(rng.next() % UInt64(Self.phrases.count))]
            let speed = 150 + Int(rng.next() % 40)
            let pitch = 35 + Int(rng.next() % 30)
            let key = "\(phrase)|\(speed)|\(pitch)"
            let voice: [Float]
            if let cached = cache[key] {
                voice = cached
            } else {
                voice = try Self.synthesise(phrase, speed: speed, pitch: pitch, rate: rate,
                                            wav: workDirectory.appendingPathComponent("utt\(k).wav"))
                cache[key] = voice
            }
            k += 1
            guard t + voice.count + rate / 4 < n else { break }
            for i in 0..<voice.count { speech[t + i] += voice[i] }
            utterances.append(Utterance(text: phrase,
                                        startMicros: TimeMath.micros(ofSample: Int64(t), rate: rate),
                                        endMicros: TimeMath.micros(ofSample: Int64(t + voice.count), rate: rate)))
            let pause = 0.6 + 4.4 * rng.nextUnit() * rng.nextUnit()  // mostly short, sometimes long
            t += voice.count + Int(pause * Double(rate))
        }

        // Background: white noise (and hum) at the requested SNR against speech RMS while speaking.
        let speechRMS: Float = 0.1
        let noiseRMS = speechRMS / Float(pow(10, spec.snrDB / 20))
        // Clicks: 4 ms decaying noise bursts at seeded times, same in every channel.
        var clicks = [Float](repeating: 0, count: n)
        if spec.clicksPerMinute > 0 {
            var clickRNG = SeededGenerator(seed: spec.seed, stream: 0xC11C)
            let count = Int(spec.clicksPerMinute * spec.seconds / 60)
            let length = rate / 250
            for _ in 0..<count {
                let at = Int(clickRNG.next() % UInt64(max(1, n - length)))
                for i in 0..<length {
                    clicks[at + i] += 0.5 * Float(clickRNG.nextGaussian()) * exp(-Float(i) / Float(length / 4))
                }
            }
        }
        var channels: [[Float]] = []
        for c in 0..<spec.channels {
            var noiseRNG = SeededGenerator(seed: spec.seed, stream: 0xB0 + UInt64(c))
            let speechGain: Float = c == 0 ? 1 : 0.9
            var x = [Float](repeating: 0, count: n)
            let humScale = spec.hum ? noiseRMS * 0.8 : 0
            let whiteScale = spec.hum ? noiseRMS * 0.6 : noiseRMS
            for i in 0..<n {
                var v = speechGain * speech[i] + clicks[i] + whiteScale * Float(noiseRNG.nextGaussian())
                if spec.hum {
                    let phase = 2 * Float.pi * 50 * Float(i) / Float(rate)
                    v += humScale * (sin(phase) + 0.5 * sin(3 * phase) + 0.25 * sin(5 * phase)) / 0.8
                }
                x[i] = max(-1, min(1, v))
            }
            channels.append(x)
        }
        self.samples = channels
        self.utterances = utterances
    }

    /// One phrase from espeak-ng, resampled, trimmed to its voiced part, scaled to RMS 0.1.
    static func synthesise(_ text: String, speed: Int, pitch: Int, rate: Int, wav: URL) throws -> [Float] {
        try ExternalTool.run("espeak-ng", ["-v", "en", "-s", "\(speed)", "-p", "\(pitch)", "-w", wav.path, text])
        let track = try AudioDecoder(path: wav.path, sampleRate: rate).decodeTrack(origin: 0, length: nil)
        var x = track.samples
        let peak = x.reduce(0) { max($0, abs($1)) }
        guard peak > 0 else { return [] }
        let threshold = 0.02 * peak
        let first = x.firstIndex { abs($0) > threshold } ?? 0
        let last = x.lastIndex { abs($0) > threshold } ?? (x.count - 1)
        x = Array(x[first...last])
        let rms = (x.reduce(0) { $0 + $1 * $1 } / Float(x.count)).squareRoot()
        let gain = 0.1 / max(rms, 1e-6)
        return x.map { $0 * gain }
    }
}
