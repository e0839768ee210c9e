/// Time units and every rounding between them, in one place.
///
/// Catalog times are integers: microseconds on a recording's presentation timeline, video frame
/// indices, audio sample indices. Conversions round to nearest (ties away from zero) and use
/// full-width arithmetic so absurd time bases cannot overflow silently.

/// Microseconds on a presentation timeline.
public typealias Microseconds = Int64

/// An exact rational number, e.g. a stream time base (1/90000) or a frame rate (30000/1001).
public struct Rational: Hashable, Sendable, Codable, CustomStringConvertible {
    public var num: Int64
    public var den: Int64

    public init(_ num: Int64, _ den: Int64) {
        self.num = num
        self.den = den
    }

    /// True when the value is a finite positive number (den ≠ 0, same signs).
    public var isPositive: Bool { den != 0 && num != 0 && (num > 0) == (den > 0) }

    public var doubleValue: Double { den == 0 ? .nan : Double(num) / Double(den) }

    public var description: String { "\(num)/\(den)" }

    /// `value × self`, rescaled to the unit `1/unitDenominator` and rounded to nearest;
    /// nil on division by zero or overflow.
    ///
    /// `Rational(1, 90000).scale(180000, toUnit: 1_000_000)` is 2_000_000 (2 s in µs).
    public func scale(_ value: Int64, toUnit unitDenominator: Int64) -> Int64? {
        guard den != 0 else { return nil }
        // value * num * unit / den, exactly, with rounding to nearest.
        let (n1, o1) = value.multipliedReportingOverflow(by: num)
        let (n2, o2) = n1.multipliedReportingOverflow(by: unitDenominator)
        if !o1 && !o2 {
            return Self.divideRounded(n2, den)
        }
        let exact = Double(value) * Double(num) * Double(unitDenominator) / Double(den)
        guard exact.isFinite, abs(exact) < 9.0e18 else { return nil }
        return Int64(exact.rounded())
    }

    /// Integer division rounded to nearest, ties away from zero.
    static func divideRounded(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        let r = a % b
        if r == 0 { return q }
        let twiceR = r.magnitude * 2
        if twiceR >= b.magnitude {
            return q + (((a < 0) != (b < 0)) ? -1 : 1)
        }
        return q
    }
}

/// Conversions between microseconds and sample (or frame) indices at an integer rate.
public enum TimeMath {
    public static let microsPerSecond: Int64 = 1_000_000

    /// The index of the sample at time `t` (µs after sample 0) at `rate` samples/s, rounded to nearest.
    public static func sampleIndex(at t: Microseconds, rate: Int) -> Int64 {
        Rational(Int64(rate), microsPerSecond).scale(t, toUnit: 1) ?? 0
    }

    /// The time in µs of sample `index` at `rate` samples/s, rounded to nearest.
    public static func micros(ofSample index: Int64, rate: Int) -> Microseconds {
        Rational(1, Int64(rate)).scale(index, toUnit: microsPerSecond) ?? 0
    }

    public static func seconds(_ t: Microseconds) -> Double { Double(t) / 1e6 }

    public static func micros(seconds: Double) -> Microseconds { Int64((seconds * 1e6).rounded()) }
}

extension Duration {
    /// The duration in seconds, as a Double (for reports, never for catalog keys).
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
