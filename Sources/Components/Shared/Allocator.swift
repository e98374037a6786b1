import CMalloc

/// How the process asks glibc's allocator to treat the large buffers of its hot paths (batches
/// of a few MB, `_bulk` bodies, compressed copies), made and freed many times a second.
public enum Allocator {
    /// Serves buffers up to 32 MiB from the heap instead of fresh mappings, and keeps up to
    /// 64 MiB of freed heap per arena for reuse. glibc's defaults map and unmap each such buffer,
    /// and the page faults of touching fresh pages cost the elasticsearch exporter about a tenth
    /// of its CPU (docs/BENCHMARKS.md). What is kept still counts as resident memory; the
    /// memory_limiter trims it (`malloc_trim`) when the soft limit is reached.
    public static func keepLargeBuffersForReuse() {
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 64 << 20)
    }
}
