import Components
import Foundation
import Kafka
import Pipeline
import TestScratch
import Testing

/// Configs written for the current Go collector load unchanged: every key Go accepts that we do
/// not act on is named in exactly one warning, and the newer keys we do act on take effect.
@Suite struct GoConfigKeysTests {
    /// A self-signed certificate and key made by openssl (installed by scripts/setup).
    static func serverCertificate() throws -> (cert: String, key: String) {
        let dir = TestScratch.folder("inert-tls")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", "\(dir)/key.pem", "-out", "\(dir)/cert.pem", "-days", "1", "-subj", "/CN=localhost"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        return ("\(dir)/cert.pem", "\(dir)/key.pem")
    }

    // Async and yielding between keys: run synchronously, its minute of work held one of the
    // test pool's two threads, and timer-driven tests of other suites timed out waiting.
    @Test func everyInertKeyOfEveryComponentLoadsWithOneWarningNamingIt() async throws {
        let registry = Components.registry
        var checked = 0
        let (certificate, privateKey) = try Self.serverCertificate()
        for kind in ComponentKind.allCases {
            for type in registry.types(kind) {
                let info = try #require(registry.info(kind, type))
                let base = ComponentSamples.minimal(kind, type)
                let quiet = try ComponentSamples.load(try ComponentSamples.config(kind, type, base))
                #expect(!quiet.warnings.contains { $0.contains("has no effect") }, "\(type) warns with no inert key set")
                for key in info.inertKeys {
                    await Task.yield()
                    let path = key.path.map { $0.replacingOccurrences(of: "*", with: "logs") }
                    var component = base
                    if kind == .receiver, let tls = path.firstIndex(of: "tls") {
                        // A server's tls block needs its certificate to validate.
                        component = ComponentSamples.setting(path[...tls] + ["cert_file"], to: certificate, in: component)
                        component = ComponentSamples.setting(path[...tls] + ["key_file"], to: privateKey, in: component)
                    }
                    if let msk = path.firstIndex(of: "aws_msk") {
                        // Keys of the MSK IAM block come with its mechanism and region.
                        component = ComponentSamples.setting(path[..<msk] + ["mechanism"], to: "AWS_MSK_IAM_OAUTHBEARER", in: component)
                        component = ComponentSamples.setting(path[...msk] + ["region"], to: "eu-west-1", in: component)
                    }
                    let config = try ComponentSamples.load(try ComponentSamples.config(kind, type, ComponentSamples.setting(path[...], to: "1.2", in: component)))
                    let name = "\(kind.section).\(type).\(ComponentSamples.concrete(path, in: component)) is accepted but has no effect: \(key.instead)"
                    #expect(config.warnings.filter { $0 == name }.count == 1, "\(name) in \(config.warnings)")
                    checked += 1
                }
            }
        }
        #expect(checked > 60)
    }

    @Test func inertTelemetryKeysWarnOnce() throws {
        var top = try JSONSerialization.jsonObject(with: Data(try ComponentSamples.config(.exporter, "debug", [:]).utf8)) as? [String: Any] ?? [:]
        var service = top["service"] as? [String: Any] ?? [:]
        service["telemetry"] = ["logs": ["level": "debug", "encoding": "json"], "resource": ["service.name": "edge"],
                                "metrics": ["readers": [["periodic": ["exporter": ["otlp": ["protocol": "http/json", "endpoint": "http://backend:4318"]]]]]]]
        top["service"] = service
        let config = try ComponentSamples.load(String(decoding: try JSONSerialization.data(withJSONObject: top), as: UTF8.self))
        #expect(config.warnings.filter { $0.hasPrefix("service.telemetry.logs.encoding is accepted but has no effect") }.count == 1)
        #expect(config.warnings.filter { $0.hasPrefix("service.telemetry.resource is accepted but has no effect") }.count == 1)
        #expect(config.telemetry.logs.level == .debug)
        #expect(config.warnings.filter { $0.hasPrefix("service.telemetry.metrics.readers[0] is accepted but has no effect") }.count == 1)
    }

