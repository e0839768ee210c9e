import Foundation
import SonoCore

/// Background sounds of an ultrasound room for the sample recordings, each deterministic from
/// the seed (one random stream per kind). Levels are arbitrary: the caller normalises.
enum NoiseSynth {
    static func make(_ kind: SampleSpec.NoiseKind, count n: Int, rate: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed, stream: 0x5E0 + UInt64(SampleSpec.NoiseKind.allCases.firstIndex(of: kind) ?? 0))
        let fs = Double(rate)
        switch kind {
        case .white:
            return (0..<n).map { _ in Float(rng.nextGaussian()) }
        case .pink:
            return pink(n, &rng)
        case .brown:
            return brown(n, rate: rate, &rng)
        case .fan:
            // Rumble: pink through a one-pole low-pass at 800 Hz.
            var x = pink(n, &rng)
            let a = Float(exp(-2 * Double.pi * 800 / fs))
            var y: Float = 0
            for i in 0..<n { y = a * y + (1 - a) * x[i]; x[i] = y }
            normalise(&x)
            // Blade-pass tone (80–140 Hz, harmonics 2 and 3) 6 dB below the rumble, ±2 dB wobble.
            let blade = 80 + 60 * rng.nextUnit()
            let table = periodTable(harmonics: [(1, 1), (2, 0.5), (3, 0.25)], length: 4096)
            let step = blade / fs * 4096
            let wobble = 0.2 + 0.4 * rng.nextUnit(), phase0 = 2 * Double.pi * rng.nextUnit()
            var phase = 0.0
            for i in 0..<n {
                let g = Float(pow(10, 2 * sin(2 * Double.pi * wobble * Double(i) / fs + phase0) / 20))
                x[i] = g * (x[i] + 0.5 * table[Int(phase) & 4095])
                phase += step
                if phase >= 4096 { phase -= 4096 }
            }
            return x
        case .room:
            var b = brown(n, rate: rate, &rng), p = pink(n, &rng)
            normalise(&b); normalise(&p)
            let period = 20 + 40 * rng.nextUnit(), phase0 = 2 * Double.pi * rng.nextUnit()
            for i in 0..<n {
                let g = Float(pow(10, 3 * sin(2 * Double.pi * Double(i) / fs / period + phase0) / 20))
                b[i] = g * (0.85 * b[i] + 0.5 * p[i])
            }
            return b
        case .hum:
            let f0 = rng.nextUnit() < 0.5 ? 50.0 : 60.0
            var harmonics: [(Int, Double)] = []
            for k in 1...9 where Double(k) * f0 < fs / 2 { harmonics.append((k, (k % 2 == 1 ? 1.0 : 0.5) / Double(k))) }
            let table = periodTable(harmonics: harmonics, length: 4096, rng: &rng)
            let step = f0 / fs * 4096
            var phase = 0.0
            var x = [Float](repeating: 0, count: n)
            for i in 0..<n { x[i] = table[Int(phase) & 4095]; phase += step; if phase >= 4096 { phase -= 4096 } }
            return x
        case .doppler:
            return doppler(n, rate: rate, &rng)
        case .music:
            return music(n, rate: rate, &rng)
        }
    }

    /// Paul Kellet's refined pink filter (±0.05 dB of 1/f above 9 Hz at 44.1 kHz).
    static func pink(_ n: Int, _ rng: inout SeededGenerator) -> [Float] {
        var b0 = 0.0, b1 = 0.0, b2 = 0.0, b3 = 0.0, b4 = 0.0, b5 = 0.0, b6 = 0.0
        var x = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let w = rng.nextGaussian()
            b0 = 0.99886 * b0 + w * 0.0555179; b1 = 0.99332 * b1 + w * 0.0750759
            b2 = 0.96900 * b2 + w * 0.1538520; b3 = 0.86650 * b3 + w * 0.3104856
            b4 = 0.55000 * b4 + w * 0.5329522; b5 = -0.7616 * b5 - w * 0.0168980
            x[i] = Float(b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362)
            b6 = w * 0.115926
        }
        return x
    }

    /// 1/f² noise: a leaky integrator of white noise, corner 20 Hz.
    static func brown(_ n: Int, rate: Int, _ rng: inout SeededGenerator) -> [Float] {
        let a = exp(-2 * Double.pi * 20 / Double(rate))
        var y = 0.0
        var x = [Float](repeating: 0, count: n)
        for i in 0..<n { y = a * y + rng.nextGaussian(); x[i] = Float(y) }
        return x
    }

    static func normalise(_ x: inout [Float]) {
        let rms = (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, x.count))).squareRoot()
        guard rms > 0 else { return }
        let g = Float(1 / rms)
        for i in x.indices { x[i] *= g }
    }

    /// One period of a sum of harmonics (k, amplitude), `length` points.
    static func periodTable(harmonics: [(Int, Double)], length: Int) -> [Float] {
        (0..<length).map { i in
            Float(harmonics.reduce(0.0) { $0 + $1.1 * sin(2 * Double.pi * Double($1.0 * i) / Double(length)) })
        }
    }

    static func periodTable(harmonics: [(Int, Double)], length: Int, rng: inout SeededGenerator) -> [Float] {
        let phases = harmonics.map { _ in 2 * Double.pi * rng.nextUnit() }
        return (0..<length).map { i in
            var v = 0.0
            for (j, h) in harmonics.enumerated() { v += h.1 * sin(2 * Double.pi * Double(h.0 * i) / Double(length) + phases[j]) }
            return Float(v)
        }
    }

    /// Pulsed-wave Doppler of a fetal heart: white noise through a resonance (Q 1.5) whose centre
    /// follows the beat's velocity envelope (250–1350 Hz), amplitude following it too; the
    /// machine's Doppler is on for 10–60 s stretches with 5–40 s off between (50 ms fades).
    static func doppler(_ n: Int, rate: Int, _ rng: inout SeededGenerator) -> [Float] {
        let fs = Double(rate)
        var x = [Float](repeating: 0, count: n)
        let bpm = 120 + 40 * rng.nextUnit()
        var beatPhase = 0.0, beatLength = 60 / bpm
        var low = 0.0, band = 0.0  // state-variable filter
        var on = true
        var switchAt = Int((10 + 50 * rng.nextUnit()) * fs)
        let fade = 0.05 * fs
        var onGain = 1.0
        for i in 0..<n {
            if i >= switchAt {
                on.toggle()
                switchAt = i + Int((on ? 10 + 50 * rng.nextUnit() : 5 + 35 * rng.nextUnit()) * fs)
            }
            onGain = on ? min(1, onGain + 1 / fade) : max(0, onGain - 1 / fade)
            // Velocity envelope of one beat: fast systolic rise, exponential fall, diastolic bump.
            let p = beatPhase / beatLength
            let env = (p < 0.06 ? p / 0.06 : exp(-(p - 0.06) / 0.12)) + 0.35 * exp(-pow((p - 0.62) / 0.08, 2)) + 0.08
            let fc = 250 + 1100 * min(1, env)
            let f = 2 * sin(Double.pi * fc / fs), q = 1 / 1.5
            let w = rng.nextGaussian()
            let high = w - low - q * band
            band += f * high
            low += f * band
            x[i] = Float(onGain * env * band)
            beatPhase += 1 / fs
            if beatPhase >= beatLength {
                beatPhase -= beatLength
                beatLength = 60 / bpm * (0.97 + 0.06 * rng.nextUnit())
            }
        }
        return x
    }

    /// Instrumental music: a pentatonic melody (A minor, 220–880 Hz, half and whole beats, 5 Hz
    /// vibrato) over a bass line (two beats a note), harmonic wavetable notes with attack,
    /// decay and release, at 90–130 beats per minute.
    static func music(_ n: Int, rate: Int, _ rng: inout SeededGenerator) -> [Float] {
        let fs = Double(rate)
        let table = periodTable(harmonics: (1...6).map { ($0, 1 / Double($0)) }, length: 4096)
        let beat = 60 / (90 + 40 * rng.nextUnit())
        let scale = [0, 3, 5, 7, 10].map { Double($0) }
        var x = [Float](repeating: 0, count: n)
        func render(_ from: Int, _ length: Int, _ freq: Double, _ amp: Double, vibrato: Bool, _ phase: inout Double) {
            let release = 0.08 * fs
            for j in 0..<length where from + j < n {
                let t = Double(j) / fs
                let attack = min(1, t / 0.01)
                let decay = 0.6 + 0.4 * exp(-t / 0.1)
                let tail = Double(length - j) < release ? Double(length - j) / release : 1
                let f = vibrato ? freq * (1 + 0.003 * sin(2 * Double.pi * 5 * t)) : freq
                x[from + j] += Float(amp * attack * decay * tail) * table[Int(phase) & 4095]
                phase += f / fs * 4096
                if phase >= 4096 { phase -= 4096 }
            }
        }
        var t = 0, melodyPhase = 0.0, degree = 5
        while t < n {
            degree = max(0, min(14, degree + Int(rng.next() % 5) - 2))
            let freq = 220 * pow(2, (12 * Double(degree / 5) + scale[degree % 5]) / 12)
            let length = Int((rng.nextUnit() < 0.6 ? 0.5 : 1) * beat * fs)
            render(t, length, freq, 1, vibrato: true, &melodyPhase)
            t += length
        }
        var tb = 0, bassPhase = 0.0
        let roots = [0.0, 5, 7, 3]
        while tb < n {
            let freq = 55 * pow(2, roots[Int(rng.next() % 4)] / 12)
            let length = Int(2 * beat * fs)
            render(tb, length, freq, 0.7, vibrato: false, &bassPhase)
            tb += length
        }
        return x
    }

    /// Gain curve (linear) for level changes: knots in ±rangeDB, 20–60 s apart (a quarter of the
    /// recording at most), joined by 1–3 s linear ramps in dB.
    static func levelCurve(count n: Int, rate: Int, rangeDB: Double, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed, stream: 0x1E7E1)
        let fs = Double(rate)
        let seconds = Double(n) / fs
        let maxGap = min(60, max(2, seconds / 4)), minGap = min(20, maxGap / 2)
        var curve = [Float](repeating: 1, count: n)
        var level = (2 * rng.nextUnit() - 1) * rangeDB
        var i = 0
        while i < n {
            let hold = Int((minGap + (maxGap - minGap) * rng.nextUnit()) * fs)
            let ramp = Int((1 + 2 * rng.nextUnit()) * fs)
            let next = (2 * rng.nextUnit() - 1) * rangeDB
            for j in 0..<hold where i + j < n { curve[i + j] = Float(pow(10, level / 20)) }
            i += hold
            for j in 0..<ramp where i + j < n {
                let db = level + (next - level) * Double(j) / Double(ramp)
                curve[i + j] = Float(pow(10, db / 20))
            }
            i += ramp
            level = next
        }
        return curve
    }
}
