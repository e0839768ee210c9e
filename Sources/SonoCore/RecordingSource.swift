import Foundation

/// Where one scan's media lives: a video file, optionally a separate audio file placed at an
/// offset on the video's timeline, and an optional crop of the region of interest.
public struct RecordingSource: Hashable, Sendable, Codable {
    public var videoPath: String
    /// A separate audio file; nil means the video file's own audio stream.
    public var audioPath: String?
    /// Where the separate audio file's time 0 lands on the video's presentation timeline.
    public var audioOffset: Microseconds
    /// Region of interest in displayed (rotated) pixel coordinates; nil means the whole frame.
    public var crop: CropRect?

    public init(videoPath: String, audioPath: String? = nil, audioOffset: Microseconds = 0, crop: CropRect? = nil) {
        self.videoPath = videoPath
        self.audioPath = audioPath
        self.audioOffset = audioOffset
        self.crop = crop
    }

    /// The file the audio comes from.
    public var audioFile: String { audioPath ?? videoPath }
}

/// A pixel rectangle, origin at the top-left of the displayed frame.
public struct CropRect: Hashable, Sendable, Codable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// Parses "x,y,w,h".
    public init?(parsing text: String) {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, let x = parts[0], let y = parts[1], let w = parts[2], let h = parts[3] else { return nil }
        self.init(x: x, y: y, width: w, height: h)
    }

    public var description: String { "\(x),\(y),\(width),\(height)" }

    /// True when the rectangle is non-empty and lies inside a `width`×`height` frame.
    public func fits(width frameWidth: Int, height frameHeight: Int) -> Bool {
        x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= frameWidth && y + height <= frameHeight
    }
}

