import Foundation
import Pipeline

/// `extensions.file_storage`: the Go collector's keys. It holds the durable sending queues of the
/// exporters whose `sending_queue.storage` names it.
public struct FileStorageConfig: ComponentConfig {
    public var directory = "/var/lib/otelcol/file_storage"
    public var create_directory = false
    public var directory_permissions = "0750"
    /// How long to wait for another process's lock on a queue's folder.
    public var timeout: ConfigDuration = .seconds(1)
    /// **Differs:** true (Go: false), so an acknowledged request survives a power cut, not only a
    /// crash; each group of requests written together shares one sync.
    public var fsync = true
    public init() {}

    public static let inertKeys = [
        InertKey("compaction", "queue files are deleted whole once delivered, so there is nothing to compact"),
        InertKey("recreate", "a damaged queue record is passed over and counted, the rest is kept"),
    ]

    var permissions: UInt32? { UInt32(directory_permissions, radix: 8).flatMap { $0 <= 0o7777 ? $0 : nil } }

    public func validate() throws(ConfigError) {
        if directory.isEmpty { throw ConfigError(path: "directory", message: "must not be empty") }
        guard permissions != nil else {
            throw ConfigError(path: "directory_permissions", message: "must be an octal mode such as 0750, got \"\(directory_permissions)\"")
        }
        if timeout.nanoseconds < 0 { throw ConfigError(path: "timeout", message: "must not be negative") }
        guard !create_directory else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw ConfigError(path: "directory", message: "\(directory) does not exist (create it, or set create_directory: true)")
        }
        if !isDirectory.boolValue { throw ConfigError(path: "directory", message: "\(directory) is not a directory") }
    }
}
