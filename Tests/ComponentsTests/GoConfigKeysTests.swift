import Components
import Foundation
import Kafka
import Pipeline
import Testing

/// Configs written for the current Go collector load unchanged: every key Go accepts that we do
/// not act on is named in exactly one warning, and the newer keys we do act on take effect.
@Suite struct GoConfigKeysTests {
    /// The least each component type needs to pass validation.
    static var minimal: [String: [String: Any]] { [
        "otlp": ["protocols": ["grpc": [String: Any]()]],
        "memory_limiter": ["check_interval": "1s", "limit_mib": 100],
        "attributes": ["actions": [["key": "a", "action": "delete"]]],
        "resource": ["attributes": [["key": "a", "action": "delete"]]],
        "tail_sampling": ["policies": [["name": "all", "type": "always_sample"]]],
        "file": ["path": "/tmp/otelcol-swift-inert-keys.json"],
        "exporter/otlp": ["endpoint": "localhost:4317"],
        "otlp_grpc": ["endpoint": "localhost:4317"],
        "otlphttp": ["endpoint": "http://localhost:4318"],
        "otlp_http": ["endpoint": "http://localhost:4318"],
        "elasticsearch": ["endpoint": "http://localhost:9200"],
        "file_storage": ["directory": FileManager.default.temporaryDirectory.path],
    ] }

    /// A whole config with one component of `kind` and `type` in a traces pipeline (JSON is YAML).
    static func config(_ kind: ComponentKind, _ type: String, _ component: [String: Any]) throws -> String {
        var top: [String: Any] = [
            "receivers": ["otlp": ["protocols": ["grpc": [String: Any]()]]],
            "exporters": ["debug": [String: Any]()],
        ]
        var pipeline: [String: Any] = ["receivers": ["otlp"], "exporters": ["debug"]]
        var service: [String: Any] = [:]
        switch kind {
        case .receiver:
            top["receivers"] = [type: component]
            pipeline["receivers"] = [type]
        case .processor:
            top["processors"] = [type: component]
            pipeline["processors"] = [type]
        case .exporter:
            top["exporters"] = [type: component]
            pipeline["exporters"] = [type]
        case .extension:
            top["extensions"] = [type: component]
            service["extensions"] = [type]
        }
        service["pipelines"] = ["traces": pipeline]
        top["service"] = service
        return String(decoding: try JSONSerialization.data(withJSONObject: top), as: UTF8.self)
    }

    static func load(_ text: String) throws -> CollectorConfig {
        var sources = ConfigSources()
        try sources.addYAML(text, origin: "go.yaml")
        return try CollectorConfig.load(sources, registry: Components.registry)
    }

    /// `component` with `value` at `path`, keeping what is there.
    static func setting(_ path: ArraySlice<String>, to value: Any, in component: [String: Any]) -> [String: Any] {
        guard let key = path.first else { return component }
        var out = component
        if path.count == 1 {
            out[key] = value
        } else {
            out[key] = setting(path.dropFirst(), to: value, in: component[key] as? [String: Any] ?? [:])
        }
        return out
    }

