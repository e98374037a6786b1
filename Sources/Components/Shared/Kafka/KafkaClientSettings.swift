import Kafka
import OTLP
import Pipeline

extension Signal {
    /// The topic the Go collector's kafka exporter and receiver use for a signal by default.
    public var defaultKafkaTopic: String {
        switch self {
        case .traces: "otlp_spans"
        case .metrics: "otlp_metrics"
        case .logs: "otlp_logs"
        }
    }
}

/// The client keys the Go collector's kafka receiver and exporter share (brokers, auth, TLS,
/// metadata), and their mapping to librdkafka properties.
public struct KafkaClientSettings: ConfigSection {
    public var brokers: [String] = ["localhost:9092"]
    public var client_id = "otel-collector"
    public var protocol_version = ""
    public var conn_idle_timeout: ConfigDuration = .seconds(540)
    public var rack_id = ""
    public var tls: TLSClientSettings?
    public var auth: Auth?
    public var metadata = Metadata()

    public init() {}

    public static let inertKeys = [
        InertKey("resolve_canonical_bootstrap_servers_only", "bootstrap servers are dialled as written (as in the current Go collector)"),
        InertKey("use_leader_epoch", "librdkafka validates leader epochs itself"),
        InertKey("metadata.full", "metadata is asked for the topics in use (as in the current Go collector)"),
        InertKey("tls.min_version", "librdkafka negotiates the highest version both sides offer"),
        InertKey("tls.max_version", "librdkafka negotiates the highest version both sides offer"),
        InertKey("auth.sasl.aws_msk.broker_addr", "MSK IAM tokens are signed for the region's endpoint, as in the current Go collector"),
    ]

    public struct Auth: ConfigSection {
        public var sasl: SASL?
        public var plain_text: PlainText?
        public var tls: TLSClientSettings?
        public var kerberos: ConfigNode?
        public init() {}
    }

    public struct SASL: ConfigSection {
        public enum Mechanism: String, ConfigOption {
            case plain = "PLAIN", scramSHA256 = "SCRAM-SHA-256", scramSHA512 = "SCRAM-SHA-512"
            case awsMSK = "AWS_MSK_IAM_OAUTHBEARER", oauthBearer = "OAUTHBEARER"
        }
        public var mechanism: Mechanism = .plain
        public var username = ""
        public var password = ""
        public var version = 0
        public var aws_msk: AWSMSK?
        public var oauthbearer_token_source: String?
        public init() {}
    }

    /// `auth.sasl.aws_msk`, for `AWS_MSK_IAM_OAUTHBEARER`.
    public struct AWSMSK: ConfigSection {
        public var region = ""
        /// Older Go releases signed for this address; the signature names the region's endpoint.
        public var broker_addr = ""
        public init() {}
    }

    public struct PlainText: ConfigSection {
        public var username = ""
        public var password = ""
        public init() {}
    }

    public struct Metadata: ConfigSection {
        public var refresh_interval: ConfigDuration = .seconds(600)
        public var retry = Retry()
        public init() {}

        public struct Retry: ConfigSection {
            public var max = 3
            public var backoff: ConfigDuration = .milliseconds(250)
            public init() {}
        }
    }

