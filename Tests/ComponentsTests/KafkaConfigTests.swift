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

    @Test func saslOverTLSMapsToLibrdkafka() throws {
        let p = try properties("""
        brokers: [k1:9093, k2:9093]
        client_id: edge-7
        auth:
          sasl:
            mechanism: SCRAM-SHA-512
            username: edge
            password: s3cret
        tls:
          ca_file: /etc/ca.pem
          cert_file: /etc/client.pem
          key_file: /etc/client.key
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
        #expect(p["ssl.ca.location"] == "/etc/ca.pem")
        #expect(p["ssl.certificate.location"] == "/etc/client.pem")
        #expect(p["ssl.key.location"] == "/etc/client.key")
        #expect(p["compression.codec"] == "zstd")
        #expect(p["compression.level"] == "3")
        #expect(p["acks"] == "-1")
        #expect(p["enable.idempotence"] == "true")
        #expect(p["message.timeout.ms"] == "5000")
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
        #expect(try offset("latest").autoOffsetReset == "latest")
        #expect(try offset("-1h") == .ago(.seconds(3600)))
        #expect(try offset("90m") == .ago(.seconds(5400)))
        #expect(try offset("2026-11-23T10:00:00Z") == .at(millisecondsSinceEpoch: 1_795_428_000_000))
        #expect(try offset("1795428000000") == .at(millisecondsSinceEpoch: 1_795_428_000_000))
        let before = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        let startTime = try #require(try offset("-1h").startTime)
        let start = startTime()
        #expect(abs(start - before) < 5_000)
        #expect(try offset("earliest").startTime == nil)
        let bad = #expect(throws: ConfigError.self) { try decodeConfig(KafkaReceiverConfig.self, "initial_offset: yesterday\n") }
        #expect(bad?.path == "initial_offset")
    }
}
