import Pipeline

/// `receivers.otlp`: the Go collector's keys. A protocol is enabled by naming it, even with no
/// value (`grpc:`); an unnamed protocol is off.
public struct OTLPReceiverConfig: ComponentConfig {
    public var protocols = Protocols()

    public init() {}

    public static let inertKeys = [
        InertKey("protocols.grpc.read_buffer_size", "socket buffers are sized by the kernel"),
        InertKey("protocols.grpc.write_buffer_size", "socket buffers are sized by the kernel"),
        InertKey("protocols.grpc.keepalive", "connections are kept until the client closes them; no pings are sent"),
        InertKey("protocols.http.compression_algorithms", "gzip, deflate, zstd and identity bodies are always accepted"),
        InertKey("protocols.http.read_timeout", "a request is read for as long as it arrives; idle_timeout closes silent connections"),
        InertKey("protocols.http.read_header_timeout", "a request is read for as long as it arrives; idle_timeout closes silent connections"),
        InertKey("protocols.http.write_timeout", "a response is written for as long as the client reads it"),
    ] + TLSServerSettings.inertKeys.under("protocols.grpc.tls") + TLSServerSettings.inertKeys.under("protocols.http.tls")

    public struct Protocols: ConfigSection {
        public var grpc: GRPCSettings?
        public var http: HTTPSettings?
        public init() {}
    }

    public struct GRPCSettings: ConfigSection {
        public var endpoint = "localhost:4317"
        public var transport = "tcp"
        public var max_recv_msg_size_mib: Int = 4
        public var max_concurrent_streams: Int = 0
        public var include_metadata = false
        public var tls: TLSServerSettings?
        public var auth: AuthSettings?
        public init() {}
    }

    public struct HTTPSettings: ConfigSection {
        public var endpoint = "localhost:4318"
        public var traces_url_path = "/v1/traces"
        public var metrics_url_path = "/v1/metrics"
        public var logs_url_path = "/v1/logs"
        public var max_request_body_size: Int = 20 * 1024 * 1024
        public var include_metadata = false
        public var cors: CORSSettings?
        public var response_headers: [String: String]?
        public var tls: TLSServerSettings?
        public var auth: AuthSettings?
        // Go's http.Server settings, with confighttp's defaults.
        public var keep_alives_enabled = true
        public var idle_timeout: ConfigDuration = .seconds(60)
        public init() {}

        /// A zero `idle_timeout` means no limit, as in Go.
        var connections: HTTPServer.Connections {
            HTTPServer.Connections(keepAlives: keep_alives_enabled,
                                   idleTimeout: idle_timeout.nanoseconds > 0 ? .nanoseconds(idle_timeout.nanoseconds) : nil)
        }
    }

    public struct CORSSettings: ConfigSection {
        public var allowed_origins: [String] = []
        public var allowed_headers: [String] = []
        public var max_age: Int = 0
        public init() {}
    }

    public func validate() throws(ConfigError) {
        guard protocols.grpc != nil || protocols.http != nil else {
            throw ConfigError(path: "protocols", message: "at least one of grpc or http must be enabled")
        }
        if let grpc = protocols.grpc {
            try Self.checkEndpoint(grpc.endpoint, "protocols.grpc.endpoint")
            if grpc.transport != "tcp" {
                throw ConfigError(path: "protocols.grpc.transport", message: "only tcp is supported")
            }
            if grpc.max_recv_msg_size_mib <= 0 {
                throw ConfigError(path: "protocols.grpc.max_recv_msg_size_mib", message: "must be greater than 0")
            }
            _ = try grpc.tls?.context(path: "protocols.grpc.tls", alpn: Self.grpcALPN)
            try Self.check(grpc.auth, "protocols.grpc.auth")
        }
        if let http = protocols.http {
            try Self.checkEndpoint(http.endpoint, "protocols.http.endpoint")
            for (key, path) in [("traces_url_path", http.traces_url_path), ("metrics_url_path", http.metrics_url_path), ("logs_url_path", http.logs_url_path)] where !path.hasPrefix("/") {
                throw ConfigError(path: "protocols.http.\(key)", message: "must start with /")
            }
            if http.max_request_body_size <= 0 {
                throw ConfigError(path: "protocols.http.max_request_body_size", message: "must be greater than 0")
            }
            _ = try http.tls?.context(path: "protocols.http.tls", alpn: Self.httpALPN)
            try Self.check(http.auth, "protocols.http.auth")
        }
    }

    static func checkEndpoint(_ endpoint: String, _ path: String) throws(ConfigError) {
        guard HTTPServer.split(endpoint: endpoint) != nil else {
            throw ConfigError(path: path, message: "expected host:port, got \"\(endpoint)\"")
        }
    }

    /// What each server offers in TLS's protocol negotiation: gRPC is HTTP/2 only; the HTTP
    /// server speaks HTTP/1.1.
    static let grpcALPN = ["h2"]
    static let httpALPN = ["http/1.1"]

    /// An `auth` block without an authenticator would serve without authentication when it was
    /// asked for: refused.
    static func check(_ auth: AuthSettings?, _ path: String) throws(ConfigError) {
        if let auth, auth.authenticator.isEmpty { throw ConfigError(path: "\(path).authenticator", message: "is required") }
    }

    public var extensionReferences: [(key: String, name: String)] {
        [("protocols.grpc.auth.authenticator", protocols.grpc?.auth), ("protocols.http.auth.authenticator", protocols.http?.auth)]
            .compactMap { key, auth in auth.map { (key, $0.authenticator) } }
    }
}