    public func validate() throws(ConfigError) {
        if brokers.isEmpty { throw ConfigError(path: "brokers", message: "at least one broker is required") }
        if conn_idle_timeout.nanoseconds <= 0 { throw ConfigError(path: "conn_idle_timeout", message: "must be greater than 0") }
        if let sasl = auth?.sasl {
            switch sasl.mechanism {
            case .plain, .scramSHA256, .scramSHA512:
                if sasl.username.isEmpty { throw ConfigError(path: "auth.sasl.username", message: "required for \(sasl.mechanism.rawValue)") }
                if sasl.password.isEmpty { throw ConfigError(path: "auth.sasl.password", message: "required for \(sasl.mechanism.rawValue)") }
            case .awsMSK:
                if (sasl.aws_msk?.region ?? "").isEmpty {
                    throw ConfigError(path: "auth.sasl.aws_msk.region", message: "required for AWS_MSK_IAM_OAUTHBEARER")
                }
            case .oauthBearer:
                if (sasl.oauthbearer_token_source ?? "").isEmpty {
                    throw ConfigError(path: "auth.sasl.oauthbearer_token_source", message: "required for OAUTHBEARER: an oauth2client extension listed in service.extensions")
                }
            }
            if !(0...1).contains(sasl.version) { throw ConfigError(path: "auth.sasl.version", message: "must be 0 or 1") }
        }
        if let kerberos = auth?.kerberos, kerberos != .null {
            throw ConfigError(path: "auth.kerberos", message: "not supported yet")
        }
        for (block, path) in [(tls, "tls"), (auth?.tls, "auth.tls")] {
            try block?.validate(path: path)
            _ = try block?.caPEM(path: path)
        }
    }

    /// librdkafka properties for these settings; an entry of `brokers` that names an
    /// `embedded_kafka` extension of `host` is replaced by its address.
    public func librdkafkaProperties(host: ComponentHost) -> KafkaClientConfig {
        var config = KafkaClientConfig()
        let resolved = brokers.map { (host.extension(named: $0) as? EmbeddedKafkaExtension)?.bootstrapServers ?? $0 }
        config.set("bootstrap.servers", resolved.joined(separator: ","))
        config.set("client.id", client_id)
        config.set("connections.max.idle.ms", String(conn_idle_timeout.nanoseconds / 1_000_000))
        config.set("topic.metadata.refresh.interval.ms", String(metadata.refresh_interval.nanoseconds / 1_000_000))
        config.set("retry.backoff.ms", String(max(1, metadata.retry.backoff.nanoseconds / 1_000_000)))
        if !rack_id.isEmpty { config.set("client.rack", rack_id) }
        if !protocol_version.isEmpty {
            // Brokers older than 0.10 do not answer ApiVersion requests; the version tells
            // librdkafka which protocol to assume for them. Newer brokers are asked directly.
            config.set("broker.version.fallback", protocol_version)
        }
        let tls = self.tls ?? auth?.tls
        let useTLS = tls.map { !$0.insecure } ?? false
        var sasl = auth?.sasl
        if sasl == nil, let plain = auth?.plain_text {
            var converted = SASL()
            converted.username = plain.username
            converted.password = plain.password
            sasl = converted
        }
        switch (useTLS, sasl != nil) {
        case (false, false): config.set("security.protocol", "plaintext")
        case (true, false): config.set("security.protocol", "ssl")
        case (false, true): config.set("security.protocol", "sasl_plaintext")
        case (true, true): config.set("security.protocol", "sasl_ssl")
        }
        if let tls, useTLS {
            // A CA of one's own beside the system's exists only as one PEM text for librdkafka.
            if tls.include_system_ca_certs_pool, let pem = try? tls.caPEM() {
                config.set("ssl.ca.pem", pem)
            } else {
                if !tls.ca_file.isEmpty { config.set("ssl.ca.location", tls.ca_file) }
                if !tls.ca_pem.isEmpty { config.set("ssl.ca.pem", tls.ca_pem) }
            }
            if !tls.cert_file.isEmpty { config.set("ssl.certificate.location", tls.cert_file) }
            if !tls.cert_pem.isEmpty { config.set("ssl.certificate.pem", tls.cert_pem) }
            if !tls.key_file.isEmpty { config.set("ssl.key.location", tls.key_file) }
            if !tls.key_pem.isEmpty { config.set("ssl.key.pem", tls.key_pem) }
            if tls.insecure_skip_verify {
                config.set("enable.ssl.certificate.verification", "false")
                config.set("ssl.endpoint.identification.algorithm", "none")
            } else if !tls.server_name_override.isEmpty {
                config.serverName = tls.server_name_override
            }
        }
        if let sasl {
            config.authentication = sasl.mechanism == .plain || sasl.mechanism == .scramSHA256 || sasl.mechanism == .scramSHA512
                ? "SASL/\(sasl.mechanism.rawValue) as user \"\(sasl.username)\"" : "SASL/\(sasl.mechanism.rawValue)"
            switch sasl.mechanism {
            case .awsMSK:
                // librdkafka speaks OAUTHBEARER; the token is the signed request MSK reads.
                config.set("sasl.mechanisms", "OAUTHBEARER")
                config.tokenSource = MSKIAMToken.source(region: sasl.aws_msk?.region ?? "", chain: AWSCredentialChain())
            case .oauthBearer:
                config.set("sasl.mechanisms", "OAUTHBEARER")
                if let provider = try? tokenProvider(host: host) { config.tokenSource = { try provider.kafkaToken() } }
            default:
                config.set("sasl.mechanisms", sasl.mechanism.rawValue)
                config.set("sasl.username", sasl.username)
                config.set("sasl.password", sasl.password)
            }
        }
        return config
    }
}

