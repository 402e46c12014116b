import Foundation

/// The inputs a fuzz target keeps in the repository, for tests that replay them with the
/// target's invariants: `Fuzz/<folder>/<target>/*` for each folder (`seeds`, hand-made;
/// `corpus`, minimized by `Fuzz/merge.sh`; `regressions`, inputs that once broke an
/// invariant), as paths relative to `Fuzz/`, sorted.
public enum FuzzInputs {
    /// The `Fuzz/` folder of this checkout.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    /// The files of `target` in `folders`.
    public static func paths(_ target: String, in folders: [String] = ["seeds", "corpus", "regressions"]) -> [String] {
        folders.flatMap { folder -> [String] in
            let directory = root.appendingPathComponent(folder).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.filter { !$0.hasPrefix(".") }.map { "\(folder)/\(target)/\($0)" }.sorted()
        }
    }

    /// The bytes of the input at `path` (relative to `Fuzz/`).
    public static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(path)))
    }
}
