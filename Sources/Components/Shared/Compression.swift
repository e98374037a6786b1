import CDeflate
import CZstd
import Foundation
import NIOCore

/// Compresses request bodies for exporters (the receivers' side is `Decompression`).
public enum Compression {
    /// gzip of a whole body, with libdeflate: at the same level about twice as fast as zlib's
    /// streaming deflate (the elasticsearch exporter's largest cost after writing documents).
    /// Levels are zlib's, 1 fastest to 9; the default is zlib's default, 6.
    /// The result goes straight into the buffer the HTTP client sends.
    public static func gzip(_ input: some ContiguousBytes, level: Int32 = 6) -> ByteBuffer? {
        guard let compressor = libdeflate_alloc_compressor(level) else { return nil }
        defer { libdeflate_free_compressor(compressor) }
        return input.withUnsafeBytes { source -> ByteBuffer? in
            let bound = libdeflate_gzip_compress_bound(compressor, source.count)
            var output = ByteBufferAllocator().buffer(capacity: bound)
            let written = output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { buffer in
                libdeflate_gzip_compress(compressor, source.baseAddress, source.count, buffer.baseAddress, bound)
            }
            return written == 0 ? nil : output
        }
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
