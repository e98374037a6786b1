import OTLP
import Pipeline

/// `exporters.otlphttp` (also `otlp_http`): the Go collector's keys and defaults.
public struct OTLPHTTPExporterConfig: QueuedExporterConfig {
    public enum Compression: String, ConfigOption { case gzip, zstd, none }
    public enum Encoding: String, ConfigOption { case proto, json }

    public var endpoint = ""
    public var traces_endpoint = ""
    public var metrics_endpoint = ""
    public var logs_endpoint = ""
    public var headers: [String: String] = [:]
    public var compression: Compression = .gzip
    public var compression_params = CompressionParams()
    public var encoding: Encoding = .proto
    public var timeout: ConfigDuration = .seconds(30)
    public var retry_on_failure = RetrySettings()
    public var sending_queue = SendingQueueSettings()
    public var tls = TLSClientSettings()
    public var auth: AuthSettings?
    public var proxy_url: String?
    public var idle_conn_timeout: ConfigDuration = .seconds(90)
    /// 0 keeps AsyncHTTPClient's 8 (Go's net/http keeps 2).
    public var max_idle_conns_per_host = 0

    public init() {}

    public static let inertKeys = [InertKey("profiles_endpoint", "profiles are not a signal of this collector; nothing is sent there")]
        + HTTPClientConnections.inertKeys + TLSClientSettings.inertKeys.under("tls")

    var connections: HTTPClientConnections {
        HTTPClientConnections(proxyURL: proxy_url, idleConnTimeout: idle_conn_timeout, maxIdleConnsPerHost: max_idle_conns_per_host)
    }

    public var sendingQueue: SendingQueueSettings { sending_queue }
    public var retryOnFailure: RetrySettings? { retry_on_failure }

    /// The URL a signal is posted to: its own endpoint verbatim, else the base plus `/v1/<signal>`.
    public func url(for signal: Signal) -> String {
        let own = switch signal { case .traces: traces_endpoint; case .metrics: metrics_endpoint; case .logs: logs_endpoint }
        if !own.isEmpty { return own }
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        return base + signal.defaultHTTPPath
    }

    public var extensionReferences: [(key: String, name: String)] { AuthSettings.references(auth) }

    public func validate() throws(ConfigError) {
        try sending_queue.validate(under: "sending_queue")
        try retry_on_failure.validate(under: "retry_on_failure")
        if endpoint.isEmpty, traces_endpoint.isEmpty, metrics_endpoint.isEmpty, logs_endpoint.isEmpty {
            throw ConfigError(path: "endpoint", message: "an endpoint is required (endpoint, or traces_endpoint/metrics_endpoint/logs_endpoint)")
        }
        for (key, value) in [("endpoint", endpoint), ("traces_endpoint", traces_endpoint), ("metrics_endpoint", metrics_endpoint), ("logs_endpoint", logs_endpoint)]
            where !value.isEmpty && !(value.hasPrefix("http://") || value.hasPrefix("https://")) {
            throw ConfigError(path: key, message: "must be an http:// or https:// URL, got \"\(value)\"")
        }
        if timeout.nanoseconds <= 0 { throw ConfigError(path: "timeout", message: "must be greater than 0") }
        try compression_params.validate(for: compression.rawValue)
        try tls.validate()
        try AuthSettings.check(auth)
        _ = try connections.proxy(key: "proxy_url")
    }
}
