import Foundation
import SonoCore

/// The views a labelled sample can draw: one per class of the paper's 14 (13 planes and
/// background), whose raw values are the ids of `SonoDataset.ClassList.paper` (a test keeps
/// the two equal; the class list is the owner of the ids).
public enum SampleView: String, CaseIterable, Hashable, Sendable, Codable {
    case threeVesselTrachea = "3VT"
    case fourChamber = "4CH"
    case abdomen
    case femur
    case brainTransventricular = "brain-tv"
    case kidneys
    case leftOutflowTract = "lvot"
    case lips
    case profile
    case rightOutflowTract = "rvot"
    case brainTranscerebellar = "brain-cb"
    case spineCoronal = "spine-cor"
    case spineSagittal = "spine-sag"
    case background

    /// The 13 planes (every class but background).
    public static var planes: [SampleView] { allCases.filter { $0 != .background } }

    /// The views a labelled sample shows unless told otherwise.
    public static let defaultViews: [SampleView] = [
        .brainTransventricular, .fourChamber, .abdomen, .femur, .spineSagittal, .threeVesselTrachea,
    ]

    /// Parses a comma-separated list of plane ids (e.g. "4CH,femur"); `option` names the
    /// option or file in the error. Background is not a view (it lies between the holds).
    public static func parseViews(_ text: String, option: String) throws -> [SampleView] {
        var views: [SampleView] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let id = raw.trimmingCharacters(in: .whitespaces)
            guard let view = SampleView(rawValue: id), view != .background else {
                let known = planes.map(\.rawValue).joined(separator: ", ")
                throw InputError(path: option, reason: id.isEmpty ? "empty view id in '\(text)' (known: \(known))"
                                 : id == "background" ? "background is not a view: it is drawn between the holds"
                                 : "unknown view '\(id)' (known: \(known))")
            }
            guard !views.contains(view) else { throw InputError(path: option, reason: "view \(id) is listed twice") }
            views.append(view)
        }
        return views
    }
}

/// How a labelled sample recording is laid out: which views it holds, for how long, how often
/// the speech names them, and the gaze rate. Same options and spec ⇒ same labels and media.
public struct LabelledOptions: Hashable, Sendable, Codable {
    /// The views shown, each hold one of them (dealt in seeded shuffled rounds).
    public var views: [SampleView] = SampleView.defaultViews
    /// Length of a hold on a view, drawn uniformly in this range (s).
    public var holdSeconds: ClosedRange<Double> = 3...8
    /// Length of the background spans (probe moving, no structure) between holds (s).
    public var backgroundSeconds: ClosedRange<Double> = 1...3
    /// Fraction of holds in which the speech names the view (where the phrase fits in the hold).
    public var namedFraction: Double = 0.6
    /// Gaze samples per second; nil: the video's frame rate.
    public var gazeRate: Double? = nil

    public init() {}

    /// Checks the options; errors name `source` (an option or file).
    public func validate(source: String) throws {
        guard !views.isEmpty else { throw InputError(path: source, reason: "labelled samples need at least one view") }
        guard !views.contains(.background) else {
            throw InputError(path: source, reason: "background is not a view: it is drawn between the holds")
        }
        guard Set(views).count == views.count else { throw InputError(path: source, reason: "a view is listed twice") }
        guard holdSeconds.lowerBound.isFinite, holdSeconds.upperBound.isFinite, holdSeconds.lowerBound >= 0.5,
              holdSeconds.upperBound <= 600 else {
            throw InputError(path: source, reason: "hold seconds \(holdSeconds) must lie within 0.5…600")
        }
        guard backgroundSeconds.lowerBound.isFinite, backgroundSeconds.upperBound.isFinite,
              backgroundSeconds.lowerBound >= 0.1, backgroundSeconds.upperBound <= 600 else {
            throw InputError(path: source, reason: "background seconds \(backgroundSeconds) must lie within 0.1…600")
        }
        guard namedFraction.isFinite, (0...1).contains(namedFraction) else {
            throw InputError(path: source, reason: "named fraction \(namedFraction) must lie within 0…1")
        }
        if let gazeRate {
            guard gazeRate.isFinite, gazeRate >= 1, gazeRate <= 1000 else {
                throw InputError(path: source, reason: "gaze rate \(gazeRate) Hz must lie within 1…1000")
            }
        }
    }
}
