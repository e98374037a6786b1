import Foundation
import OTLP
import Pipeline
import Synchronization

/// `exporters.file`: appends each batch to a file. A batch is written before `consume` returns,
/// so data acknowledged upstream is in the file even if the process is killed afterwards.
public final class FileExporter: Exporter {
    public static let factory = ExporterFactory(type: "file", stability: .alpha, config: FileExporterConfig.self) { settings, config in
        FileExporter(settings: settings, config: config)
    }

    private let settings: ComponentSettings
    private let config: FileExporterConfig
    private let file = Mutex<(handle: FileHandle?, size: UInt64)>((nil, 0))

    init(settings: ComponentSettings, config: FileExporterConfig) {
        self.settings = settings
        self.config = config
    }

    public func start() async throws {
        let handle = try open(truncate: !config.append)
        let size = (try? handle.seekToEnd()) ?? 0
        file.withLock { $0 = (handle, size) }
    }

    /// Foundation's errors wrap the POSIX one; its text is what the user needs.
    private static func reason(_ error: any Error) -> String {
        let outer = error as NSError
        let posix = (outer.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError } ?? outer
        guard posix.domain == NSPOSIXErrorDomain else { return outer.localizedDescription }
        return String(cString: strerror(Int32(posix.code))).lowercased()
    }

    /// Failures name the `path` key and say whether the folder or the file could not be made.
    private func open(truncate: Bool) throws(StartFailure) -> FileHandle {
        let url = URL(fileURLWithPath: config.path)
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StartFailure(key: "path", message: "cannot create the directory \(directory.path): \(Self.reason(error))")
        }
        do {
            if truncate || !FileManager.default.fileExists(atPath: config.path) {
                guard FileManager.default.createFile(atPath: config.path, contents: nil) else {
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
            }
            let handle = try FileHandle(forWritingTo: url)
            _ = try handle.seekToEnd()
            return handle
        } catch {
            throw StartFailure(key: "path", message: "cannot open \(config.path) for writing: \(Self.reason(error))")
        }
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        var batch = batch
        var record: [UInt8]
        switch config.format {
        case .json:
            record = OTLPJSON.encode(try batch.model())
            record.append(UInt8(ascii: "\n"))
        case .proto:
            let bytes = batch.encoded()
            let length = UInt32(bytes.count)
            record = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            record.append(contentsOf: bytes)
        }
        try file.withLock { state in
            guard let handle = state.handle else { throw PipelineError.retryable("file exporter is not started") }
            do {
                try handle.write(contentsOf: record)
            } catch {
                throw PipelineError.retryable("cannot write \(config.path): \(error)")
            }
            state.size += UInt64(record.count)
            if let rotation = config.rotation, state.size >= UInt64(rotation.max_megabytes) * 1_048_576 {
                try rotate(&state, keep: rotation.max_backups)
            }
        }
    }

    /// Renames the full file to `name-<timestamp>.ext` and starts an empty one.
    private func rotate(_ state: inout (handle: FileHandle?, size: UInt64), keep: Int) throws {
        try state.handle?.close()
        let url = URL(fileURLWithPath: config.path)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "-")
        let base = url.deletingPathExtension().lastPathComponent
        let ext = url.pathExtension.isEmpty ? "" : ".\(url.pathExtension)"
        let rotated = url.deletingLastPathComponent().appendingPathComponent("\(base)-\(stamp)\(ext)")
        try FileManager.default.moveItem(at: url, to: rotated)
        let siblings = (try? FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)) ?? []
        let backups = siblings.filter { $0.hasPrefix("\(base)-") && $0.hasSuffix(ext) }.sorted()
        for old in backups.dropLast(max(keep, 0)) {
            try? FileManager.default.removeItem(at: url.deletingLastPathComponent().appendingPathComponent(old))
        }
        state.handle = try open(truncate: true)
        state.size = 0
    }

    public func shutdown() async {
        file.withLock { state in
            try? state.handle?.synchronize()
            try? state.handle?.close()
            state.handle = nil
        }
    }
}