    /// A self-signed certificate and key made by openssl (installed by scripts/setup).
    static func serverCertificate() throws -> (cert: String, key: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inert-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
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

    @Test func everyInertKeyOfEveryComponentLoadsWithOneWarningNamingIt() throws {
        let registry = Components.registry
        var checked = 0
        for kind in ComponentKind.allCases {
            for type in registry.types(kind) {
                let info = try #require(registry.info(kind, type))
                let base = Self.minimal["\(kind.rawValue)/\(type)"] ?? Self.minimal[type] ?? [:]
                let quiet = try Self.load(try Self.config(kind, type, base))
                #expect(!quiet.warnings.contains { $0.contains("has no effect") }, "\(type) warns with no inert key set")
                for key in info.inertKeys {
                    let path = key.path.map { $0.replacingOccurrences(of: "*", with: "logs") }
                    var component = base
                    if kind == .receiver, let tls = path.firstIndex(of: "tls") {
                        // A server's tls block needs its certificate to validate.
                        let (cert, key) = try Self.serverCertificate()
                        component = Self.setting(path[...tls] + ["cert_file"], to: cert, in: component)
                        component = Self.setting(path[...tls] + ["key_file"], to: key, in: component)
                    }
                    let config = try Self.load(try Self.config(kind, type, Self.setting(path[...], to: "1.2", in: component)))
                    let name = "\(kind.section).\(type).\(path.joined(separator: ".")) is accepted but has no effect: \(key.instead)"
                    #expect(config.warnings.filter { $0 == name }.count == 1, "\(name) in \(config.warnings)")
                    checked += 1
                }
            }
        }
        #expect(checked > 60)
    }

    @Test func inertTelemetryKeysWarnOnce() throws {
        var top = try JSONSerialization.jsonObject(with: Data(try Self.config(.exporter, "debug", [:]).utf8)) as? [String: Any] ?? [:]
        var service = top["service"] as? [String: Any] ?? [:]
        service["telemetry"] = ["logs": ["level": "debug", "encoding": "json"], "resource": ["service.name": "edge"]]
        top["service"] = service
        let config = try Self.load(String(decoding: try JSONSerialization.data(withJSONObject: top), as: UTF8.self))
        #expect(config.warnings.filter { $0.hasPrefix("service.telemetry.logs.encoding is accepted but has no effect") }.count == 1)
        #expect(config.warnings.filter { $0.hasPrefix("service.telemetry.resource is accepted but has no effect") }.count == 1)
        #expect(config.telemetry.logs.level == .debug)
    }

    @Test func anUnknownKeyBesideAnInertOneIsStillAnError() throws {
        let text = try Self.config(.exporter, "otlp", ["endpoint": "localhost:4317", "keepalive": ["time": "10s"], "keepalives": true])
        #expect(throws: ConfigErrors.self) { try Self.load(text) }
        do { _ = try Self.load(text) } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.path) == ["exporters.otlp.keepalives"])
        }
    }

    @Test func otlpGRPCIsTheExportersCurrentName() throws {
        let config = try Self.load(try Self.config(.exporter, "otlp_grpc", ["endpoint": "collector:4317", "tls": ["insecure": true]]))
        let entry = try #require(config.exporters[ComponentID(type: "otlp_grpc")])
        let otlp = try #require(entry.config as? OTLPGRPCExporterConfig)
        #expect(otlp.hostAndPort?.host == "collector")
        #expect(otlp.plaintext)
    }

    @Test func httpServerAndClientKeysAreHonoured() throws {
        let receiver = try Self.load(try Self.config(.receiver, "otlp", ["protocols": ["http": ["keep_alives_enabled": false, "idle_timeout": "5s"]]]))
        let http = try #require((receiver.receivers[ComponentID(type: "otlp")]?.config as? OTLPReceiverConfig)?.protocols.http)
        #expect(http.keep_alives_enabled == false)
        #expect(http.idle_timeout == .seconds(5))

        let exporter = try Self.load(try Self.config(.exporter, "otlphttp", [
            "endpoint": "http://localhost:4318", "proxy_url": "http://user:secret@proxy:3128",
            "idle_conn_timeout": "30s", "max_idle_conns_per_host": 4, "max_idle_conns": 50,
        ]))
        let otlphttp = try #require(exporter.exporters[ComponentID(type: "otlphttp")]?.config as? OTLPHTTPExporterConfig)
        #expect(otlphttp.idle_conn_timeout == .seconds(30))
        #expect(otlphttp.max_idle_conns_per_host == 4)
        #expect(exporter.warnings == ["exporters.otlphttp.max_idle_conns is accepted but has no effect: idle connections are limited per host (max_idle_conns_per_host)"])

        do {
            _ = try Self.load(try Self.config(.exporter, "otlphttp", ["endpoint": "http://localhost:4318", "proxy_url": "socks5://proxy:1080"]))
            Issue.record("a SOCKS proxy URL was accepted")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.path) == ["exporters.otlphttp.proxy_url"])
            #expect(errors.errors.first?.message == "expected http://host:port, got \"socks5://proxy:1080\"")
        }
    }

    @Test func recordPartitionerChoices() throws {
        func partitioner(_ choice: [String: Any]) throws -> CollectorConfig {
            try Self.load(try Self.config(.exporter, "kafka", ["record_partitioner": choice]))
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
