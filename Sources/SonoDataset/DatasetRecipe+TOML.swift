import Foundation
import SonoCore
import SonoSpectral

/// Reading a recipe from `data-manifests/recipes/*.toml`: every key and its range in one place.
extension DatasetRecipe {
    public static func load(_ path: String) throws -> DatasetRecipe {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw InputError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot read recipe" : "no such recipe")
        }
        return try parse(text, path: path)
    }

    /// Parses recipe TOML; every unknown key and out-of-range value is an error with its line.
    public static func parse(_ text: String, path: String) throws -> DatasetRecipe {
        let entries = try TOMLSubset.parse(text, path: path)
        var r = DatasetRecipe(name: "", clipMicros: 0, strideMicros: 0)
        var stride: Double? = nil
        var mel = LogMelConfig.cnn14
        var speech = SpeechActivityConfig()
        var frames: FrameSampling? = nil, saliency: SaliencyMaps? = nil, folds: FoldRule? = nil
        for (key, value, line) in entries {
            func fail(_ why: String) -> InputError { InputError(path: path, reason: "line \(line): \(key): \(why)") }
            func number() throws -> Double {
                guard let d = value.double, d.isFinite else { throw fail("expected a number") }
                return d
            }
            func integer() throws -> Int {
                guard case .integer(let i) = value else { throw fail("expected an integer") }
                return i
            }
            func string() throws -> String {
                guard case .string(let s) = value else { throw fail("expected a string") }
                return s
            }
            switch key {
            case "name": r.name = try string()
            case "clips.length_s": r.clipMicros = TimeMath.micros(seconds: try number())
            case "clips.stride_s": stride = try number()
            case "clips.frames": r.framesPerClip = try integer()
            case "clips.frame_size": r.frameSize = try integer()
            case "clips.stills": r.stillsPerClip = try integer()
            case "selection.mode":
                guard let mode = SelectionMode(rawValue: try string()) else {
                    throw fail("must be \"none\", \"min_speech_ratio\" or \"speech_aligned\"")
                }
                r.selection = mode
            case "selection.min_speech_ratio": r.minSpeechRatio = try number()
            case "selection.min_video_activity": r.minVideoActivity = try number()
            case "selection.min_brightness": r.minBrightness = try number()
            case "split.train": r.trainFraction = try number()
            case "split.val": r.valFraction = try number()
            case "split.test": r.testFraction = try number()
            case "split.seed", "seed": r.seed = UInt64(max(0, try integer()))
            case "logmel.sample_rate": mel.sampleRate = try integer()
            case "logmel.n_fft": mel.fftSize = try integer(); mel.windowLength = mel.fftSize
            case "logmel.hop": mel.hopLength = try integer()
            case "logmel.mels": mel.melBins = try integer()
            case "logmel.fmin": mel.fMin = try number()
            case "logmel.fmax": mel.fMax = try number()
            case "speech.threshold_db": speech.thresholdDB = try number()
            case "speech.min_speech_s": speech.minSpeechSeconds = try number()
            case "speech.min_pause_s": speech.minPauseSeconds = try number()
            case "speech.hangover_s": speech.hangoverSeconds = try number()
            case "speech.lead_s": speech.leadSeconds = try number()
            case "speech.anchor_threshold_db": speech.anchorThresholdDB = try number()
            case "speech.harmonicity": speech.harmonicityThreshold = try number()
            case "speech.anchor_window_s": speech.anchorWindowSeconds = try number()
            case "speech.min_anchor_frames": speech.minAnchorFrames = try integer()
            case "speech.anchor_above_background_db": speech.anchorAboveBackgroundDB = try number()
            case "speech.speech_above_background_db": speech.speechAboveBackgroundDB = try number()
            case "frames.labels": frames = FrameSampling(labels: try string()).merged(frames)
            case "frames.rate_hz": frames = (frames ?? FrameSampling(labels: "")); frames?.rateHz = try number()
            case "frames.max_per_span": frames = (frames ?? FrameSampling(labels: "")); frames?.maxPerSpan = try integer()
            case "frames.size": r.frameSize = try integer()
            case "frames.clip_s", "frames.clip_frames":
                var f = frames ?? FrameSampling(labels: "")
                var clip = f.clip ?? FrameClip(lengthMicros: 0)
                if key == "frames.clip_s" { clip.lengthMicros = TimeMath.micros(seconds: try number()) } else { clip.frames = try integer() }
                f.clip = clip
                frames = f
            case "saliency.gaze": saliency = SaliencyMaps(gaze: try string()).merged(saliency)
            case "saliency.window_s": saliency = (saliency ?? SaliencyMaps(gaze: "")); saliency?.windowMicros = TimeMath.micros(seconds: try number())
            case "saliency.sigma_px": saliency = (saliency ?? SaliencyMaps(gaze: "")); saliency?.sigmaPixels = try number()
            case "saliency.map_size": saliency = (saliency ?? SaliencyMaps(gaze: "")); saliency?.mapSize = try integer()
            case "folds.k": folds = (folds ?? FoldRule()); folds?.k = try integer()
            case "folds.seed": folds = (folds ?? FoldRule()); folds?.seed = UInt64(max(0, try integer()))
            default: throw InputError(path: path, reason: "line \(line): unknown key \(key)")
            }
        }
        if let frames {
            // A frame sample is a 1 µs span: one frame target, which is also its still.
            r.frames = frames
            r.clipMicros = 1
            r.framesPerClip = 1
            r.selection = .none
        }
        r.saliency = saliency
        r.folds = folds
        r.strideMicros = stride.map { TimeMath.micros(seconds: $0) } ?? r.clipMicros
        r.logMel = mel
        r.speech = speech
        r.speechMethod = frames == nil ? speech.method : nil
        try r.validate(path: path)
        try r.speech.validate(source: path)
        return r
    }
}
