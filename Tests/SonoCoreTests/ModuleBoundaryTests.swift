import Foundation
import XCTest

/// Each C library (and SQLite, through GRDB) sits behind exactly one module: no other source
/// file imports it, no other target depends on it, and no SQL is written outside the catalog.
final class ModuleBoundaryTests: XCTestCase {
    /// Library → the one module allowed to use it.
    static let owners = ["GRDB": "SonoCatalog", "CFFmpeg": "SonoMedia", "CFFTW3f": "SonoSpectral", "COpenBLAS": "SonoTensor"]
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    /// Every Swift file under Sources/, with the module (folder) it belongs to.
    static func sources() throws -> [(module: String, path: String, text: String)] {
        let sources = root.appendingPathComponent("Sources")
        var files: [(String, String, String)] = []
        let enumerator = FileManager.default.enumerator(atPath: sources.path)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            let module = String(relative.split(separator: "/")[0])
            files.append((module, "Sources/" + relative, try String(contentsOf: sources.appendingPathComponent(relative), encoding: .utf8)))
        }
        return files
    }

    func testLibrariesAreImportedOnlyByTheirModule() throws {
        let files = try Self.sources()
        XCTAssertGreaterThan(files.count, 50, "the source tree was not found at \(Self.root.path)")
        for file in files {
            for line in file.text.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@testable import ") || line.hasPrefix("@preconcurrency import ") {
                let imported = String(line.split(separator: " ").last ?? "")
                if let owner = Self.owners[imported] {
                    XCTAssertEqual(file.module, owner, "\(file.path) imports \(imported), which only \(owner) may")
                }
            }
        }
    }

    func testSQLIsWrittenOnlyInTheCatalog() throws {
        let sqlMarks = ["sql:", "\"SELECT ", "INSERT INTO", "UPDATE clips", "DELETE FROM", "CREATE TABLE"]
        for file in try Self.sources() where file.module != "SonoCatalog" {
            for mark in sqlMarks {
                XCTAssertFalse(file.text.contains(mark), "\(file.path) writes SQL (\(mark)); queries are methods of SonoCatalog")
            }
        }
    }

    /// In Package.swift, only the owner's target names the library among its dependencies.
    func testOnlyTheOwnerDependsOnTheLibrary() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        // Each target declaration runs from `.target(name:` (or executable/test) to the next one.
        let pattern = try NSRegularExpression(pattern: #"\.(?:target|executableTarget|testTarget)\(name: "([^"]+)""#)
        let ns = manifest as NSString
        let matches = pattern.matches(in: manifest, range: NSRange(location: 0, length: ns.length))
        XCTAssertGreaterThan(matches.count, 20)
        for (i, match) in matches.enumerated() {
            let name = ns.substring(with: match.range(at: 1))
            let end = i + 1 < matches.count ? matches[i + 1].range.location : ns.length
            let declaration = ns.substring(with: NSRange(location: match.range.location, length: end - match.range.location))
            for (library, owner) in Self.owners where name != owner {
                XCTAssertFalse(declaration.contains("\"\(library)\""), "target \(name) depends on \(library), which only \(owner) may")
            }
        }
    }
}
