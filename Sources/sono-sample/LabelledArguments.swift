import ArgumentParser
import SonoCore
import SonoSample

/// The options of `sono-sample --labelled` (labelled views, plane intervals, gaze).
struct LabelledArguments: ParsableArguments {
    @Flag(help: "Labelled mode: synthetic standard views in holds between background spans; also writes NAME.planes.csv and NAME.gaze.csv.")
    var labelled = false
    @Option(help: "With --labelled: comma-separated views, e.g. 4CH,femur (default brain-tv,4CH,abdomen,femur,spine-sag,3VT; any of \(SampleView.planes.map(\.rawValue).joined(separator: ","))).")
    var views: String?
    @Option(help: "With --labelled: hold length range MIN,MAX in seconds (default 3,8).")
    var holdSeconds: String?
    @Option(help: "With --labelled: background span length range MIN,MAX in seconds (default 1,3).")
    var backgroundSeconds: String?
    @Option(help: "With --labelled: fraction of holds whose view the speech names (default 0.6).")
    var namedFraction: Double?
    @Option(help: "With --labelled: gaze samples per second (default: the frame rate).")
    var gazeHz: Double?

    mutating func validate() throws { _ = try options() }

    /// The labelled options, or nil without --labelled. Errors name the option.
    func options() throws -> LabelledOptions? {
        guard labelled else {
            let given = [("--views", views != nil), ("--hold-seconds", holdSeconds != nil),
                         ("--background-seconds", backgroundSeconds != nil), ("--named-fraction", namedFraction != nil),
                         ("--gaze-hz", gazeHz != nil)].filter(\.1).map(\.0)
            if let first = given.first { throw ValidationError("\(first) needs --labelled") }
            return nil
        }
        var options = LabelledOptions()
        do {
            if let views { options.views = try SampleView.parseViews(views, option: "--views") }
        } catch let error as InputError {
            throw ValidationError("--views: \(error.reason)")
        }
        if let holdSeconds { options.holdSeconds = try Self.range(holdSeconds, option: "--hold-seconds", minimum: 0.5) }
        if let backgroundSeconds {
            options.backgroundSeconds = try Self.range(backgroundSeconds, option: "--background-seconds", minimum: 0.1)
        }
        if let namedFraction {
            guard namedFraction.isFinite, (0...1).contains(namedFraction) else {
                throw ValidationError("--named-fraction must lie within 0…1, got \(namedFraction)")
            }
            options.namedFraction = namedFraction
        }
        if let gazeHz {
            guard gazeHz.isFinite, gazeHz >= 1, gazeHz <= 1000 else { throw ValidationError("--gaze-hz must lie within 1…1000, got \(gazeHz)") }
            options.gazeRate = gazeHz
        }
        return options
    }

    static func range(_ text: String, option: String, minimum: Double) throws -> ClosedRange<Double> {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low.isFinite, high.isFinite,
              low >= minimum, low <= high, high <= 600 else {
            throw ValidationError("\(option) must be MIN,MAX seconds with \(minimum) ≤ MIN ≤ MAX ≤ 600, got '\(text)'")
        }
        return low...high
    }
}
