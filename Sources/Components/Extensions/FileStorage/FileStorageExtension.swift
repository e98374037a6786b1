import Foundation
import OTLP
import Pipeline

/// `extensions.file_storage`: a directory on local disk for durable sending queues. Each queue
/// (one exporter's signal) gets its own folder, `exporter_<type>_<name>_<signal>`, with its own
/// lock, so two collectors can never write one queue.
public final class FileStorageExtension: QueueStorage {
    public static let factory = ExtensionFactory(type: "file_storage", stability: .alpha, config: FileStorageConfig.self) { settings, config in
        FileStorageExtension(config: config)
    }

    private let config: FileStorageConfig

    init(config: FileStorageConfig) { self.config = config }

    /// Makes the directory when asked to, and checks that files can be made in it, so a
    /// read-only or missing directory stops the start with its path instead of failing later.
    public func start() async throws {
        let permissions = config.permissions ?? 0o750
        if config.create_directory {
            do {
                try FileManager.default.createDirectory(atPath: config.directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: Int(permissions)])
            } catch {
                throw StartFailure(key: "directory", message: "cannot create \(config.directory): \(error.localizedDescription)")
            }
        }
        let probe = config.directory + "/.otelcol-write-check-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else {
            throw StartFailure(key: "directory", message: "\(config.directory) is not writable: \(String(cString: strerror(errno)).lowercased())")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }

    public func queueOptions(exporter: ComponentID, signal: Signal) -> DurableQueueOptions {
        DurableQueueOptions(directory: config.directory + "/exporter_\(exporter.type)_\(exporter.name ?? "")_\(signal)",
                            sync: config.fsync, lockTimeout: config.timeout.duration, permissions: config.permissions ?? 0o750)
    }
}
