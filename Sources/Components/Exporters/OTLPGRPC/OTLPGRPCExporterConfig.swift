import Pipeline

/// `exporters.otlp`: OTLP over gRPC, with the Go collector's keys and defaults (TLS unless
/// `tls.insecure: true`).
public struct OTLPGRPCExporterConfig: QueuedExporterConfig {
    public enum Compression: String, ConfigOption { case gzip, none }

    public var endpoint = ""
    public var tls = TLSClientSettings()
    public var headers: [String: String] = [:]
    public var compression: Compression = .gzip
    public var timeout: ConfigDuration = .seconds(5)
    public var retry_on_failure = RetrySettings()
    public var sending_queue = SendingQueueSettings()
    public var wait_for_ready = false
    public var auth: AuthSettings?

    public init() {}

    public static let inertKeys = [
        InertKey("balancer_name", "one connection to the endpoint's first address"),
        InertKey("keepalive", "no keepalive pings are sent; a dead connection fails the export at timeout"),
        InertKey("read_buffer_size", "socket buffers are sized by the kernel"),
        InertKey("write_buffer_size", "socket buffers are sized by the kernel"),
        InertKey("tls.min_version", "TLS 1.2 or 1.3, as the server offers"),
        InertKey("tls.max_version", "TLS 1.2 or 1.3, as the server offers"),
    ] + TLSClientSettings.inertKeys.under("tls")

    /// Host and port of `endpoint` (`host:port`, optionally with an http(s):// scheme).
    public var hostAndPort: (host: String, port: Int)? {
        var text = endpoint
        for scheme in ["http://", "https://", "dns:///"] where text.hasPrefix(scheme) { text.removeFirst(scheme.count) }
        if text.hasSuffix("/") { text.removeLast() }
        return HTTPServer.split(endpoint: text)
    }

    /// Plaintext when asked for, or when the endpoint says http://.
    public var plaintext: Bool { tls.insecure || endpoint.hasPrefix("http://") }

    public var sendingQueue: SendingQueueSettings { sending_queue }
    public var retryOnFailure: RetrySettings? { retry_on_failure }

    public var extensionReferences: [(key: String, name: String)] { AuthSettings.references(auth) }

    public func validate() throws(ConfigError) {
        try sending_queue.validate(under: "sending_queue")
        try retry_on_failure.validate(under: "retry_on_failure")
        guard hostAndPort != nil else { throw ConfigError(path: "endpoint", message: "expected host:port, got \"\(endpoint)\"") }
        try tls.validate()
        // Reads the certificate files now, so a bad one is reported with its key.
        if !plaintext { _ = try tls.nioConfiguration() }
        try AuthSettings.check(auth)
        if timeout.nanoseconds <= 0 { throw ConfigError(path: "timeout", message: "must be greater than 0") }
    }
}
