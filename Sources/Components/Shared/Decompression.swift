import CZlib
import Foundation
import CZstd

/// Inflates request bodies with a hard output limit, so a small compressed body (a compression
/// bomb) can never grow past the configured maximum in memory.
public enum Decompression {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case tooLarge(limit: Int)
        case corrupt(String)

        public var description: String {
            switch self {
            case .tooLarge(let limit): "decompressed body is larger than the limit of \(limit) bytes"
            case .corrupt(let reason): reason
            }
        }
    }

    /// Decodes `body` per a Content-Encoding value; nil means the encoding is not supported.
    public static func decode(_ body: [UInt8], contentEncoding: String, limit: Int) -> Result<[UInt8], Failure>? {
        switch contentEncoding.lowercased().trimmingCharacters(in: .whitespaces) {
        case "", "identity", "none":
            return body.count > limit ? .failure(.tooLarge(limit: limit)) : .success(body)
        case "gzip", "x-gzip": return inflate(body, windowBits: 15 + 32, limit: limit, name: "gzip")
        case "deflate", "zlib":
            // HTTP's "deflate" is zlib-wrapped, but raw deflate is common in the wild: accept both.
            let wrapped = inflate(body, windowBits: 15 + 32, limit: limit, name: "deflate")
            if case .failure(.corrupt) = wrapped { return inflate(body, windowBits: -15, limit: limit, name: "deflate") }
            return wrapped
        case "zstd": return unzstd(body, limit: limit)
        default: return nil
        }
    }

    private static func inflate(_ input: [UInt8], windowBits: Int32, limit: Int, name: String) -> Result<[UInt8], Failure> {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return .failure(.corrupt("cannot initialise \(name) decoder"))
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        return input.withUnsafeMutableBufferPointer { inBuffer -> Result<[UInt8], Failure> in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(inBuffer.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = UInt32(outBuffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > limit { return .failure(.tooLarge(limit: limit)) }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    return .success(output)
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    return .failure(.corrupt("invalid \(name) body: truncated"))
                case Z_BUF_ERROR:
                    continue
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    return .failure(.corrupt("invalid \(name) body: \(reason)"))
                }
            }
        }
    }

    private static func unzstd(_ input: [UInt8], limit: Int) -> Result<[UInt8], Failure> {
        guard let context = ZSTD_createDStream() else { return .failure(.corrupt("cannot initialise zstd decoder")) }
        defer { ZSTD_freeDStream(context) }
        ZSTD_initDStream(context)
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return input.withUnsafeBytes { inBuffer -> Result<[UInt8], Failure> in
            var inDesc = ZSTD_inBuffer(src: inBuffer.baseAddress, size: inBuffer.count, pos: 0)
            var lastResult = 1
            while inDesc.pos < inDesc.size || lastResult != 0 {
                var produced = 0
                let result = chunk.withUnsafeMutableBytes { outBuffer -> Int in
                    var outDesc = ZSTD_outBuffer(dst: outBuffer.baseAddress, size: outBuffer.count, pos: 0)
                    let r = ZSTD_decompressStream(context, &outDesc, &inDesc)
                    produced = outDesc.pos
                    return r
                }
                if ZSTD_isError(result) != 0 {
                    return .failure(.corrupt("invalid zstd body: \(String(cString: ZSTD_getErrorName(result)))"))
                }
                if output.count + produced > limit { return .failure(.tooLarge(limit: limit)) }
                output.append(contentsOf: chunk[0..<produced])
                lastResult = result
                if inDesc.pos >= inDesc.size, produced == 0, result != 0 {
                    return .failure(.corrupt("invalid zstd body: truncated"))
                }
            }
            return .success(output)
        }
    }
}
