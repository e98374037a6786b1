import Pipeline

/// `extensions.zpages`: Go's keys. The pages are served on `endpoint`.
public struct ZPagesConfig: ComponentConfig {
    public var endpoint = "localhost:55679"
    public init() {}

    public static let inertKeys = [
        InertKey("expvar", "Go's runtime variables do not exist here; /debug/status shows the collector's own"),
    ]

    public func validate() throws(ConfigError) {
        guard HTTPServer.split(endpoint: endpoint) != nil else {
            throw ConfigError(path: "endpoint", message: "expected host:port, got \"\(endpoint)\"")
        }
    }
}
