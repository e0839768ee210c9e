/// One class of standard-plane detection: a short stable `id` (what labels, tables and JSON use)
/// and a descriptive `name`.
public struct PlaneClass: Hashable, Codable, Sendable {
    public let id: String
    public let name: String
    /// The "background" class: every frame that is no standard plane. Macro scores of the
    /// fetal-ultrasound group average over the planes only, so the class list must know which.
    public let isBackground: Bool

    public init(id: String, name: String, isBackground: Bool = false) {
        self.id = id
        self.name = name
        self.isBackground = isBackground
    }
}

/// An ordered list of classes: class index `i` (the integer label the probe predicts) is
/// `classes[i]`. Typed so the label ↔ index mapping lives in one place and a bad label is an
/// error naming it, not a silent -1.
public struct ClassList: Hashable, Codable, Sendable {
    public let classes: [PlaneClass]

    /// Ids must be unique and there must be at least two classes.
    public init(_ classes: [PlaneClass]) throws(ClassListError) {
        guard classes.count >= 2 else {
            throw ClassListError(reason: "need at least two classes, got \(classes.count)")
        }
        var seen = Set<String>()
        for c in classes where !seen.insert(c.id).inserted {
            throw ClassListError(reason: "class id \"\(c.id)\" appears twice")
        }
        self.classes = classes
    }

    private init(checked classes: [PlaneClass]) { self.classes = classes }

    /// The paper's 14 classes: 13 standard planes, then background (index 13).
    public static let paper = ClassList(checked: [
        PlaneClass(id: "3VT", name: "heart three-vessel and trachea"),
        PlaneClass(id: "4CH", name: "heart four-chamber"),
        PlaneClass(id: "abdomen", name: "abdomen"),
        PlaneClass(id: "femur", name: "femur"),
        PlaneClass(id: "brain-tv", name: "brain transventricular"),
        PlaneClass(id: "kidneys", name: "kidneys"),
        PlaneClass(id: "lvot", name: "heart LVOT"),
        PlaneClass(id: "lips", name: "lips"),
        PlaneClass(id: "profile", name: "profile"),
        PlaneClass(id: "rvot", name: "heart RVOT"),
        PlaneClass(id: "brain-cb", name: "brain transcerebellar"),
        PlaneClass(id: "spine-cor", name: "spine coronal"),
        PlaneClass(id: "spine-sag", name: "spine sagittal"),
        PlaneClass(id: "background", name: "background", isBackground: true),
    ])

    public var count: Int { classes.count }
    public var ids: [String] { classes.map(\.id) }
    public subscript(index: Int) -> PlaneClass { classes[index] }

    /// The index of a label, given as its id (exact) or its descriptive name (exact).
    public func index(of label: String) throws(ClassListError) -> Int {
        if let i = classes.firstIndex(where: { $0.id == label }) ?? classes.firstIndex(where: { $0.name == label }) {
            return i
        }
        throw ClassListError(reason: "unknown label '\(label)' (known: \(ids.joined(separator: ", ")))")
    }

    /// Indices of many labels; the first unknown one is the error.
    public func indices(of labels: [String]) throws(ClassListError) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(labels.count)
        for label in labels { out.append(try index(of: label)) }
        return out
    }

    /// Indices of every class but background: the classes macro scores average over.
    public var planeIndices: [Int] { classes.indices.filter { !classes[$0].isBackground } }
    public var allIndices: [Int] { Array(classes.indices) }
}

/// A class list that cannot be made, or a label it does not hold.
public struct ClassListError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
