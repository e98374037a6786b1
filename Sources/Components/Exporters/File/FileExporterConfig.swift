import Pipeline

/// `exporters.file`: the Go collector's keys. `format: json` writes one OTLP/JSON request per
/// line; `format: proto` writes each request as a 4-byte big-endian length and the protobuf.
public struct FileExporterConfig: ComponentConfig {
    public enum Format: String, ConfigOption { case json, proto }
    public var path: String = ""
    public var format: Format = .json
    public var append: Bool = false
    public var rotation: Rotation?
    public var compression: String?
    public var encoding: String?
    public var group_by: ConfigNode?

    public struct Rotation: ConfigSection {
        public var max_megabytes: Int = 100
        public var max_backups: Int = 100
        public init() {}
    }

    public init() {}

    public static let inertKeys = [
        InertKey("flush_interval", "every batch is written before the export returns"),
        InertKey("rotation.max_days", "files are rotated by size only (rotation.max_megabytes, max_backups)"),
        InertKey("rotation.localtime", "rotated files are named in UTC"),
    ]

    public func validate() throws(ConfigError) {
        if path.isEmpty { throw ConfigError(path: "path", message: "a file path is required") }
        if let compression, !compression.isEmpty {
            throw ConfigError(path: "compression", message: "not supported yet; leave it unset")
        }
        if let encoding, !encoding.isEmpty {
            throw ConfigError(path: "encoding", message: "encoding extensions are not supported; use format: json or proto")
        }
        if let group_by, group_by != .null, group_by["enabled"] == .scalar("true", quoted: false) {
            throw ConfigError(path: "group_by", message: "not supported yet")
        }
        if let rotation, rotation.max_megabytes <= 0 {
            throw ConfigError(path: "rotation.max_megabytes", message: "must be greater than 0")
        }
    }
}