    /// One config in today's Go spelling, with every key of the issue at once.
    @Test func aCurrentGoConfigLoads() throws {
        let secret = TestScratch.file("secret.txt")
        try "Bearer abc\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let config = try ComponentSamples.load("""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:4318
                    read_timeout: 30s
                    read_header_timeout: 10s
                    write_timeout: 30s
                    idle_timeout: 2m
                    keep_alives_enabled: true
            exporters:
              otlp_grpc:
                endpoint: backend:4317
                headers: {authorization: "${file:\(secret)}"}
              otlphttp:
                endpoint: https://backend:4318
                max_idle_conns: 100
                max_idle_conns_per_host: 10
                idle_conn_timeout: 90s
                http2_read_idle_timeout: 10s
                http2_ping_timeout: 5s
                proxy_url: http://proxy:3128
                cookies: {enabled: true}
              kafka:
                brokers: [kafka:9092]
                record_partitioner: {sticky_key: {hasher: murmur2}}
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [otlp_grpc, otlphttp, kafka]
            """)
        let grpc = try #require(config.exporters[ComponentID(type: "otlp_grpc")]?.config as? OTLPGRPCExporterConfig)
        #expect(grpc.headers["authorization"] == "Bearer abc")
        let http = try #require(config.receivers[ComponentID(type: "otlp")]?.config as? OTLPReceiverConfig)
        #expect(http.protocols.http?.idle_timeout == .seconds(120))
        let prefix = "is accepted but has no effect"
        #expect(Set(config.warnings.filter { $0.contains(prefix) }.map { String($0.prefix(while: { $0 != " " })) }) == [
            "receivers.otlp.protocols.http.read_timeout", "receivers.otlp.protocols.http.read_header_timeout",
            "receivers.otlp.protocols.http.write_timeout", "exporters.otlphttp.max_idle_conns",
            "exporters.otlphttp.http2_read_idle_timeout", "exporters.otlphttp.http2_ping_timeout", "exporters.otlphttp.cookies",
        ])
    }

    @Test func anUnknownKeyBesideAnInertOneIsStillAnError() throws {
        let text = try ComponentSamples.config(.exporter, "otlp", ["endpoint": "localhost:4317", "keepalive": ["time": "10s"], "keepalives": true])
        #expect(throws: ConfigErrors.self) { try ComponentSamples.load(text) }
        do { _ = try ComponentSamples.load(text) } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.path) == ["exporters.otlp.keepalives"])
        }
    }

    @Test func otlpGRPCIsTheExportersCurrentName() throws {
        let config = try ComponentSamples.load(try ComponentSamples.config(.exporter, "otlp_grpc", ["endpoint": "collector:4317", "tls": ["insecure": true]]))
        let entry = try #require(config.exporters[ComponentID(type: "otlp_grpc")])
        let otlp = try #require(entry.config as? OTLPGRPCExporterConfig)
        #expect(otlp.hostAndPort?.host == "collector")
        #expect(otlp.plaintext)
    }

    @Test func httpServerAndClientKeysAreHonoured() throws {
        let receiver = try ComponentSamples.load(try ComponentSamples.config(.receiver, "otlp", ["protocols": ["http": ["keep_alives_enabled": false, "idle_timeout": "5s"]]]))
        let http = try #require((receiver.receivers[ComponentID(type: "otlp")]?.config as? OTLPReceiverConfig)?.protocols.http)
        #expect(http.keep_alives_enabled == false)
        #expect(http.idle_timeout == .seconds(5))

        let exporter = try ComponentSamples.load(try ComponentSamples.config(.exporter, "otlphttp", [
            "endpoint": "http://localhost:4318", "proxy_url": "http://user:secret@proxy:3128",
            "idle_conn_timeout": "30s", "max_idle_conns_per_host": 4, "max_idle_conns": 50,
        ]))
        let otlphttp = try #require(exporter.exporters[ComponentID(type: "otlphttp")]?.config as? OTLPHTTPExporterConfig)
        #expect(otlphttp.idle_conn_timeout == .seconds(30))
        #expect(otlphttp.max_idle_conns_per_host == 4)
        #expect(exporter.warnings == ["exporters.otlphttp.max_idle_conns is accepted but has no effect: idle connections are limited per host (max_idle_conns_per_host)"])

        do {
            _ = try ComponentSamples.load(try ComponentSamples.config(.exporter, "otlphttp", ["endpoint": "http://localhost:4318", "proxy_url": "socks5://proxy:1080"]))
            Issue.record("a SOCKS proxy URL was accepted")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.path) == ["exporters.otlphttp.proxy_url"])
            #expect(errors.errors.first?.message == "expected http://host:port, got \"socks5://proxy:1080\"")
        }
    }

    @Test func recordPartitionerChoices() throws {
        func partitioner(_ choice: [String: Any]) throws -> CollectorConfig {
            try ComponentSamples.load(try ComponentSamples.config(.exporter, "kafka", ["record_partitioner": choice]))
        }
        func chosen(_ config: CollectorConfig) throws -> KafkaExporterSettings.RecordPartitioner? {
            try #require(config.exporters[ComponentID(type: "kafka")]?.config as? KafkaExporterConfig).settings.record_partitioner
        }
        #expect(try chosen(try partitioner(["sticky_key": ["hasher": "murmur2"]]))?.sticky_key?.hasher == .murmur2)
        #expect(try chosen(try partitioner(["round_robin": [String: Any]()]))?.round_robin != nil)
        let leastBackup = try partitioner(["least_backup": [String: Any]()])
        #expect(leastBackup.warnings.contains { $0.hasPrefix("exporters.kafka.record_partitioner.least_backup spreads records in turn") })

        for (choice, path) in [(["round_robin": [String: Any](), "least_backup": [String: Any]()], "exporters.kafka.record_partitioner"),
                               (["extension": "custom"], "exporters.kafka.record_partitioner.extension"),
                               (["sticky_key": ["hasher": "crc32"]], "exporters.kafka.record_partitioner.sticky_key.hasher")] as [([String: Any], String)] {
            do {
                _ = try partitioner(choice)
                Issue.record("\(choice) was accepted")
            } catch let errors as ConfigErrors {
                #expect(errors.errors.map(\.path) == [path])
            }
        }
    }
}
