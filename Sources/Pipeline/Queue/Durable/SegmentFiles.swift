import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A durable queue's folder: segment files named by the sequence number of their first record,
/// the acknowledgement file, and the lock file that keeps a second collector out.
struct SegmentFiles {
    let directory: String

    func path(ofSegment first: UInt64) -> String {
        directory + "/" + Self.name(ofSegment: first)
    }

    static func name(ofSegment first: UInt64) -> String {
        let digits = String(first)
        return "segment-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".log"
    }

    /// The first sequence numbers of the segments present, in order.
    func segments() throws(QueueFileError) -> [UInt64] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw QueueFileError(path: directory, operation: "list", detail: "\(error.localizedDescription)")
        }
        return names.compactMap { name -> UInt64? in
            guard name.hasPrefix("segment-"), name.hasSuffix(".log") else { return nil }
            return UInt64(name.dropFirst(8).dropLast(4))
        }.sorted()
    }

    func size(ofSegment first: UInt64) -> Int {
        var info = stat()
        return stat(path(ofSegment: first), &info) == 0 ? Int(info.st_size) : 0
    }

    /// Creates the folder (and its parents) if needed, and checks that files can be made in it.
    static func prepare(_ directory: String, permissions: mode_t) throws(QueueFileError) {
        var info = stat()
        if stat(directory, &info) != 0 {
            if mkdir(directory, permissions) != 0, errno != EEXIST {
                throw QueueFileError(path: directory, operation: "create the directory", errno: errno)
            }
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            throw QueueFileError(path: directory, operation: "use", detail: "it is not a directory")
        }
        let probe = directory + "/.probe"
        let fd = open(probe, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw QueueFileError(path: directory, operation: "create files in", errno: errno) }
        close(fd)
        unlink(probe)
    }

    func syncDirectory() {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

/// The acknowledgement position: every record below it was delivered. It is written in place
/// without a sync of its own: losing the newest value after a power cut only means some records
/// are delivered twice, never that one is lost.
final class AckFile: Sendable {
    private let fd: Int32

    init(directory: String) throws(QueueFileError) {
        let path = directory + "/ack"
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw QueueFileError(path: path, operation: "open", errno: errno) }
    }

    deinit { close(fd) }

    /// The stored position, or nil when the file is new or its checksum does not hold.
    func read() -> UInt64? {
        var bytes = [UInt8](repeating: 0, count: 12)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 12, 0) }
        guard count == 12 else { return nil }
        return bytes.withUnsafeBytes { raw -> UInt64? in
            let value = QueueRecord.load(UInt64.self, raw, 0)
            guard QueueRecord.crc(UnsafeRawBufferPointer(rebasing: raw[0..<8])) == QueueRecord.load(UInt32.self, raw, 8) else { return nil }
            return value
        }
    }

    func write(_ position: UInt64) {
        var bytes: [UInt8] = []
        QueueRecord.append(position, to: &bytes)
        let check = bytes.withUnsafeBytes { QueueRecord.crc($0) }
        QueueRecord.append(check, to: &bytes)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, 12, 0) }
    }
}

/// An exclusive lock on a queue folder for as long as the queue is open (flock: released by the
/// kernel when the process dies, so a crashed collector never leaves a stale lock).
final class DirectoryLock {
    private let fd: Int32

    init(directory: String, timeout: Duration) throws(QueueFileError) {
        let path = directory + "/lock"
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw QueueFileError(path: path, operation: "open", errno: errno) }
        let deadline = ContinuousClock.now + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno
            guard reason == EWOULDBLOCK, ContinuousClock.now < deadline else {
                close(fd)
                if reason == EWOULDBLOCK {
                    throw QueueFileError(path: directory, operation: "lock",
                                         detail: "another process holds \(path) (is a second collector using this directory?)")
                }
                throw QueueFileError(path: path, operation: "lock", errno: reason)
            }
            usleep(10_000)
        }
    }

    deinit { close(fd) }
}

/// A file operation of a durable queue that failed, with the path it concerned.
public struct QueueFileError: Error, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let detail: String

    init(path: String, operation: String, detail: String) {
        self.path = path
        self.operation = operation
        self.detail = detail
    }

    init(path: String, operation: String, errno code: Int32) {
        self.init(path: path, operation: operation, detail: String(cString: strerror(code)))
    }

    public var description: String { "cannot \(operation) \(path): \(detail)" }
}
