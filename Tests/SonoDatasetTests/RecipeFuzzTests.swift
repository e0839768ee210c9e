import XCTest
import SonoCore
@testable import SonoDataset

/// Random and mangled recipes parse or fail with a line-numbered error; never a crash.
final class RecipeFuzzTests: XCTestCase {
    func testRecipeParserSurvivesGarbage() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data-manifests/recipes")
        let seed = Array(try String(contentsOf: root.appendingPathComponent("medium.toml"), encoding: .utf8))
        let alphabet = Array("[]=\"#.,_-0123456789abcdefghijklmnopqrstuvwxyz \n\t\\e+")
        var rng = SeededGenerator(seed: 11)
        var accepted = 0
        for k in 0..<3000 {
            var text = seed
            for _ in 0..<(1 + Int(rng.next() % 6)) {
                let at = Int(rng.next() % UInt64(text.count))
                switch rng.next() % 3 {
                case 0: text[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: text.remove(at: at)
                default: text.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
            }
            if k % 10 == 0 { text = (0..<Int(rng.next() % 200)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] } }
            do {
                _ = try DatasetRecipe.parse(String(text), path: "r.toml")
                accepted += 1
            } catch let error as PathError {
                XCTAssertTrue(error.description.hasPrefix("r.toml: "), error.description)
            }
        }
        XCTAssertGreaterThan(accepted, 0)
    }
}
