import OTLP
import Pipeline

/// `extensions.headers_setter`: the Go extension's keys. Sets headers of outgoing requests from
/// the metadata of the request the data came in with (`from_context`, which needs
/// `include_metadata: true` on the receiver), or from a fixed `value`.
public struct HeadersSetterConfig: ComponentConfig {
    public enum Action: String, ConfigOption { case insert, update, upsert, delete }

    public struct Header: ConfigSection {
        public var key = ""
        public var value: String?
        public var from_context: String?
        public var default_value: String?
        public var action: Action = .upsert
        public init() {}
    }

    public var headers: [Header] = []
    public init() {}

    public static let inertKeys = [
        InertKey("headers.from_attribute", "authentication attributes are not kept with the data; use from_context"),
    ]

    public func validate() throws(ConfigError) {
        if headers.isEmpty { throw ConfigError(path: "headers", message: "at least one header is required") }
        for (index, header) in headers.enumerated() {
            let at = "headers[\(index)]"
            if header.key.isEmpty { throw ConfigError(path: "\(at).key", message: "is required") }
            guard header.action != .delete else { continue }
            if (header.value == nil) == (header.from_context == nil) {
                throw ConfigError(path: "\(at)", message: "exactly one of value or from_context is required")
            }
        }
    }
}
