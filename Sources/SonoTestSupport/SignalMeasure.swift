import Foundation
import SonoCore

/// Measurements on decoded audio.
public enum SignalMeasure {
    public static func rms<C: Collection>(_ x: C) -> Double where C.Element == Float {
        guard !x.isEmpty else { return 0 }
        return (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)).squareRoot()
    }

    /// Frequency from upward zero crossings (good for a clean tone).
    public static func toneFrequency(_ x: [Float], sampleRate: Int) -> Double {
        var crossings: [Double] = []
        for i in 1..<x.count where x[i - 1] < 0 && x[i] >= 0 {
            let frac = Double(-x[i - 1]) / Double(x[i] - x[i - 1])
            crossings.append(Double(i - 1) + frac)
        }
        guard let first = crossings.first, let last = crossings.last, crossings.count > 1 else { return 0 }
        return Double(crossings.count - 1) / ((last - first) / Double(sampleRate))
    }

    /// First sample where the RMS over a 1 ms window reaches `fraction` of `level`.
    public static func onset(_ x: [Float], sampleRate: Int, level: Double, fraction: Double = 0.5) -> Int? {
        let w = max(1, sampleRate / 1000)
        var energy = 0.0
        for i in 0..<x.count {
            energy += Double(x[i]) * Double(x[i])
            if i >= w { energy -= Double(x[i - w]) * Double(x[i - w]) }
            if i >= w - 1, (max(energy, 0) / Double(w)).squareRoot() >= fraction * level { return i - w / 2 }
        }
        return nil
    }
}
