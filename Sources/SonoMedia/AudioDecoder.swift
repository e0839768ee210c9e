import CFFmpeg
import SonoCore

/// A scan's speech as mono Float32 on the video's timeline: sample 0 sits at `origin`.
public struct AudioTrack: Sendable {
    public var sampleRate: Int
    /// Presentation time (µs) of sample 0, normally the video's start time.
    public var origin: Microseconds
    public var samples: [Float]
    /// Index of the first and one past the last decoded sample (nil when no audio at all);
    /// outside it are zeros placed before a late start or after the audio ended.
    public var audioSpan: Range<Int>?
    public var stats: AudioDecodeStats

    /// True when the audio ends before the requested span does (the tail was zero-padded).
    public var isPaddedAtEnd: Bool { (audioSpan?.upperBound ?? 0) < samples.count }
}

public struct AudioDecodeStats: Hashable, Sendable, Codable {
    public var corruptPackets = 0
    /// Gaps in the timestamps that were zero-filled, and overlaps that were dropped.
    public var gapsFilled = 0
    public var overlapsDropped = 0
    public var readError: String?
}

/// Decodes one audio stream to mono Float32 at a chosen rate, placed by timestamps.
///
/// - Mono is the mean of the channels, (L+R)/2 for stereo, as librosa and PANNs compute it
///   (swresample's default downmix would weight by 1/√2; we set the matrix ourselves).
/// - Resampling is swresample's.
/// - Placement: a frame whose timestamp is more than 1 ms after where the previous one ended
///   starts after a zero-filled gap; one that overlaps by more than 1 ms loses the overlap.
///   Within 1 ms, frames are joined back to back, so rounding never inserts clicks.
public final class AudioDecoder {
    public let path: String
    public let info: AudioStreamInfo
    public let sampleRate: Int

    private let decoder: StreamDecoder
    private let offset: Microseconds
    /// Frame timestamps are in the stream's time base (set as the decoder's `pkt_timebase`).
    private let streamTimeBase: Rational
    private var resampler: OpaquePointer?

    /// - Parameters:
    ///   - path: the file with the audio (the video itself or a separate audio file).
    ///   - offset: where the file's time 0 lands on the video timeline (µs).
    ///   - sampleRate: output rate, e.g. 32000 for CNN14.
    public init(path: String, offset: Microseconds = 0, sampleRate: Int) throws {
        precondition(sampleRate > 0, "sample rate must be positive")
        self.path = path
        self.offset = offset
        self.sampleRate = sampleRate
        let opened = try StreamDecoder.Opened(path: path, type: AVMEDIA_TYPE_AUDIO, missing: .noAudioStream)
        streamTimeBase = opened.input.stream(opened.index).pointee.time_base.rational
        info = try MediaProbe.audioInfo(opened.input, opened.index, offset: offset)
        decoder = try StreamDecoder(opened, threads: 1)
    }

    deinit {
        swr_free(&resampler)
        av_channel_layout_uninit(&inputLayout)
    }

    /// Builds the resampler for the current input format: mean of channels → mono at `sampleRate`.
    private func makeResampler(for f: UnsafeMutablePointer<AVFrame>) throws {
        swr_free(&resampler)
        var outLayout = AVChannelLayout()
        av_channel_layout_default(&outLayout, 1)
        defer { av_channel_layout_uninit(&outLayout) }
        var swr: OpaquePointer? = nil
        try check(swr_alloc_set_opts2(&swr, &outLayout, AV_SAMPLE_FMT_FLT, Int32(sampleRate),
                                      &f.pointee.ch_layout, AVSampleFormat(rawValue: f.pointee.format),
                                      f.pointee.sample_rate, 0, nil),
                  "swr_alloc_set_opts2", path: path, kind: .unsupported)
        let channels = max(Int(f.pointee.ch_layout.nb_channels), 1)
        let matrix = [Double](repeating: 1.0 / Double(channels), count: channels)
        try check(swr_set_matrix(swr, matrix, Int32(channels)), "swr_set_matrix", path: path, kind: .unsupported)
        try check(swr_init(swr), "swr_init", path: path, kind: .unsupported)
        resampler = swr
    }

