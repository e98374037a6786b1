import Pipeline

/// `compression_params` of the HTTP exporters, read as Go's configcompression reads it: gzip
/// takes zlib's levels (1 fastest to 9 smallest, -1 zlib's default 6, 0 stored without
/// compression, -2 Huffman-only), zstd any level, and no compression no level.
public struct CompressionParams: ConfigSection {
    public var level: Int?

    public init() {}

    /// Checks the level against the compression `type` the exporter was given.
    public func validate(for type: String) throws(ConfigError) {
        guard let level else { return }
        let valid = switch type {
        case "gzip": (-2...9).contains(level)
        case "zstd": Int(Int32.min)...Int(Int32.max) ~= level
        default: level == 0
        }
        guard valid else {
            throw ConfigError(path: "compression_params.level", message: "unsupported level \(level) for compression type \"\(type)\""
                + (type == "gzip" ? " (1 fastest to 9 smallest, -1 default, 0 none, -2 Huffman-only)" : ""))
        }
    }

    /// The gzip level to compress with: the configured one, else the exporter's `fallback`.
    /// Huffman-only has no counterpart here and compresses at level 1, the nearest in cost.
    public func gzipLevel(default fallback: Int32) -> Int32 {
        switch level {
        case nil: fallback
        case -1: 6
        case -2: 1
        case let level?: Int32(level)
        }
    }

    /// The zstd level to compress with: the configured one, else zstd's default, 3.
    public var zstdLevel: Int32 { level.map { Int32($0) } ?? 3 }
}
