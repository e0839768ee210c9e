import SonoModels

/// Which width of the three encoders a run trains. Stored in checkpoints as its raw value.
public enum ModelSize: String, Codable, Sendable, CaseIterable {
    /// R(2+1)D-18, ResNet-18 and CNN14 as published.
    case full
    /// The same structure at twice the tiny width: the mid-width check of what a wider encoder
    /// learns in the time this machine allows (benchmarks/learning.py --model small).
    case small
    /// The same structure, narrow: demos and tests.
    case tiny

    /// First-stage channels of the video and image encoders, CNN14's first block, and the MMCL
    /// latent; nil: as published (64, 64, 64, 512). python/sonodual/models.py's SIZES mirrors it.
    private var widths: (video: Int, image: Int, audio: Int, latent: Int)? {
        switch self {
        case .full: nil
        case .small: (16, 16, 8, 64)
        case .tiny: (8, 8, 4, 32)
        }
    }

    var video: R2Plus1D18.Config { widths.map { .tiny(width: $0.video) } ?? .init() }
    var image: ResNet18.Config { widths.map { .tiny(width: $0.image) } ?? .init() }
    var audio: CNN14.Config { widths.map { .tiny(width: $0.audio) } ?? .init() }
    /// The MMCL latent's size where it is not the objective's own (512).
    var latent: Int? { widths?.latent }
}