    /// Decodes the whole stream into `length` samples starting at `origin` (µs on the video
    /// timeline); audio before the origin or after the end is dropped, missing audio is zeros.
    /// With `length` nil, the track ends where the audio ends.
    public func decodeTrack(origin: Microseconds, length: Int?) throws -> AudioTrack {
        let stream = AudioSampleStream(decoder: self, origin: origin)
        if let length {
            let samples = try stream.samples(0..<Int64(length))
            let span = stream.audioSpan.map { max(0, Int($0.lowerBound))..<min(length, Int($0.upperBound)) }
            return AudioTrack(sampleRate: sampleRate, origin: origin, samples: samples,
                              audioSpan: span.flatMap { $0.isEmpty ? nil : $0 }, stats: stream.stats)
        }
        try stream.decodeToEnd()
        let end = stream.audioSpan?.upperBound ?? 0
        let samples = try stream.samples(0..<end)
        return AudioTrack(sampleRate: sampleRate, origin: origin, samples: samples,
                          audioSpan: stream.audioSpan.map { max(0, Int($0.lowerBound))..<Int($0.upperBound) }, stats: stream.stats)
    }

    /// Decodes one frame into `stream`; false at the end of the audio.
    fileprivate func pump(_ stream: AudioSampleStream) throws -> Bool {
        defer { stream.stats.corruptPackets = decoder.corruptPackets; stream.stats.readError = decoder.readError }
        guard try decoder.receiveFrame() else {
            try drainResampler(into: stream)
            return false
        }
        defer { av_frame_unref(decoder.frame.pointer) }
        try consume(decoder.frame.pointer, into: stream)
        return true
    }

    private var inputRate: Int32 = 0
    private var inputLayout = AVChannelLayout()
    private var converted = [Float]()

    private func drainResampler(into stream: AudioSampleStream) throws {
        guard let swr = resampler else { return }
        while true {
            let pending = Int(swr_get_delay(swr, Int64(sampleRate))) + 32
            if converted.count < pending { converted = [Float](repeating: 0, count: pending) }
            let n = try converted.withUnsafeMutableBufferPointer { buf -> Int32 in
                var outPtr: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self)
                return try check(swr_convert(swr, &outPtr, Int32(buf.count), nil, 0), "swr_convert", path: path)
            }
            if n <= 0 { break }
            stream.placed.append(converted, count: Int(n))
        }
    }

    private func consume(_ f: UnsafeMutablePointer<AVFrame>, into stream: AudioSampleStream) throws {
        let layoutChanged = av_channel_layout_compare(&inputLayout, &f.pointee.ch_layout) != 0
        if resampler == nil || f.pointee.sample_rate != inputRate || layoutChanged {
            try drainResampler(into: stream)
            try makeResampler(for: f)
            inputRate = f.pointee.sample_rate
            av_channel_layout_uninit(&inputLayout)
            av_channel_layout_copy(&inputLayout, &f.pointee.ch_layout)
        }
        // Where this frame belongs, in output samples after the origin.
        let raw = f.pointee.best_effort_timestamp
        if raw != FFmpegCodes.noPTS, let t = streamTimeBase.scale(raw, toUnit: 1_000_000) {
            let position = TimeMath.sampleIndex(at: t + offset - stream.origin, rate: sampleRate)
            let expected = stream.placed.written + Int64(swr_get_delay(resampler, Int64(sampleRate)))
            switch stream.placed.place(position, expected: expected) {
            case .first:
                stream.placed.begin(at: position)
            case .gap:
                try drainResampler(into: stream)
                try makeResampler(for: f)
                stream.placed.zeroFill(to: position)
                stream.stats.gapsFilled += 1
            case .overlap(let k):
                stream.placed.dropNext(k)
                stream.stats.overlapsDropped += 1
            case .contiguous: break
            }
        }
        guard let swr = resampler else { return }  // read after placement: a gap rebuilds it
        let nIn = Int(f.pointee.nb_samples)
        let capacity = Int(swr_get_delay(swr, Int64(sampleRate))) + nIn * sampleRate / max(Int(f.pointee.sample_rate), 1) + 64
        if converted.count < capacity { converted = [Float](repeating: 0, count: capacity) }
        let n = try converted.withUnsafeMutableBufferPointer { buf -> Int32 in
            var outPtr: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(buf.baseAddress!).assumingMemoryBound(to: UInt8.self)
            let inPtr = UnsafeMutableRawPointer(f.pointee.extended_data).assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
            return try check(swr_convert(swr, &outPtr, Int32(buf.count), inPtr, Int32(nIn)), "swr_convert", path: path)
        }
        stream.placed.append(converted, count: Int(n))
    }
}

