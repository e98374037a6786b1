import Foundation
#if canImport(Glibc)
import CMalloc
#endif
import Logging
import Synchronization

/// Samples the process's resident memory every `check_interval` and says whether new data must
/// be refused (at or above the soft limit). Resident memory is what the kernel and container
/// limits count, so it is what we limit.
///
/// Where the Go collector forces a garbage collection above the soft limit, this returns freed
/// heap pages to the kernel (`malloc_trim`) and measures again: without it, glibc keeps freed
/// request buffers mapped and the limiter would go on refusing after the load has passed.
final class MemoryMonitor: Sendable {
    let hardLimit: UInt64
    let softLimit: UInt64
    private let interval: Duration
    private let logger: Logger
    private let refusing = Atomic<Bool>(false)
    private let users = Mutex<(count: Int, task: Task<Void, Never>?)>((0, nil))

    init(config: MemoryLimiterConfig, logger: Logger) {
        #if canImport(Glibc)
        // A fixed mmap threshold keeps large request buffers in their own mappings, which free()
        // returns to the kernel at once; glibc's default raises the threshold after the first
        // such free, after which large buffers stay in the heap.
        mallopt(M_MMAP_THRESHOLD, 256 * 1024)
        #endif
        let total = Self.totalMemory()
        (hardLimit, softLimit) = config.limits(totalMemory: total)
        interval = config.check_interval.duration
        self.logger = logger
    }

    var isRefusing: Bool { refusing.load(ordering: .relaxed) }

    func start() {
        users.withLock { state in
            state.count += 1
            guard state.task == nil else { return }
            check()
            let interval = self.interval
            state.task = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    self?.check()
                }
            }
        }
    }

    func stop() {
        users.withLock { state in
            state.count -= 1
            if state.count <= 0 { state.task?.cancel(); state.task = nil }
        }
    }

    func check() {
        var resident = Self.residentBytes()
        #if canImport(Glibc)
        if resident >= softLimit {
            malloc_trim(0)
            resident = Self.residentBytes()
        }
        #endif
        let above = resident >= softLimit
        let was = refusing.exchange(above, ordering: .relaxed)
        if above, !was {
            logger.warning("memory usage is above the soft limit, refusing data: resident \(resident / 1_048_576) MiB, soft limit \(softLimit / 1_048_576) MiB, hard limit \(hardLimit / 1_048_576) MiB")
        } else if !above, was {
            logger.info("memory usage back within limits: resident \(resident / 1_048_576) MiB")
        }
    }

    /// Resident set size from /proc/self/statm (pages).
    static func residentBytes() -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Physical memory, or the cgroup v2 limit when it is lower.
    static func totalMemory() -> UInt64 {
        var total = ProcessInfo.processInfo.physicalMemory
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let limit = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit < total {
            total = limit
        }
        return total
    }
}
