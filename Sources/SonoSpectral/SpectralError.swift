import SonoCore

/// Audio that cannot become a spectrogram (empty, non-finite, wrong rate), naming its source.
public struct SpectralError: PathError, Equatable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}
