/// Why an evaluation could not run: every case names the label, option or array at fault, so a
/// message reads as something the user can fix ("option C: must be > 0, got -1").
public enum EvalError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A class label that the class list does not hold.
    case unknownClass(label: String, known: [String])
    /// An option (C, folds, grid, class weights, ...) with a value it cannot take.
    case invalidOption(name: String, reason: String)
    /// An array whose length disagrees with the one it goes with (labels vs feature rows, ...).
    case sizeMismatch(name: String, expected: Int, actual: Int)
    /// A label outside 0..<classCount.
    case labelOutOfRange(name: String, label: Int, classCount: Int)
    /// Fewer than two classes to tell apart (sklearn refuses these too).
    case tooFewClasses(name: String, present: [Int])
    /// Fewer groups (scans) than cross-validation folds.
    case tooFewGroups(groups: Int, folds: Int)

    public var description: String {
        switch self {
        case let .unknownClass(label, known):
            return "unknown class label \"\(label)\"; known: \(known.joined(separator: ", "))"
        case let .invalidOption(name, reason):
            return "option \(name): \(reason)"
        case let .sizeMismatch(name, expected, actual):
            return "\(name): expected \(expected) values, got \(actual)"
        case let .labelOutOfRange(name, label, classCount):
            return "\(name): label \(label) is outside 0..<\(classCount)"
        case let .tooFewClasses(name, present):
            return "\(name): a classifier needs at least two classes, found \(present)"
        case let .tooFewGroups(groups, folds):
            return "grouped cross-validation: \(folds) folds need at least \(folds) scans, found \(groups)"
        }
    }
}