extension KafkaClientConfig {
    /// Counts refused logins in `otelcol_kafka_authentication_failures_total` of the component.
    mutating func countAuthenticationFailures(_ settings: ComponentSettings) {
        let counter = settings.telemetry.counter("otelcol_kafka_authentication_failures_total", [(settings.kind.rawValue, settings.id.description)])
        onAuthenticationFailure = { counter.increment() }
    }
}

extension KafkaClientSettings {
    /// `auth.sasl.oauthbearer_token_source` when the mechanism is OAUTHBEARER.
    var oauthBearerTokenSource: String? {
        guard let sasl = auth?.sasl, sasl.mechanism == .oauthBearer else { return nil }
        return sasl.oauthbearer_token_source
    }

    /// The extension `auth.sasl.oauthbearer_token_source` names, for OAUTHBEARER; nil for other
    /// mechanisms. Components call it at start, so that a name of the wrong kind fails the start.
    public func tokenProvider(host: ComponentHost) throws(StartFailure) -> (any KafkaTokenProvider)? {
        guard let name = oauthBearerTokenSource else { return nil }
        guard let provider = host.extension(named: name) as? any KafkaTokenProvider else {
            throw StartFailure(key: "auth.sasl.oauthbearer_token_source",
                               message: "extension \"\(name)\" gives no tokens; an oauth2client extension listed in service.extensions does")
        }
        return provider
    }
}

/// A kafka component's config: the shared client keys and the component's own keys, both at the
/// top level of the YAML mapping, as the Go collector writes them.
public struct KafkaComponentConfig<Settings: KafkaComponentSettings>: ComponentConfig {
    public var client = KafkaClientSettings()
    public var settings = Settings()

    public init() {}

    public init(from decoder: any Decoder) throws {
        client = try KafkaClientSettings(from: decoder)
        settings = try Settings(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try client.encode(to: encoder)
        try settings.encode(to: encoder)
    }

    public func validate() throws(ConfigError) {
        try client.validate()
        try settings.validate()
    }

    public func warnings() -> [String] { settings.warnings() }

    public var extensionReferences: [(key: String, name: String)] {
        client.oauthBearerTokenSource.map { [("auth.sasl.oauthbearer_token_source", $0)] } ?? []
    }

    public static var inertKeys: [InertKey] { KafkaClientSettings.inertKeys + Settings.inertKeys }
}

/// The component-specific half of a `KafkaComponentConfig`.
public protocol KafkaComponentSettings: ConfigSection {
    func validate() throws(ConfigError)
    func warnings() -> [String]
    static var inertKeys: [InertKey] { get }
}

extension KafkaComponentSettings {
    public func warnings() -> [String] { [] }
    public static var inertKeys: [InertKey] { [] }
}
