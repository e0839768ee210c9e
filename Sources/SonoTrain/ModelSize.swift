import SonoModels

/// Which width of the three encoders a run trains. Stored in checkpoints as its raw value.
public enum ModelSize: String, Codable, Sendable, CaseIterable {
    /// R(2+1)D-18, ResNet-18 and CNN14 as published.
    case full
    /// The same structure, narrow: demos and tests.
    case tiny

    var video: R2Plus1D18.Config { self == .tiny ? .tiny() : .init() }
    var image: ResNet18.Config { self == .tiny ? .tiny() : .init() }
    var audio: CNN14.Config { self == .tiny ? .tiny() : .init() }
}
