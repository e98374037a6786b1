import CZlib
import CZstd

/// Compresses request bodies for exporters (the receivers' side is `Decompression`).
public enum Compression {
    /// gzip, at zlib's default level unless told (1 is fastest).
    public static func gzip(_ input: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8]? {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))))
        var input = input
        let status = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeLast(Int(stream.avail_out))
        return output
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
