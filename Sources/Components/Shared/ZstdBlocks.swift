import CZstd
import Synchronization

/// zstd for blocks kept in memory (held spans): one-shot frames of known size, with compression
/// and decompression contexts reused, since making one costs more than a block of a few tens of
/// kilobytes takes to compress.
enum ZstdBlocks {
    /// A zstd context handed between calls through a pool.
    // Safe to send: a context is used by one call at a time, the one that took it from the pool,
    // and goes back to the pool (or is freed) when that call ends.
    private struct Context: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private static let compressors = Mutex<[Context]>([])
    private static let decompressors = Mutex<[Context]>([])
    private static let pooled = 8

    /// The zstd frame of `source` at `level` (negative levels are zstd's fast ones), or nil when
    /// zstd fails (out of memory).
    static func compress(_ source: UnsafeRawBufferPointer, level: Int32) -> [UInt8]? {
        guard let context = compressors.withLock({ $0.popLast() }) ?? ZSTD_createCCtx().map(Context.init) else { return nil }
        defer { give(context, to: compressors) { _ = ZSTD_freeCCtx($0) } }
        let bound = ZSTD_compressBound(source.count)
        var written = 0
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            written = ZSTD_compressCCtx(context.pointer, buffer.baseAddress, bound, source.baseAddress, source.count, level)
            count = ZSTD_isError(written) == 0 ? written : 0
        }
        return ZSTD_isError(written) == 0 ? output : nil
    }

    /// Decompresses a frame of `compress` into `destination`, which must be its size exactly.
    static func decompress(_ frame: [UInt8], into destination: UnsafeMutableRawBufferPointer) -> Bool {
        guard let context = decompressors.withLock({ $0.popLast() }) ?? ZSTD_createDCtx().map(Context.init) else { return false }
        defer { give(context, to: decompressors) { _ = ZSTD_freeDCtx($0) } }
        let result = frame.withUnsafeBytes { source in
            ZSTD_decompressDCtx(context.pointer, destination.baseAddress, destination.count, source.baseAddress, source.count)
        }
        return ZSTD_isError(result) == 0 && result == destination.count
    }

    private static func give(_ context: Context, to pool: borrowing Mutex<[Context]>, free: (OpaquePointer) -> Void) {
        let kept = pool.withLock { contexts in
            guard contexts.count < pooled else { return false }
            contexts.append(context)
            return true
        }
        if !kept { free(context.pointer) }
    }
}
