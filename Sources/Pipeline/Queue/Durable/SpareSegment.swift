import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One delivered segment file kept for reuse instead of being deleted. Writing over blocks a file
/// already has lets a sync flush only the data; appending to a new file also has the filesystem
/// commit the file's growth, which on the disks measured doubled the time of a sync and made its
/// slowest ones several times slower (docs/BENCHMARKS.md).
final class SpareSegment: Sendable {
    private let path: String
    private let minimumSize: Int
    private let held: Mutex<Bool>

    init(files: SegmentFiles, minimumSize: Int) {
        path = files.directory + "/spare-segment"
        self.minimumSize = minimumSize
        var info = stat()
        held = Mutex(stat(path, &info) == 0)
    }

    /// Takes `segment` (a delivered segment file) as the spare when there is none yet, it is full
    /// size, and its filesystem has room for four more: a filling disk gets its space back.
    func keep(_ segment: String) -> Bool {
        held.withLock { held in
            guard !held else { return false }
            var info = stat()
            var volume = statvfs()
            guard stat(segment, &info) == 0, Int(info.st_size) >= minimumSize, statvfs(segment, &volume) == 0,
                  Int(volume.f_bavail) * Int(volume.f_frsize) >= 4 * minimumSize,
                  rename(segment, path) == 0 else { return false }
            held = true
            return true
        }
    }

    /// Renames the spare to `segment`; false when there is none.
    func take(as segment: String) -> Bool {
        held.withLock { held in
            guard held else { return false }
            held = false
            return rename(path, segment) == 0
        }
    }

    var size: Int {
        var info = stat()
        return held.withLock { $0 } && stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}
