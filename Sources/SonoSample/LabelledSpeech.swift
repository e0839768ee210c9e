import Foundation
import SonoCore

/// The sound of a labelled sample: in about `namedFraction` of the holds the sonographer names
/// the view ("this is the four chamber view"), in some of the rest and of the background spans
/// she says something generic, otherwise silence; over the same background noise as the plain
/// samples (white noise at `snrDB`, optional hum and clicks). espeak-ng, one voice per recording.
struct LabelledSpeech {
    static let naming: [SampleView: [String]] = [
        .threeVesselTrachea: ["This is the three vessel and trachea view.", "Three vessel view now."],
        .fourChamber: ["This is the four chamber view.", "Four chamber view of the heart."],
        .abdomen: ["Abdominal circumference, there is the stomach.", "Let's have a look at the abdomen."],
        .femur: ["Femur length now.", "Now measuring the femur."],
        .brainTransventricular: ["This is the transventricular plane.", "Head circumference, transventricular view."],
        .kidneys: ["Both kidneys are visible.", "Here are the kidneys."],
        .leftOutflowTract: ["Now the left ventricular outflow tract.", "This is the L V O T."],
        .lips: ["The lips look fine, no cleft.", "Here are the lips."],
        .profile: ["This is the profile of the face.", "Facial profile now."],
        .rightOutflowTract: ["And the right ventricular outflow tract.", "This is the R V O T."],
        .brainTranscerebellar: ["Checking the transcerebellar plane now.", "This is the cerebellum."],
        .spineCoronal: ["The spine in the coronal plane.", "Coronal view of the spine."],
        .spineSagittal: ["Here you can see the spine in the sagittal plane.", "Sagittal spine now."],
    ]
    static let generic = [
        "The baby is moving quite a lot today.",
        "Can you hold still for a moment please.",
        "Everything looks fine so far.",
        "Just a moment.",
        "Let me get a better angle.",
        "Okay, moving on.",
        "You are doing great.",
        "Placenta is anterior and clear of the cervix.",
    ]

    let samples: [[Float]]  // per channel
    let utterances: [Utterance]
    /// Per interval of the plan: what was said in it (nil: silence) and whether it names the view.
    let spoken: [(text: String, namesView: Bool)?]

    init(plan: LabelledPlan, workDirectory: URL) throws {
        let spec = plan.spec
        let rate = spec.sampleRate
        let n = spec.sampleCount
        var rng = SeededGenerator(seed: spec.seed, stream: 0x5EEC4)
        let speed = 150 + Int(rng.next() % 40)
        let pitch = 35 + Int(rng.next() % 30)
        var cache: [String: [Float]] = [:]
        var k = 0
        func voice(_ text: String) throws -> [Float] {
            if let cached = cache[text] { return cached }
            let v = try SpeechTrack.synthesise(text, speed: speed, pitch: pitch, rate: rate,
                                               wav: workDirectory.appendingPathComponent("labelled\(k).wav"))
            k += 1
            cache[text] = v
            return v
        }
        var speech = [Float](repeating: 0, count: n)
        var utterances: [Utterance] = []
        var spoken: [(text: String, namesView: Bool)?] = []
        // Holds that name their view: evenly spread at `namedFraction`, from a seeded phase.
        let phase = rng.nextUnit()
        var holdNumber = 0
        for interval in plan.intervals {
            let start = Int(interval.startSeconds * Double(rate)), end = min(n, Int(interval.endSeconds * Double(rate)))
            var candidates: [(String, Bool)] = []
            if interval.isHold {
                let f = plan.options.namedFraction
                let named = (Double(holdNumber + 1) * f + phase).rounded(.down) > (Double(holdNumber) * f + phase).rounded(.down)
                holdNumber += 1
                if named, let phrases = Self.naming[interval.label] {
                    let first = Int(rng.next() % UInt64(phrases.count))
                    candidates = (0..<phrases.count).map { (phrases[(first + $0) % phrases.count], true) }
                } else if rng.nextUnit() < 0.5 {
                    candidates = [(Self.generic[Int(rng.next() % UInt64(Self.generic.count))], false)]
                }
            } else if rng.nextUnit() < 0.3 {
                candidates = [(Self.generic[Int(rng.next() % UInt64(Self.generic.count))], false)]
            }
            let lead = Int((0.25 + 0.5 * rng.nextUnit()) * Double(rate))
            var said: (text: String, namesView: Bool)?
            for (text, names) in candidates {
                let v = try voice(text)
                let at = start + lead
                guard !v.isEmpty, at + v.count + rate / 5 <= end else { continue }
                for i in 0..<v.count { speech[at + i] += v[i] }
                utterances.append(Utterance(text: text, startMicros: TimeMath.micros(ofSample: Int64(at), rate: rate),
                                            endMicros: TimeMath.micros(ofSample: Int64(at + v.count), rate: rate)))
                said = (text, names)
                break
            }
            spoken.append(said)
        }

        // Background as in the plain samples: white noise at the SNR, hum, clicks.
        let speechRMS: Float = 0.1
        let noiseRMS = speechRMS / Float(pow(10, spec.snrDB / 20))
        var clicks = [Float](repeating: 0, count: n)
        if spec.clicksPerMinute > 0 {
            var clickRNG = SeededGenerator(seed: spec.seed, stream: 0xC11C)
            let length = rate / 250
            for _ in 0..<Int(spec.clicksPerMinute * spec.seconds / 60) {
                let at = Int(clickRNG.next() % UInt64(max(1, n - length)))
                for i in 0..<length where at + i < n {
                    clicks[at + i] += 0.5 * Float(clickRNG.nextGaussian()) * exp(-Float(i) / Float(length / 4))
                }
            }
        }
        var channels: [[Float]] = []
        for c in 0..<spec.channels {
            var noiseRNG = SeededGenerator(seed: spec.seed, stream: 0xB0 + UInt64(c))
            let speechGain: Float = c == 0 ? 1 : 0.9
            let humScale = spec.hum ? noiseRMS * 0.8 : 0
            let whiteScale = spec.hum ? noiseRMS * 0.6 : noiseRMS
            var x = [Float](repeating: 0, count: n)
            for i in 0..<n {
                var v = speechGain * speech[i] + clicks[i] + whiteScale * Float(noiseRNG.nextGaussian())
                if spec.hum {
                    let p = 2 * Float.pi * 50 * Float(i) / Float(rate)
                    v += humScale * (sin(p) + 0.5 * sin(3 * p) + 0.25 * sin(5 * p)) / 0.8
                }
                x[i] = max(-1, min(1, v))
            }
            channels.append(x)
        }
        samples = channels
        self.utterances = utterances
        self.spoken = spoken
    }
}
