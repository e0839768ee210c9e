import CFFmpeg
import SonoCore

/// A recording that cannot be used, with the file and the reason (FFmpeg's own words where
/// FFmpeg said no). The kind lets callers decide policy (e.g. a scan without audio is failed
/// at ingest) without parsing text.
public struct MediaError: PathError, Equatable {
    public enum Kind: String, Sendable, Codable {
        case notFound, emptyFile, unreadable, noVideoStream, noAudioStream
        case unsupported, truncated, absurdMetadata, decodeFailed
    }

    public let kind: Kind
    public let path: String
    public let reason: String
    /// FFmpeg's error code where one was returned.
    public let code: Int32?

    public init(_ kind: Kind, path: String, reason: String, code: Int32? = nil) {
        self.kind = kind
        self.path = path
        self.reason = reason
        self.code = code
    }
}

/// FFmpeg's text for an error code. The corresponding C function is `av_strerror`.
func ffmpegErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(AV_ERROR_MAX_STRING_SIZE))
    if av_strerror(code, &buffer, buffer.count) < 0 { return "unknown FFmpeg error \(code)" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The one place that turns an FFmpeg return code into a `MediaError`: negative codes throw,
/// with the function named, e.g. "Invalid data found when processing input (avformat_open_input)".
@discardableResult
func check(_ rc: Int32, _ function: String, path: String, kind: MediaError.Kind = .decodeFailed) throws -> Int32 {
    if rc < 0 {
        throw MediaError(kind, path: path, reason: "\(ffmpegErrorText(rc)) (\(function))", code: rc)
    }
    return rc
}

enum FFmpegCodes {
    static let eof = shim_averror_eof()
    static let again = shim_averror_eagain()
    static let noPTS = shim_av_nopts_value()
}
