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

    /// Phrases of the `foreign` voice set: none of them is in `phrases`.
    static let foreignPhrases = [
        "Okay, so we are going to start with the growth measurements today.",
        "Take a deep breath in, and hold it there for me.",
        "Right, the cord insertion looks normal.",
        "Could you roll slightly onto your left side?",
        "Amniotic fluid index is within the normal range.",
        "I'm just going to press a little harder here, sorry.",
        "Nuchal fold measures four point two millimetres.",
        "The cerebellum and the cisterna magna are both fine.",
        "We'll print a picture for you at the end.",
        "Hmm, baby is lying breech at the moment.",
        "Estimated fetal weight about six hundred grams.",
        "Everything you'd expect to see at twenty weeks is there.",
    ]
    /// espeak-ng voices of the `foreign` set (accents × variants).
    static let foreignVoices = [
        "en-us+f3", "en-gb-x-rp+m3", "en-gb-scotland+f2", "en-029+m4", "en-us-nyc+f4",
        "en-gb-x-gbclan+klatt4", "en+Annie", "en+belinda", "en+Andy", "en-gb-x-gbcwmd+f1",
    ]
    /// Voices of the second talker.
    static let secondVoices = ["en-us+m7", "en-gb+f5", "en-gb-scotland+m2", "en+Andrea"]

    let samples: [[Float]]  // per channel
    let utterances: [Utterance]

    /// Synthesises and mixes the track. `workDirectory` holds espeak-ng's temporary WAV files.
    init(spec: SampleSpec, workDirectory: URL) throws {
        var rng = SeededGenerator(seed: spec.seed, stream: 0xA0D10)
        // The newer options draw from streams of their own, so the original samples stay as they were.
        var extra = SeededGenerator(seed: spec.seed, stream: 0xF0E16)
        let n = spec.sampleCount
        var speech = [Float](repeating: 0, count: n)
        var utterances: [Utterance] = []
        var cache: [String: [Float]] = [:]
        let rate = spec.sampleRate
        var k = 0
        func voice(_ phrase: String, _ name: String, _ speed: Int, _ pitch: Int) throws -> [Float] {
            let key = "\(phrase)|\(name)|\(speed)|\(pitch)"
            if let cached = cache[key] { return cached }
            let v = try Self.synthesise(phrase, voice: name, speed: speed, pitch: pitch, rate: rate,
                                        wav: workDirectory.appendingPathComponent("utt\(k).wav"))
            cache[key] = v
            return v
        }
        let baseGain = Float(pow(10, (spec.speechDBFS + 20) / 20))
        var t = Int((0.4 + 1.2 * rng.nextUnit()) * Double(rate))
        while !spec.noSpeech {
            let foreign = spec.voices == .foreign
            let phrase = foreign ? Self.foreignPhrases[Int(rng.next() % UInt64(Self.foreignPhrases.count))]
                : Self.phrases[Int(rng.next() % UInt64(Self.phrases.count))]
            var speed = 150 + Int(rng.next() % 40)
            var pitch = 35 + Int(rng.next() % 30)
            var name = "en"
            if foreign {
                name = Self.foreignVoices[Int(extra.next() % UInt64(Self.foreignVoices.count))]
                speed = extra.nextUnit() < 0.5 ? 100 + Int(extra.next() % 35) : 205 + Int(extra.next() % 55)
                pitch = 10 + Int(extra.next() % 85)
            }
            let v = try voice(phrase, name, speed, pitch)
            k += 1
            guard t + v.count + rate / 4 < n else { break }
            let jitter = spec.speechJitterDB > 0 ? (2 * extra.nextUnit() - 1) * spec.speechJitterDB : 0
            let gain = baseGain * Float(pow(10, jitter / 20))
            for i in 0..<v.count { speech[t + i] += gain * v[i] }
            utterances.append(Utterance(text: phrase,
                                        startMicros: TimeMath.micros(ofSample: Int64(t), rate: rate),
                                        endMicros: TimeMath.micros(ofSample: Int64(t + v.count), rate: rate)))
            var pause = 0.6 + 4.4 * rng.nextUnit() * rng.nextUnit()  // mostly short, sometimes long
            if spec.longSilenceSeconds > 0, extra.nextUnit() < 1.0 / 6 {
                pause = spec.longSilenceSeconds * (0.5 + extra.nextUnit())
            }
            t += v.count + Int(pause * Double(rate))
        }
        // A second, quieter talker on a sparser schedule of its own (may overlap the first).
        if let below = spec.secondTalkerDB, !spec.noSpeech {
            var second = SeededGenerator(seed: spec.seed, stream: 0x2A1C)
            let gain = baseGain * Float(pow(10, -below / 20))
            var t2 = Int((1 + 4 * second.nextUnit()) * Double(rate))
            while true {
                let phrase = Self.phrases[Int(second.next() % UInt64(Self.phrases.count))]
                let name = Self.secondVoices[Int(second.next() % UInt64(Self.secondVoices.count))]
                let v = try voice(phrase, name, 130 + Int(second.next() % 60), 20 + Int(second.next() % 60))
                k += 1
                guard t2 + v.count + rate / 4 < n else { break }
                for i in 0..<v.count { speech[t2 + i] += gain * v[i] }
                utterances.append(Utterance(text: phrase,
                                            startMicros: TimeMath.micros(ofSample: Int64(t2), rate: rate),
                                            endMicros: TimeMath.micros(ofSample: Int64(t2 + v.count), rate: rate),
                                            talker: 2))
                t2 += v.count + Int((3 + 12 * second.nextUnit()) * Double(rate))
            }
            utterances.sort { $0.startMicros < $1.startMicros }
        }

        // Background at the requested SNR against the nominal speech RMS while speaking.
        let speechRMS: Float = 0.1 * baseGain
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
        if spec.noise == [.white] {
            // The original background: independent white noise per channel (and hum).
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
                    x[i] = v
                }
                channels.append(x)
            }
        } else {
            // One background bed (a room microphone), the same in every channel.
            var kinds = spec.noise
            if spec.hum, !kinds.contains(.hum) { kinds.append(.hum) }
            var bed = [Float](repeating: 0, count: n)
            for kind in kinds {
                var part = NoiseSynth.make(kind, count: n, rate: rate, seed: spec.seed)
                let rms = (part.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, n))).squareRoot()
                guard rms > 0 else { continue }
                let weight = Float((kind == .hum && kinds.count > 1 ? 0.4 : 1) / rms)
                for i in 0..<n { bed[i] += weight * part[i] }
                part = []
            }
            let bedRMS = (bed.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, n))).squareRoot()
            let bedScale = bedRMS > 0 ? noiseRMS / Float(bedRMS) : 0
            for c in 0..<spec.channels {
                let speechGain: Float = c == 0 ? 1 : 0.9
                var x = [Float](repeating: 0, count: n)
                for i in 0..<n { x[i] = speechGain * speech[i] + clicks[i] + bedScale * bed[i] }
                channels.append(x)
            }
        }
        // Level changes over the whole mix, then keep the peak below full scale.
        if spec.levelChangeDB > 0 {
            let curve = NoiseSynth.levelCurve(count: n, rate: rate, rangeDB: spec.levelChangeDB, seed: spec.seed)
            var peak: Float = 0
            for c in channels.indices {
                for i in 0..<n { channels[c][i] *= curve[i]; peak = max(peak, abs(channels[c][i])) }
            }
            if peak > 0.99 {
                let scale = 0.99 / peak
                for c in channels.indices { for i in 0..<n { channels[c][i] *= scale } }
            }
        }
        for c in channels.indices { for i in 0..<n { channels[c][i] = max(-1, min(1, channels[c][i])) } }
        self.samples = channels
        self.utterances = utterances
    }

    /// One phrase from espeak-ng, resampled, trimmed to its voiced part, scaled to RMS 0.1.
    static func synthesise(_ text: String, voice: String = "en", speed: Int, pitch: Int, rate: Int, wav: URL) throws -> [Float] {
        try ExternalTool.run("espeak-ng", ["-v", voice, "-s", "\(speed)", "-p", "\(pitch)", "-w", wav.path, text])
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
