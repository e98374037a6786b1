import CDeflate
import CIgzip
import CZstd
import Foundation
import NIOCore

/// Compresses request bodies for exporters (the receivers' side is `Decompression`).
public enum Compression {
    /// gzip of a whole body. Level 1, zlib's "best speed" and the elasticsearch exporter's default,
    /// is ISA-L's igzip: on bulk bodies of span documents about three times as fast as libdeflate's
    /// level 1 (2.5–3 GB/s against 1 GB/s) at the same ratio, which made it the exporter's largest
    /// cost after writing documents. ISA-L has nothing like zlib's higher levels, so levels 2 to 9
    /// (the default is zlib's, 6) are libdeflate's, about twice as fast as zlib at the same level.
    /// The result goes straight into the buffer the HTTP client sends.
    public static func gzip(_ input: some ContiguousBytes, level: Int32 = 6) -> ByteBuffer? {
        input.withUnsafeBytes { source in
            level == 1 ? igzip(source) : libdeflateGzip(source, level: level)
        }
    }

    private static func igzip(_ source: UnsafeRawBufferPointer) -> ByteBuffer? {
        // Stateless (one-shot) compression never grows the input by more than its stored blocks'
        // headers (5 bytes per 64 KiB) and the gzip header and trailer.
        let bound = source.count + source.count / 1024 + 4096
        // ISA-L counts in 32 bits; bulk bodies are cut at flush.bytes, far below.
        guard bound <= Int(UInt32.max) else { return libdeflateGzip(source, level: 1) }
        let history = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(cigzip_level1_buffer_size), alignment: 64)
        defer { history.deallocate() }
        var output = ByteBufferAllocator().buffer(capacity: bound)
        let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { buffer -> Int in
            var stream = isal_zstream()
            isal_deflate_stateless_init(&stream)
            stream.gzip_flag = UInt16(IGZIP_GZIP)
            stream.level = 1
            stream.level_buf = history.baseAddress?.assumingMemoryBound(to: UInt8.self)
            stream.level_buf_size = UInt32(history.count)
            stream.end_of_stream = 1
            stream.flush = UInt16(NO_FLUSH)
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: UInt8.self))
            stream.avail_in = UInt32(source.count)
            stream.next_out = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            stream.avail_out = UInt32(bound)
            guard isal_deflate_stateless(&stream) == COMP_OK else { return 0 }
            return Int(stream.total_out)
        }
        return written == 0 ? nil : output
    }

    private static func libdeflateGzip(_ source: UnsafeRawBufferPointer, level: Int32) -> ByteBuffer? {
        guard let compressor = libdeflate_alloc_compressor(level) else { return nil }
        defer { libdeflate_free_compressor(compressor) }
        let bound = libdeflate_gzip_compress_bound(compressor, source.count)
        var output = ByteBufferAllocator().buffer(capacity: bound)
        let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { buffer in
            libdeflate_gzip_compress(compressor, source.baseAddress, source.count, buffer.baseAddress, bound)
        }
        return written == 0 ? nil : output
    }

    public static func zstd(_ input: [UInt8], level: Int32 = 3) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(input.count))
        let written = input.withUnsafeBytes { inBuffer in
            output.withUnsafeMutableBytes { outBuffer in
                ZSTD_compress(outBuffer.baseAddress, outBuffer.count, inBuffer.baseAddress, inBuffer.count, level)
            }
        }
        guard ZSTD_isError(written) == 0 else { return nil }
        output.removeLast(output.count - written)
        return output
    }
}
