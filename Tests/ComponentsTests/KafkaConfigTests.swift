import Foundation
import Kafka
import Logging
import Pipeline
import Testing
@testable import Components

@Suite struct KafkaConfigTests {
    func properties(_ yaml: String) throws -> [String: String] {
        let config = try decodeConfig(KafkaExporterConfig.self, yaml)
        let exporter = KafkaExporter(settings: settings("kafka", .exporter), config: config)
        return Dictionary(exporter.librdkafkaConfig.properties, uniquingKeysWith: { _, last in last })
    }

    /// Files the tls keys name; validation reads them (and checks that the client certificate
    /// and key belong together), so they must exist: a certificate and key made by openssl.
    static func tlsFiles() throws -> String {
        let (certificate, key) = try GoConfigKeysTests.serverCertificate()
        let dir = URL(fileURLWithPath: certificate).deletingLastPathComponent().path
        try FileManager.default.copyItem(atPath: certificate, toPath: "\(dir)/client.pem")
        try FileManager.default.copyItem(atPath: key, toPath: "\(dir)/client.key")
        try "PEM\n".write(toFile: "\(dir)/ca.pem", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func tlsAsPEMTextAndWithTheSystemPool() throws {
        let (certificateFile, keyFile) = try GoConfigKeysTests.serverCertificate()
        let certificate = try String(contentsOfFile: certificateFile, encoding: .utf8), key = try String(contentsOfFile: keyFile, encoding: .utf8)
        func block(_ text: String) -> String { "|\n" + text.split(separator: "\n").map { "    \($0)\n" }.joined() }
        let p = try properties("tls:\n  ca_pem: \"CA PEM\"\n  cert_pem: \(block(certificate))  key_pem: \(block(key))")
        #expect(p["security.protocol"] == "ssl")
        #expect(p["ssl.ca.pem"] == "CA PEM" && p["ssl.certificate.pem"] == certificate && p["ssl.key.pem"] == key)
        #expect(p["ssl.ca.location"] == nil && p["ssl.certificate.location"] == nil)

        let dir = try Self.tlsFiles()
        let pooled = try properties("tls:\n  ca_file: \(dir)/ca.pem\n  include_system_ca_certs_pool: true")
        let system = try String(contentsOfFile: TLSClientSettings.systemBundle, encoding: .utf8)
        #expect(pooled["ssl.ca.pem"] == "PEM\n" + system)
        #expect(pooled["ssl.ca.location"] == nil)

        #expect(throws: ConfigError.self) { try properties("tls:\n  ca_file: \(dir)/ca.pem\n  ca_pem: x") }
        let unpaired = #expect(throws: ConfigError.self) { try properties("auth:\n  tls:\n    cert_pem: x") }
        #expect(unpaired?.path == "auth.tls.key_file")
        let unreadable = #expect(throws: ConfigError.self) { try properties("tls:\n  ca_file: /nonexistent/ca.pem") }
        #expect(unreadable?.path == "tls.ca_file" && unreadable?.message == "cannot read /nonexistent/ca.pem")
    }

    @Test func saslOverTLSMapsToLibrdkafka() throws {
        let dir = try Self.tlsFiles()
        let p = try properties("""
        brokers: [k1:9093, k2:9093]
        client_id: edge-7
        auth:
          sasl:
            mechanism: SCRAM-SHA-512
            username: edge
            password: s3cret
        tls:
          ca_file: \(dir)/ca.pem
          cert_file: \(dir)/client.pem
          key_file: \(dir)/client.key
        producer:
          compression: zstd
          compression_params:
            level: 3
        """)
        #expect(p["bootstrap.servers"] == "k1:9093,k2:9093")
        #expect(p["client.id"] == "edge-7")
        #expect(p["security.protocol"] == "sasl_ssl")
        #expect(p["sasl.mechanisms"] == "SCRAM-SHA-512")
        #expect(p["sasl.username"] == "edge")
        #expect(p["sasl.password"] == "s3cret")
        #expect(p["ssl.ca.location"] == "\(dir)/ca.pem")
        #expect(p["ssl.certificate.location"] == "\(dir)/client.pem")
        #expect(p["ssl.key.location"] == "\(dir)/client.key")
        #expect(p["compression.codec"] == "zstd")
        #expect(p["compression.level"] == "3")
        #expect(p["acks"] == "-1")
        #expect(p["enable.idempotence"] == "true")
        #expect(p["message.timeout.ms"] == "5000")
    }

    /// Go's MSK IAM shape: librdkafka's OAUTHBEARER with the collector's signed tokens, over TLS.
    @Test func awsMSKIAMIsOAuthBearerWithSignedTokens() throws {
        let config = try decodeConfig(KafkaExporterConfig.self, """
        brokers: [b-1.ingest.kafka.eu-west-1.amazonaws.com:9098]
        tls: {insecure: false}
        auth:
          sasl:
            mechanism: AWS_MSK_IAM_OAUTHBEARER
            aws_msk:
              region: eu-west-1
        """)
        let client = KafkaExporter(settings: settings("kafka", .exporter), config: config).librdkafkaConfig
        let p = Dictionary(client.properties, uniquingKeysWith: { _, last in last })
        #expect(p["security.protocol"] == "sasl_ssl")
        #expect(p["sasl.mechanisms"] == "OAUTHBEARER")
        #expect(p["sasl.username"] == nil && p["sasl.password"] == nil)
        #expect(client.tokenSource != nil)
        // The producer builds: librdkafka takes the mechanism with a refresh callback.
        let producer = try KafkaProducer(config: client, logger: Logger(label: "test"))
        producer.close(timeout: .milliseconds(10))

        let missing = #expect(throws: ConfigError.self) {
            try decodeConfig(KafkaExporterConfig.self, "auth:\n  sasl:\n    mechanism: AWS_MSK_IAM_OAUTHBEARER\n")
        }
        #expect(missing?.path == "auth.sasl.aws_msk.region")
        #expect(missing?.message == "required for AWS_MSK_IAM_OAUTHBEARER")
    }

    @Test func oauthBearerNeedsATokenSourceThatIsListed() throws {
        let missing = #expect(throws: ConfigError.self) {
            try decodeConfig(KafkaExporterConfig.self, "auth:\n  sasl:\n    mechanism: OAUTHBEARER\n")
        }
        #expect(missing?.path == "auth.sasl.oauthbearer_token_source")
        let config = try decodeConfig(KafkaExporterConfig.self, "auth:\n  sasl:\n    mechanism: OAUTHBEARER\n    oauthbearer_token_source: oauth2client/idp\n")
        #expect(config.extensionReferences.map(\.key) == ["auth.sasl.oauthbearer_token_source"])
        #expect(config.extensionReferences.map(\.name) == ["oauth2client/idp"])
        let p = try properties("auth:\n  sasl:\n    mechanism: OAUTHBEARER\n    oauthbearer_token_source: oauth2client\n")
        #expect(p["sasl.mechanisms"] == "OAUTHBEARER" && p["security.protocol"] == "sasl_plaintext")
        // Named but not an extension that gives tokens: the start fails naming the key.
        let failure = #expect(throws: StartFailure.self) { try config.client.tokenProvider(host: ComponentHost()) }
        #expect(failure?.key == "auth.sasl.oauthbearer_token_source")
    }

