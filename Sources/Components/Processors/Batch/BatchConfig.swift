import Pipeline

/// `processors.batch`: the Go collector's keys and defaults.
public struct BatchConfig: ComponentConfig {
    public var send_batch_size: Int = 8192
    public var send_batch_max_size: Int = 0
    public var timeout: ConfigDuration = .milliseconds(200)
    public var metadata_keys: [String] = []
    public var metadata_cardinality_limit: Int = 1000

    public init() {}

    public func validate() throws(ConfigError) {
        if send_batch_size < 0 { throw ConfigError(path: "send_batch_size", message: "must not be negative") }
        if timeout.nanoseconds < 0 { throw ConfigError(path: "timeout", message: "must not be negative") }
        if send_batch_max_size < 0 { throw ConfigError(path: "send_batch_max_size", message: "must not be negative") }
        if send_batch_max_size > 0, send_batch_max_size < send_batch_size {
            throw ConfigError(path: "send_batch_max_size", message: "must be greater than or equal to send_batch_size (\(send_batch_size))")
        }
        var seen = Set<String>()
        for key in metadata_keys where !seen.insert(key.lowercased()).inserted {
            throw ConfigError(path: "metadata_keys", message: "duplicate entry \"\(key)\" (keys are case-insensitive)")
        }
    }
}
