import Foundation
import Pipeline

/// `exporters.elasticsearch`: the Go exporter's keys. Defaults differ where the Go ones lose or
/// duplicate data (see docs/COMPATIBILITY.md): 5xx answers are retried too, because every
/// document carries an id derived from its content.
public struct ElasticsearchExporterConfig: QueuedExporterConfig {
    public enum Compression: String, ConfigOption { case gzip, none }

    public struct Mapping: ConfigSection {
        public var mode = "otel"
        public init() {}
    }

    public struct Toggle: ConfigSection {
        public var enabled = false
        public init() {}
    }

    public struct LogstashFormat: ConfigSection {
        public var enabled = false
        public var prefix_separator = "-"
        public var date_format = "%Y.%m.%d"
        public init() {}
    }

    public struct Retry: ConfigSection {
        public var enabled = true
        public var max_retries = 2
        public var max_requests: Int?
        public var initial_interval: ConfigDuration = .milliseconds(100)
        public var max_interval: ConfigDuration = .seconds(60)
        public var retry_on_status = [429, 500, 502, 503, 504]
        public var retry_on_document_status: [Int]?
        public init() {}

        /// `min(max_interval, initial_interval · 2^(n-1))` with jitter in its upper half, as in Go.
        var backoff: Backoff { Backoff(initial: initial_interval.duration, maximum: max_interval.duration, jitter: .upperHalf) }
    }

    public struct Flush: ConfigSection {
        public var bytes = 5_000_000
        public init() {}
    }

    public var endpoint = ""
    public var endpoints: [String] = []
    public var cloudid = ""
    public var api_key = ""
    public var user = ""
    public var password = ""
    public var headers: [String: String] = [:]
    public var tls = TLSClientSettings()
    public var compression: Compression = .gzip
    public var compression_params = CompressionParams()
    public var timeout: ConfigDuration = .seconds(90)
    public var mapping = Mapping()
    public var logs_index = ""
    public var metrics_index = ""
    public var traces_index = ""
    public var index: String?
    public var logstash_format = LogstashFormat()
    public var logs_dynamic_id = Toggle()
    public var traces_dynamic_id = Toggle()
    public var logs_dynamic_pipeline = Toggle()
    public var pipeline = ""
    public var include_source_on_error: Bool?
    public var retry = Retry()
    public var flush = Flush()
    /// The Go factory's defaults for this exporter: 10 requests, and callers wait for room.
    public var sending_queue = SendingQueueSettings(queueSize: 10, blockOnOverflow: true)
    public var num_workers: Int?
    public var auth: AuthSettings?
    public var proxy_url: String?
    public var idle_conn_timeout: ConfigDuration = .seconds(90)
    /// 0 keeps AsyncHTTPClient's 8 (Go's net/http keeps 2).
    public var max_idle_conns_per_host = 0

    public init() {}

    var connections: HTTPClientConnections {
        HTTPClientConnections(proxyURL: proxy_url, idleConnTimeout: idle_conn_timeout, maxIdleConnsPerHost: max_idle_conns_per_host)
    }

    public static let inertKeys = [
        InertKey("flush.interval", "documents are sent when the export arrives; batch with the batch processor"),
        InertKey("batcher", "documents are sent when the export arrives; batch with the batch processor"),
        InertKey("discover", "requests go to the configured endpoints only"),
        InertKey("telemetry", "the exporter's metrics are always on; requests and responses are not logged"),
        InertKey("metadata_keys", "requests with different metadata are not sent apart"),
        InertKey("bulk_response_filter_path", "the whole bulk response is read"),
        InertKey("suppress_conflict_errors", "a version conflict on a document is reported like any other document error"),
        InertKey("*_dynamic_index", "documents are routed by data_stream.* attributes (always on in otel mode)"),
        InertKey("mapping.allowed_modes", "the mapping mode is mapping.mode; it cannot be chosen per request"),
        InertKey("mapping.dedot", "otel mode keeps dots in field names"),
        InertKey("mapping.dedup", "otel mode has no duplicate fields to remove"),
    ] + HTTPClientConnections.inertKeys + TLSClientSettings.inertKeys.under("tls")

    /// The deprecated `num_workers` seeds `num_consumers` when that is left at its default.
    public var sendingQueue: SendingQueueSettings {
        var queue = sending_queue
        if let num_workers, queue.num_consumers == SendingQueueSettings().num_consumers { queue.num_consumers = num_workers }
        return queue
    }

