/// What a probe learns about a recording: plain values, stored in the catalog as JSON.

/// Facts about a recording's video stream, as the container and codec headers state them.
public struct VideoStreamInfo: Hashable, Sendable, Codable {
    /// One frame at the stated rate (µs): the average rate, else the real one, else 30 fps. What
    /// decoding assumes for a frame without a timestamp and for the last frame's span.
    public var nominalFrameDuration: Microseconds {
        let rate = averageFrameRate ?? realFrameRate ?? Rational(30, 1)
        return Rational(rate.den, rate.num).scale(1, toUnit: 1_000_000) ?? 33_333
    }

    public var codec: String
    /// Coded size, before rotation.
    public var width: Int
    public var height: Int
    public var pixelFormat: String
    /// `avg_frame_rate`: frames ÷ duration; nil when the container does not say.
    public var averageFrameRate: Rational?
    /// `r_frame_rate`: the lowest rate that represents all timestamps; can be absurd for VFR.
    public var realFrameRate: Rational?
    /// Frames in the stream where the container records it (MP4 does; MKV often does not).
    public var frameCount: Int64?
    /// Clockwise rotation to apply for display: 0, 90, 180 or 270.
    public var rotation: Int
    public var timeBase: Rational
    /// Presentation time of the first frame (µs).
    public var startTime: Microseconds
    /// Stream duration (µs) where known.
    public var duration: Microseconds?

    public init(codec: String, width: Int, height: Int, pixelFormat: String, averageFrameRate: Rational?,
                realFrameRate: Rational?, frameCount: Int64?, rotation: Int, timeBase: Rational,
                startTime: Microseconds, duration: Microseconds?) {
        self.codec = codec; self.width = width; self.height = height; self.pixelFormat = pixelFormat
        self.averageFrameRate = averageFrameRate; self.realFrameRate = realFrameRate
        self.frameCount = frameCount; self.rotation = rotation; self.timeBase = timeBase
        self.startTime = startTime; self.duration = duration
    }

    /// Frame size as displayed, after rotation.
    public var displayWidth: Int { rotation % 180 == 0 ? width : height }
    public var displayHeight: Int { rotation % 180 == 0 ? height : width }
}

/// Facts about the audio stream a scan's speech comes from.
public struct AudioStreamInfo: Hashable, Sendable, Codable {
    /// The file holding it (the video itself or a separate audio file).
    public var path: String
    public var codec: String
    public var sampleRate: Int
    public var channels: Int
    /// Presentation time of the first sample on the video's timeline (µs), offset included.
    public var startTime: Microseconds
    public var duration: Microseconds?

    public init(path: String, codec: String, sampleRate: Int, channels: Int, startTime: Microseconds, duration: Microseconds?) {
        self.path = path; self.codec = codec; self.sampleRate = sampleRate; self.channels = channels
        self.startTime = startTime; self.duration = duration
    }
}

/// A recording cut short (a capture that crashed): the end its headers state, and the end of
/// what can be read. The probe's video span is the readable one, so clips are planned inside it.
public struct Truncation: Hashable, Sendable, Codable {
    /// Where the video is said to end (µs).
    public var statedEnd: Microseconds
    /// Where the readable video ends (µs): the last packet read, less a margin for a last
    /// packet that may not decode.
    public var readableEnd: Microseconds
    public var reason: String

    public init(statedEnd: Microseconds, readableEnd: Microseconds, reason: String) {
        self.statedEnd = statedEnd; self.readableEnd = readableEnd; self.reason = reason
    }

    /// "readable 0.000–7.200 s of 12.000 s (4.800 s lost): <reason>".
    public func summary(videoStart: Microseconds) -> String {
        String(format: "readable %.3f–%.3f s of %.3f s (%.3f s lost): %@", TimeMath.seconds(videoStart), TimeMath.seconds(readableEnd),
               TimeMath.seconds(statedEnd), TimeMath.seconds(statedEnd - readableEnd), reason)
    }
}

/// Everything `probe` learns about a recording.
public struct ProbeResult: Hashable, Sendable, Codable {
    /// Demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm".
    public var container: String
    /// Container duration (µs) where known. Clips are planned on `video`'s span, not this.
    public var containerDuration: Microseconds?
    public var video: VideoStreamInfo
    public var audio: AudioStreamInfo
    /// Set when the file is cut short; `video.duration` is then the readable span's.
    public var truncation: Truncation?

    public init(container: String, containerDuration: Microseconds?, video: VideoStreamInfo, audio: AudioStreamInfo, truncation: Truncation? = nil) {
        self.container = container; self.containerDuration = containerDuration; self.video = video; self.audio = audio
        self.truncation = truncation
    }

    /// End of the video's own span: start + duration (µs), or nil when unknown.
    public var videoEnd: Microseconds? { video.duration.map { video.startTime + $0 } }
}
