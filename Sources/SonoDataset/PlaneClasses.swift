/// The classes of a labelled dataset, in index order: a label's index is its class id in
/// shards and probes.
public struct ClassList: Codable, Hashable, Sendable {
    public var names: [String]
    /// The class that is "no standard plane", kept as a class but left out of the plane means.
    public var background: String?

    public init(names: [String], background: String? = nil) {
        self.names = names
        self.background = background
    }

    public func index(of name: String) -> Int? { names.firstIndex(of: name) }

    /// The paper's 14 classes (Gridach et al., ISBI 2024; SonoNet's 13 standard planes + background).
    public static let fetalPlanes = ClassList(names: [
        "3VT",        // heart: three-vessel and trachea
        "4CH",        // heart: four-chamber
        "abdomen",
        "femur",
        "brain-tv",   // brain: transventricular plane
        "kidneys",
        "lvot",       // heart: left ventricular outflow tract
        "lips",
        "profile",
        "rvot",       // heart: right ventricular outflow tract
        "brain-cb",   // brain: transcerebellar plane
        "spine-cor",  // spine: coronal plane
        "spine-sag",  // spine: sagittal plane
        "background",
    ], background: "background")
}