    /// None: the exporter retries documents itself (`retry`), as the Go exporter does.
    public var retryOnFailure: RetrySettings? { nil }

    /// The mapping modes this exporter writes.
    static let supportedModes = ["otel", "bodymap"]

    var mappingMode: String { mapping.mode.lowercased() }

    /// `retry.max_requests` (deprecated) counted the first attempt; `max_retries` does not.
    var maxRetries: Int {
        guard retry.enabled else { return 0 }
        if let requests = retry.max_requests { return max(0, requests - 1) }
        return retry.max_retries
    }

    var documentRetryStatuses: Set<Int> { Set(retry.retry_on_document_status ?? retry.retry_on_status) }

    /// The base URLs, from `endpoint`, `endpoints`, `cloudid` or `ELASTICSEARCH_URL`.
    func resolvedEndpoints(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> [String] {
        let set = [!endpoint.isEmpty, !endpoints.isEmpty, !cloudid.isEmpty].filter { $0 }.count
        if set > 1 {
            throw ConfigError(path: "endpoint", message: "exactly one of [endpoint, endpoints, cloudid] must be specified")
        }
        var urls: [(key: String, url: String)]
        if !endpoint.isEmpty {
            urls = [("endpoint", endpoint)]
        } else if !endpoints.isEmpty {
            urls = endpoints.enumerated().map { ("endpoints[\($0.offset)]", $0.element) }
        } else if !cloudid.isEmpty {
            urls = [("cloudid", try Self.url(fromCloudID: cloudid))]
        } else if let fromEnvironment = environment["ELASTICSEARCH_URL"], !fromEnvironment.isEmpty {
            urls = fromEnvironment.split(separator: ",").map { ("ELASTICSEARCH_URL", $0.trimmingCharacters(in: .whitespaces)) }
        } else {
            throw ConfigError(path: "endpoint", message: "exactly one of [endpoint, endpoints, cloudid] must be specified")
        }
        for (key, url) in urls {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url)?.host != nil else {
                throw ConfigError(path: key, message: "must be an http:// or https:// URL, got \"\(url)\"")
            }
        }
        return urls.map { $0.url.hasSuffix("/") ? String($0.url.dropLast()) : $0.url }
    }

    /// An Elastic Cloud id, `name:base64(host$es-uuid$kibana-uuid)`, as the URL of its
    /// Elasticsearch service.
    static func url(fromCloudID id: String) throws(ConfigError) -> String {
        guard let colon = id.firstIndex(of: ":"),
              let decoded = Data(base64Encoded: String(id[id.index(after: colon)...])).flatMap({ String(data: $0, encoding: .utf8) })
        else { throw ConfigError(path: "cloudid", message: "is not a valid Elastic Cloud id (name:base64)") }
        let parts = decoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ConfigError(path: "cloudid", message: "does not name a host and an Elasticsearch id")
        }
        return "https://\(parts[1]).\(parts[0])"
    }

    public var extensionReferences: [(key: String, name: String)] { AuthSettings.references(auth) }

    public func validate() throws(ConfigError) {
        try sendingQueue.validate(under: "sending_queue")
        if let num_workers, num_workers < 1 { throw ConfigError(path: "num_workers", message: "must be at least 1") }
        _ = try resolvedEndpoints()
        if !Self.supportedModes.contains(mappingMode) {
            throw ConfigError(path: "mapping.mode", message: "\"\(mapping.mode)\" is not supported by this collector; supported: \(Self.supportedModes.joined(separator: ", "))")
        }
        if timeout.nanoseconds <= 0 { throw ConfigError(path: "timeout", message: "must be greater than 0") }
        try compression_params.validate(for: compression.rawValue)
        if retry.max_retries < 0 { throw ConfigError(path: "retry.max_retries", message: "must be 0 or more") }
        if retry.max_requests != nil, retry.max_retries != Retry().max_retries {
            throw ConfigError(path: "retry.max_requests", message: "cannot be combined with retry.max_retries")
        }
        if flush.bytes <= 0 { throw ConfigError(path: "flush.bytes", message: "must be greater than 0") }
        if !user.isEmpty, !api_key.isEmpty { throw ConfigError(path: "api_key", message: "cannot be combined with user/password") }
        try tls.validate()
        try AuthSettings.check(auth)
        _ = try connections.proxy(key: "proxy_url")
    }
}
