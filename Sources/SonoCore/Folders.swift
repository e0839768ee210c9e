import Foundation

public enum Folders {
    /// Creates the folder that will hold the file `path` (with its parents), so writers need no
    /// folder made beforehand; an error naming `path` if it cannot be made.
    public static func createParent(of path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw InputError(path: path, reason: "cannot create its folder (\(error.localizedDescription))")
        }
    }
}
