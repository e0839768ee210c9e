import XCTest
import SonoCore
import SonoShards
@testable import SonoDataset

/// The dataset definition: recipes, their hash, errors, the split rule, the layout they make.
final class RecipeTests: XCTestCase {
    func testRecipesParseAndHashIgnoresComments() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data-manifests/recipes")
        let large = try DatasetRecipe.load(root.appendingPathComponent("large.toml").path)
        let medium = try DatasetRecipe.load(root.appendingPathComponent("medium.toml").path)
        XCTAssertEqual(large.clipMicros, 2_000_000)
        XCTAssertEqual(large.melFrames, 201)
        XCTAssertEqual(medium.clipMicros, 6_000_000)
        XCTAssertEqual(medium.melFrames, 601)
        XCTAssertEqual(medium.selection, .speechAligned)
        XCTAssertEqual(large.strideMicros, large.clipMicros)
        let planes = try DatasetRecipe.load(root.appendingPathComponent("planes.toml").path)
        let saliency = try DatasetRecipe.load(root.appendingPathComponent("saliency.toml").path)
        XCTAssertEqual(planes.frames?.labels, "planes"); XCTAssertEqual(planes.folds?.k, 5)
        XCTAssertEqual(saliency.saliency?.mapSize, 64); XCTAssertNil(planes.saliency)
        let withClips = try DatasetRecipe.load(root.appendingPathComponent("planes-clips.toml").path)
        XCTAssertEqual(withClips.frames?.clip, FrameClip(lengthMicros: 2_000_000, frames: 14))
        XCTAssertEqual(withClips.frameShape.clipFrames, 14); XCTAssertNil(planes.frameShape.clipFrames)
        XCTAssertFalse(planes.canonicalJSON.contains("\"clip\""), "no clip: the recipe's hash is what it was before clips existed")
        let a = try DatasetRecipe.parse("name = \"x\" # a comment\n[clips]\nlength_s = 2\n", path: "a")
        let b = try DatasetRecipe.parse("# header\nname=\"x\"\n\n[clips]\n  length_s = 2.0   # two seconds\n", path: "b")
        XCTAssertEqual(a.hash, b.hash)
        let c = try DatasetRecipe.parse("name = \"x\"\n[clips]\nlength_s = 3\n", path: "c")
        XCTAssertNotEqual(a.hash, c.hash)
    }

    func testRecipeErrorsNameFileAndLine() {
        let cases: [(String, String)] = [
            ("name = \"x\"\n[clips]\nlength_s = 2\nlenght = 3\n", "line 4: unknown key clips.lenght"),
            ("name = \"x\"\n[clips]\nlength_s = \"two\"\n", "line 3: clips.length_s: expected a number"),
            ("name = \"x\"\n[clips]\nlength_s = 2\n[split]\ntrain = 0.5\n", "split fractions"),
            ("name = \"x\"\n[selection]\nmode = \"loud\"\n[clips]\nlength_s = 2\n", "line 3: selection.mode"),
            ("name = \"x\"\n[clips]\nlength_s = 0.1\n", "between 0.32 and 600"),
            ("name = \"x\"\n[clips\nlength_s = 2\n", "line 2: malformed table header"),
            ("name = \"x\"\nname = \"y\"\n", "line 2: name is set twice"),
            ("name = \"x\"\n[frames]\nlabels = \"p\"\nclip_frames = 4\n", "clip_s must be 0.1…60 s"),
            ("name = \"x\"\n[frames]\nlabels = \"p\"\nclip_s = 2\nclip_frames = 0\n", "clip_frames 1…256"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try DatasetRecipe.parse(text, path: "r.toml")) { error in
                XCTAssertTrue("\(error)".hasPrefix("r.toml: "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "'\(error)' lacks '\(expected)'")
            }
        }
    }

    func testSplitIsPerScanStableAndSeeded() throws {
        let r = try DatasetRecipe.parse("name = \"x\"\n[clips]\nlength_s = 2\n[split]\ntrain = 0.6\nval = 0.2\ntest = 0.2\nseed = 7\n", path: "r")
        let scans = (0..<500).map { "scan_\($0)" }
        let splits = scans.map { r.split(ofScan: $0) }
        XCTAssertEqual(splits, scans.map { r.split(ofScan: $0) })
        let train = Double(splits.filter { $0 == .train }.count) / 500
        XCTAssertEqual(train, 0.6, accuracy: 0.07)
        XCTAssertTrue(splits.contains(.val) && splits.contains(.test))
    }

    /// The layout a recipe makes is read back to the same shapes; a non-clip layout is refused.
    func testRecordShapeRoundTripsThroughTheLayout() throws {
        let r = try DatasetRecipe.parse("name = \"x\"\n[clips]\nlength_s = 2\nframes = 6\nframe_size = 64\n", path: "r")
        XCTAssertEqual(r.recordShape, ClipRecordShape(frames: 6, size: 64, melFrames: 201, mels: 64))
        XCTAssertEqual(ClipRecordShape(layout: r.recordShape.layout), r.recordShape)
        XCTAssertEqual(r.recordShape.layout.fields.map(\.name), ["clip_id", "video", "still", "logmel", "crc32c"])
        XCTAssertNil(ClipRecordShape(layout: RecordLayout([("video", .u8, [2, 8, 8])])))
    }

    /// Reasons are stored by raw value; counts encode as a JSON object keyed by them.
    func testRejectCountsEncodeByName() throws {
        let counts: RejectCounts = [.lowSpeech: 3, .noRoom: 1]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        XCTAssertEqual(String(decoding: try encoder.encode(counts), as: UTF8.self), #"{"low_speech":3,"no_room":1}"#)
        XCTAssertEqual(counts.listing, "low_speech 3, no_room 1")
    }

    /// Frame and still targets follow the recipe's clip length; the audio range is the clip's samples.
    func testSamplingRulesFollowTheRecipe() throws {
        let r = try DatasetRecipe.parse("name = \"x\"\n[clips]\nlength_s = 2\nframes = 4\n", path: "r")
        XCTAssertEqual(r.frameTargets(clipStart: 1_000_000), [1_250_000, 1_750_000, 2_250_000, 2_750_000])
        let still = r.stillTarget(clipStart: 1_000_000, clipID: 7)
        XCTAssertTrue((1_000_000..<3_000_000).contains(still))
        XCTAssertEqual(still, r.stillTarget(clipStart: 1_000_000, clipID: 7))
        XCTAssertEqual(r.audioSamples(clipStart: 1_500_000, videoStart: 500_000), 32_000..<96_000)
    }
}