    @Test func serverNameOverrideIsTheNameCertificatesAreCheckedFor() throws {
        func client(_ yaml: String) throws -> KafkaClientConfig {
            KafkaExporter(settings: settings("kafka", .exporter), config: try decodeConfig(KafkaExporterConfig.self, yaml)).librdkafkaConfig
        }
        #expect(try client("tls:\n  server_name_override: kafka.internal\n").serverName == "kafka.internal")
        #expect(try client("tls:\n  insecure: false\n").serverName == nil)
        // Without verification there is no name to check.
        #expect(try client("tls:\n  server_name_override: kafka.internal\n  insecure_skip_verify: true\n").serverName == nil)
        let config = try decodeConfig(KafkaExporterConfig.self, "tls:\n  server_name_override: kafka.internal\n")
        let producer = try KafkaProducer(config: KafkaExporter(settings: settings("kafka", .exporter), config: config).librdkafkaConfig,
                                         logger: Logger(label: "test"))
        producer.close(timeout: .milliseconds(10))
    }

    @Test func librdkafkaAcceptsEveryPropertyWeProduce() throws {
        // Without reachable brokers a producer still builds: librdkafka validates each property
        // name and value when it is set, and connects lazily.
        for yaml in [
            "auth:\n  sasl:\n    mechanism: SCRAM-SHA-256\n    username: u\n    password: p\n",
            "auth:\n  plain_text:\n    username: u\n    password: p\ntls:\n  insecure_skip_verify: true\n",
            "protocol_version: 2.1.0\nproducer:\n  required_acks: 1\n  compression: lz4\n  linger: 5ms\n",
        ] {
            let config = try decodeConfig(KafkaExporterConfig.self, "brokers: [127.0.0.1:1]\n" + yaml)
            let exporter = KafkaExporter(settings: settings("kafka", .exporter), config: config)
            let producer = try KafkaProducer(config: exporter.librdkafkaConfig, logger: Logger(label: "test"))
            producer.close(timeout: .milliseconds(10))
        }
    }

