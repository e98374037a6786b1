import Foundation

/// Where tests write files: new folders under one folder of the system's temporary directory
/// for the whole test run, removed when the test process exits, so that runs leave nothing
/// behind however a test ends.
public enum TestScratch {
    /// A new empty folder whose name starts with `prefix`.
    public static func folder(_ prefix: String) -> String {
        let path = root + "/" + prefix + "-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A path for a file named `name` in a new folder.
    public static func file(_ name: String) -> String { folder("file") + "/" + name }

    /// Made on first use, which also arranges its removal at exit.
    private static let root: String = {
        let path = runRoot
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: TestScratch.runRoot) }
        return path
    }()

    // Computed, so that the exit handler (a C function, which captures nothing) can name it.
    private static var runRoot: String { NSTemporaryDirectory() + "otelcol-tests-\(getpid())" }
}
