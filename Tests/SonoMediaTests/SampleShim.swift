import SonoSample

enum SampleSpecForTests {
    /// Seconds of small video: enough for every media test, fast in a debug build.
    static var small: SampleSpec {
        var s = SampleSpec()
        s.width = 192; s.height = 144; s.seconds = 4; s.sampleRate = 44100; s.channels = 2
        return s
    }
}

enum SampleGeneratorShim {
    static func generate(_ spec: SampleSpec, _ dir: String) throws -> String {
        try SampleGenerator.generate(spec, into: dir).videoPath
    }
}