    @Test func plaintextByDefaultAndTopicsPerSignal() throws {
        let config = try decodeConfig(KafkaExporterConfig.self, "topic: legacy\nlogs:\n  topic: app_logs\n  encoding: raw\n")
        #expect(config.settings.destination(.traces).topic == "legacy")
        #expect(config.settings.destination(.logs).topic == "app_logs")
        #expect(config.settings.destination(.logs).encoding == .raw)
        #expect(config.settings.destination(.metrics).encoding == .otlpProto)
        #expect(try properties("brokers: [a:1]\n")["security.protocol"] == "plaintext")
    }

    @Test func invalidCombinationsAreRejectedWithTheirPath() throws {
        let error = #expect(throws: ConfigError.self) {
            try decodeConfig(KafkaExporterConfig.self, "partition_logs_by_trace_id: true\npartition_logs_by_resource_attributes: true\n")
        }
        #expect(error?.path == "partition_logs_by_trace_id")
        let acks = #expect(throws: ConfigError.self) { try decodeConfig(KafkaExporterConfig.self, "producer:\n  required_acks: 2\n") }
        #expect(acks?.path == "producer.required_acks")
        let sasl = #expect(throws: ConfigError.self) {
            try decodeConfig(KafkaExporterConfig.self, "auth:\n  sasl:\n    mechanism: PLAIN\n    username: u\n")
        }
        #expect(sasl?.path == "auth.sasl.password")
    }

    @Test func initialOffsetTakesATimeOrADurationBeforeAssignment() throws {
        func offset(_ text: String) throws -> InitialOffset {
            try decodeConfig(KafkaReceiverConfig.self, "initial_offset: \"\(text)\"\n").settings.initial_offset
        }
        #expect(try offset("earliest") == .earliest)
        #expect(try offset("latest") == .latest)
        #expect(try offset("-1h") == .ago(.seconds(3600)))
        #expect(try offset("90m") == .ago(.seconds(5400)))
        #expect(try offset("2026-11-23T10:00:00Z") == .at(millisecondsSinceEpoch: 1_795_428_000_000))
        #expect(try offset("1795428000000") == .at(millisecondsSinceEpoch: 1_795_428_000_000))
        let before = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        guard case .time(let startTime) = try offset("-1h").start else { return #expect(Bool(false), "not a time") }
        #expect(abs(startTime() - before) < 5_000)
        guard case .beginning = try offset("earliest").start, case .end = try offset("latest").start else {
            return #expect(Bool(false), "earliest and latest start at the beginning and the end")
        }
        let bad = #expect(throws: ConfigError.self) { try decodeConfig(KafkaReceiverConfig.self, "initial_offset: yesterday\n") }
        #expect(bad?.path == "initial_offset")
    }

    func receiverProperties(_ yaml: String) throws -> [String: String] {
        let config = try decodeConfig(KafkaReceiverConfig.self, yaml)
        let receiver = KafkaReceiver(settings: settings("kafka", .receiver), config: config, consumers: [:])
        return Dictionary(receiver.librdkafkaConfig.properties, uniquingKeysWith: { _, last in last })
    }

    @Test func rebalanceStrategiesAreValidatedWithGosNames() throws {
        #expect(try receiverProperties("")["partition.assignment.strategy"] == "cooperative-sticky", "Go's default")
        #expect(try receiverProperties("group_rebalance_strategies: [cooperative-sticky]\n")["partition.assignment.strategy"] == "cooperative-sticky")
        #expect(try receiverProperties("group_rebalance_strategies: [range, roundrobin]\n")["partition.assignment.strategy"] == "range,roundrobin")
        let deprecated = try decodeConfig(KafkaReceiverConfig.self, "group_rebalance_strategy: range\n")
        #expect(deprecated.settings.rebalanceStrategies == ["range"])
        #expect(deprecated.warnings().contains { $0.contains("group_rebalance_strategy is deprecated") })
        #expect(try decodeConfig(KafkaReceiverConfig.self, "").warnings().isEmpty)
        for (yaml, path, words) in [
            ("group_rebalance_strategies: [range, sticky]\n", "group_rebalance_strategies[1]", "eager sticky"),
            ("group_rebalance_strategies: [my_balancer]\n", "group_rebalance_strategies[0]", "unknown strategy"),
            ("group_rebalance_strategies: [\"\"]\n", "group_rebalance_strategies[0]", "must not be empty"),
            ("group_rebalance_strategies: []\n", "group_rebalance_strategies", "must not be empty"),
            ("group_rebalance_strategies: [cooperative-sticky, range]\n", "group_rebalance_strategies", "one rebalance protocol"),
            ("group_rebalance_strategy: range\ngroup_rebalance_strategies: [range]\n", "group_rebalance_strategy", "cannot be combined"),
        ] {
            let error = #expect(throws: ConfigError.self) { try decodeConfig(KafkaReceiverConfig.self, yaml) }
            #expect(error?.path == path, "\(yaml)")
            #expect(error?.message.contains(words) == true, "\(yaml): \(error?.message ?? "")")
        }
    }

    @Test func librdkafkaTakesTheReceiversStrategies() throws {
        for strategies in ["[cooperative-sticky]", "[range, roundrobin]"] {
            let config = try decodeConfig(KafkaReceiverConfig.self, "brokers: [127.0.0.1:1]\ngroup_rebalance_strategies: \(strategies)\n")
            let receiver = KafkaReceiver(settings: settings("kafka", .receiver), config: config, consumers: [:])
            let consumer = try KafkaConsumer(config: receiver.librdkafkaConfig, topics: ["t"], logger: Logger(label: "test"))
            consumer.close()
        }
    }

    @Test func topicExpressionsMatchLikeGoAndExcludeTopics() throws {
        let config = try decodeConfig(KafkaReceiverConfig.self, """
        traces:
          topics: ["^otlp_spans.*", "tenant"]
          exclude_topics: ["_test$"]
        metrics:
          topics: [otlp_metrics]
        """)
        let subscription = try TopicSubscription(config.settings, signals: [.metrics, .traces])
        #expect(subscription.usesPatterns)
        let existing = ["otlp_spans", "otlp_spans_eu", "otlp_spans_test", "my_tenant_spans", "otlp_logs", "__consumer_offsets"]
        let sources = subscription.sources(existing: existing)
        #expect(Set(sources.keys) == ["otlp_spans", "otlp_spans_eu", "my_tenant_spans", "otlp_metrics"],
                "every entry of a signal with an expression is one, unanchored; exclusions win; names stay names")
        #expect(sources["otlp_spans_eu"] == [TopicRouting.Source(signal: .traces, encoding: .otlpProto)])
        #expect(sources["otlp_metrics"] == [TopicRouting.Source(signal: .metrics, encoding: .otlpProto)])
        let plain = try TopicSubscription(try decodeConfig(KafkaReceiverConfig.self, "").settings, signals: [.logs])
        #expect(!plain.usesPatterns)
        #expect(Array(plain.sources(existing: []).keys) == ["otlp_logs"])
    }

    @Test func badTopicExpressionsAreRejectedWithTheirPath() throws {
        for (yaml, path) in [
            ("traces:\n  topics: [otlp_spans]\n  exclude_topics: [x]\n", "traces.exclude_topics"),
            ("traces:\n  topics: [\"^a\"]\n  exclude_topics: [\"\"]\n", "traces.exclude_topics[0]"),
            ("logs:\n  topics: [\"^a\", \"\"]\n", "logs.topics[1]"),
        ] {
            let error = #expect(throws: ConfigError.self) { try decodeConfig(KafkaReceiverConfig.self, yaml) }
            #expect(error?.path == path, "\(yaml)")
        }
        let error = #expect(throws: ConfigError.self) { try decodeConfig(KafkaReceiverConfig.self, "traces:\n  topics: [\"^otlp_(spans\"]\n") }
        #expect(error?.path == "traces.topics[0]")
        #expect(error?.message.contains("invalid regular expression") == true)
        // What Go's regexp refuses is refused here too, rather than meaning something else.
        let lookahead = #expect(throws: ConfigError.self) { try decodeConfig(KafkaReceiverConfig.self, "traces:\n  topics: [\"^otlp_(?!test)\"]\n") }
        #expect(lookahead?.message.contains("lookaround is not RE2 syntax") == true)
    }
}