/// A scan's audio, decoded as far as it is read: the extractor pulls each clip's samples in
/// time order and discards what it no longer needs, so memory does not grow with the scan.
/// Sample 0 sits at `origin`; samples outside the decoded audio are zeros.
public final class AudioSampleStream {
    public let origin: Microseconds
    public let sampleRate: Int
    public var stats = AudioDecodeStats()
    private let decoder: AudioDecoder
    fileprivate var placed: PlacedSamples
    private var ended = false

    public init(decoder: AudioDecoder, origin: Microseconds) {
        self.decoder = decoder
        self.origin = origin
        sampleRate = decoder.sampleRate
        placed = PlacedSamples(tolerance: max(1, decoder.sampleRate / 1000))
    }

    /// Indices [first, last) of decoded audio so far (nil before any).
    public var audioSpan: Range<Int64>? { placed.decodedSpan }

    /// Samples [range); decodes until they are available or the audio ends.
    public func samples(_ range: Range<Int64>) throws -> [Float] {
        while !ended && placed.written < range.upperBound {
            if try !decoder.pump(self) { ended = true }
        }
        return placed.copy(range)
    }

    public func decodeToEnd() throws {
        while !ended { if try !decoder.pump(self) { ended = true } }
    }

    /// Frees decoded samples before `index` (they read as zeros afterwards: do not go back).
    public func discard(before index: Int64) { placed.discard(before: index) }
}

/// Output samples with their bookkeeping: where they sit, and which hold decoded audio.
struct PlacedSamples {
    enum Placement { case first, contiguous, gap, overlap(Int) }

    /// Samples from index `base` on (earlier ones were discarded).
    private var samples: [Float] = []
    private var base: Int64 = 0
    /// Output position of the next appended sample (negative before the origin).
    private(set) var written: Int64 = 0
    private var pendingDrop = 0
    private var firstDecoded: Int64?
    private var lastDecoded: Int64 = 0
    private var started = false
    let tolerance: Int

    init(tolerance: Int) { self.tolerance = tolerance }

    var decodedSpan: Range<Int64>? { firstDecoded.map { $0..<lastDecoded } }

    func place(_ position: Int64, expected: Int64) -> Placement {
        if !started { return .first }
        if position > expected + Int64(tolerance) { return .gap }
        if position < expected - Int64(tolerance) { return .overlap(Int(expected - position)) }
        return .contiguous
    }

    /// Places the first frame: zeros before a late start, or a negative position so that audio
    /// before the origin is dropped as it is appended.
    mutating func begin(at position: Int64) {
        started = true
        if position < 0 { written = position } else { zeroFill(to: position) }
    }

    mutating func zeroFill(to position: Int64) {
        while written < position {
            if written >= base { samples.append(0) }
            written += 1
        }
    }

    mutating func dropNext(_ n: Int) { pendingDrop += n }

    mutating func append(_ source: [Float], count: Int) {
        started = true
        var i = 0
        if pendingDrop > 0 {
            let k = min(pendingDrop, count)
            pendingDrop -= k
            i = k
        }
        while i < count {
            if written >= base {
                samples.append(source[i])
                if firstDecoded == nil { firstDecoded = written }
                lastDecoded = written + 1
            }
            written += 1
            i += 1
        }
    }

    func copy(_ range: Range<Int64>) -> [Float] {
        var out = [Float](repeating: 0, count: range.count)
        let from = max(range.lowerBound, base), to = min(range.upperBound, base + Int64(samples.count))
        if from < to {
            for k in from..<to { out[Int(k - range.lowerBound)] = samples[Int(k - base)] }
        }
        return out
    }

    mutating func discard(before index: Int64) {
        guard index > base else { return }
        let n = Int(min(index - base, Int64(samples.count)))
        samples.removeFirst(n)
        base += Int64(n)
        if samples.isEmpty { base = max(base, min(index, written)) }
    }
}
