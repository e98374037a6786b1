import Components
import Foundation
import Pipeline
import TestScratch
import Testing

/// Loads configs the way the binary does, from files on disk, and checks the exact errors.
@Suite struct ConfigLoadingTests {
    static let valid = """
    receivers:
      otlp:
        protocols:
          grpc:
    processors:
      batch:
        timeout: 1s
    exporters:
      debug:
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [batch]
          exporters: [debug]
    """

    func write(_ text: String, name: String = "config.yaml") throws -> String {
        let path = TestScratch.folder("cfg") + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func load(_ texts: [String], sets: [String] = [], env: [String: String] = [:]) throws -> CollectorConfig {
        var sources = ConfigSources()
        for (index, text) in texts.enumerated() {
            try sources.addFile(try write(text, name: "c\(index).yaml"), environment: env)
        }
        for set in sets { try sources.addSet(set) }
        return try CollectorConfig.load(sources, registry: Components.registry)
    }

    func errors(_ texts: [String], sets: [String] = []) throws -> [ConfigError] {
        do {
            _ = try load(texts, sets: sets)
            Issue.record("expected the config to be rejected")
            return []
        } catch let error as ConfigErrors {
            return error.errors
        }
    }

    @Test func defaultsFollowTheGoCollector() throws {
        let config = try load([Self.valid])
        let otlp = try #require(config.receivers[ComponentID(type: "otlp")]?.config as? OTLPReceiverConfig)
        #expect(otlp.protocols.grpc?.endpoint == "localhost:4317")
        #expect(otlp.protocols.grpc?.max_recv_msg_size_mib == 4)
        #expect(otlp.protocols.http == nil) // not named, so off
        let batch = try #require(config.processors[ComponentID(type: "batch")]?.config as? BatchConfig)
        #expect(batch.send_batch_size == 8192)
        #expect(batch.send_batch_max_size == 0)
        #expect(batch.timeout == .seconds(1))
        #expect(batch.metadata_cardinality_limit == 1000)
        #expect(config.pipelines.map(\.id.description) == ["traces"])
    }

    @Test func unknownKeyNamesFileAndPathWithSuggestion() throws {
        let text = Self.valid.replacingOccurrences(of: "      grpc:", with: "      grpc:\n        endpont: 0.0.0.0:4317")
        let found = try errors([text])
        #expect(found.count == 1)
        let error = try #require(found.first)
        #expect(error.file?.hasSuffix("c0.yaml") == true)
        #expect(error.path == "receivers.otlp.protocols.grpc.endpont")
        #expect(error.message.hasPrefix(#"unknown key "endpont" (did you mean "endpoint"?)"#))
    }

    @Test func unknownComponentType() throws {
        let text = Self.valid.replacingOccurrences(of: "  batch:\n", with: "  bacth:\n")
        let found = try errors([text])
        #expect(found.contains { $0.path == "processors.bacth" && $0.message.hasPrefix(#"unknown processor type "bacth" (did you mean "batch"?)"#) })
        #expect(found.contains { $0.path == "service.pipelines.traces.processors[0]" && $0.message.contains(#"references processor "batch" which is not configured"#) })
    }

    @Test func wrongTypeNamesThePath() throws {
        let text = Self.valid.replacingOccurrences(of: "timeout: 1s", with: "send_batch_size: lots")
        let error = try #require(try errors([text]).first)
        #expect(error.path == "processors.batch.send_batch_size")
        #expect(error.message == #"expected an integer, got "lots""#)
    }

    @Test func invalidDurationAndOption() throws {
        let badDuration = Self.valid.replacingOccurrences(of: "timeout: 1s", with: "timeout: soon")
        let durationError = try #require(try errors([badDuration]).first)
        #expect(durationError.path == "processors.batch.timeout")
        #expect(durationError.message.hasPrefix(#"invalid duration "soon""#))
        let badOption = Self.valid.replacingOccurrences(of: "  debug:\n", with: "  debug:\n    verbosity: loud\n")
        let optionError = try #require(try errors([badOption]).first)
        #expect(optionError.path == "exporters.debug.verbosity")
        #expect(optionError.message == #"invalid value "loud": must be one of basic, normal, detailed"#)
    }

    @Test func validationErrorsCarryThePath() throws {
        let text = Self.valid.replacingOccurrences(of: "timeout: 1s", with: "send_batch_size: 100\n    send_batch_max_size: 10")
        let error = try #require(try errors([text]).first)
        #expect(error.path == "processors.batch.send_batch_max_size")
        #expect(error.message == "must be greater than or equal to send_batch_size (100)")
    }

    @Test func pipelineReferencesAndSignals() throws {
        let text = Self.valid.replacingOccurrences(of: "exporters: [debug]", with: "exporters: [debgu]")
        let error = try #require(try errors([text]).first)
        #expect(error.path == "service.pipelines.traces.exporters[0]")
        #expect(error.message == #"references exporter "debgu" which is not configured under exporters (did you mean "debug"?)"#)
        let badSignal = Self.valid.replacingOccurrences(of: "    traces:\n", with: "    spans:\n")
        #expect(try errors([badSignal]).first?.message.hasPrefix(#"unknown pipeline signal "spans""#) == true)
    }

    @Test func unusedComponentIsAWarning() throws {
        let text = Self.valid.replacingOccurrences(of: "  debug:\n", with: "  debug:\n  file/unused:\n    path: /tmp/x\n")
        let config = try load([text])
        #expect(config.warnings == ["exporters.file/unused: exporter is configured but not used in any pipeline; it will not run"])
    }

    @Test func unknownTopLevelSection() throws {
        let error = try #require(try errors([Self.valid + "\nrecievers: {}\n"]).first)
        #expect(error.path == "recievers")
        #expect(error.message.hasPrefix(#"unknown key "recievers" (did you mean "receivers"?)"#))
    }

    @Test func laterFilesAndSetsOverrideEarlierOnes() throws {
        let overlay = "processors:\n  batch:\n    send_batch_size: 100\n"
        let config = try load([Self.valid, overlay], sets: ["processors.batch.timeout=5s", "receivers::otlp::protocols::grpc::endpoint=127.0.0.1:0"])
        let batch = try #require(config.processors[ComponentID(type: "batch")]?.config as? BatchConfig)
        #expect(batch.send_batch_size == 100)
        #expect(batch.timeout == .seconds(5))
        let otlp = try #require(config.receivers[ComponentID(type: "otlp")]?.config as? OTLPReceiverConfig)
        #expect(otlp.protocols.grpc?.endpoint == "127.0.0.1:0")
    }

    @Test func environmentExpansion() throws {
        let text = Self.valid
            .replacingOccurrences(of: "timeout: 1s", with: "timeout: ${env:BATCH_TIMEOUT}\n    send_batch_size: ${SIZE:-77}")
            .replacingOccurrences(of: "      grpc:", with: "      grpc:\n        endpoint: \"$${literal}:4317\"")
        var sources = ConfigSources()
        try sources.addFile(try write(text), environment: ["BATCH_TIMEOUT": "3s"])
        let config = try CollectorConfig.load(sources, registry: Components.registry)
        let batch = try #require(config.processors[ComponentID(type: "batch")]?.config as? BatchConfig)
        #expect(batch.timeout == .seconds(3))
        #expect(batch.send_batch_size == 77)
        let otlp = try #require(config.receivers[ComponentID(type: "otlp")]?.config as? OTLPReceiverConfig)
        #expect(otlp.protocols.grpc?.endpoint == "${literal}:4317")
    }

    @Test func fileReferencesReadTheFileWithoutItsLineBreak() throws {
        let secret = try write("edge-collector:4317\n", name: "endpoint.txt")
        let sizes = try write("[1, 2]\n", name: "list.yaml")
        let text = Self.valid
            .replacingOccurrences(of: "      grpc:", with: "      grpc:\n        endpoint: ${file:\(secret)}")
            .replacingOccurrences(of: "exporters:\n  debug:", with: "exporters:\n  kafka:\n    brokers: ${file:\(sizes)}\n    client_id: id-${file:\(secret)}\n  debug:")
            .replacingOccurrences(of: "exporters: [debug]", with: "exporters: [debug, kafka]")
        let config = try load([text])
        let otlp = try #require(config.receivers[ComponentID(type: "otlp")]?.config as? OTLPReceiverConfig)
        #expect(otlp.protocols.grpc?.endpoint == "edge-collector:4317")
        let kafka = try #require(config.exporters[ComponentID(type: "kafka")]?.config as? KafkaExporterConfig)
        #expect(kafka.client.brokers == ["1", "2"]) // a whole-value reference is read as YAML
        #expect(kafka.client.client_id == "id-edge-collector:4317")

        let missing = Self.valid.replacingOccurrences(of: "      grpc:", with: "      grpc:\n        endpoint: ${file:/nonexistent/endpoint.txt}")
        var sources = ConfigSources()
        let path = try write(missing)
        #expect(throws: ConfigError.self) { try sources.addFile(path) }
        do { try sources.addFile(path) } catch {
            #expect(error.file == path)
            #expect(error.path == "receivers.otlp.protocols.grpc.endpoint")
            #expect(error.message.hasPrefix("cannot read ${file:/nonexistent/endpoint.txt}"))
        }
    }

    @Test func configURIsAsGoTakesThem() throws {
        var sources = ConfigSources()
        try sources.add(uri: "file:" + write(Self.valid))
        try sources.add(uri: "env:EXTRA", environment: ["EXTRA": "processors:\n  batch:\n    timeout: 4s\n"])
        let config = try CollectorConfig.load(sources, registry: Components.registry)
        let batch = try #require(config.processors[ComponentID(type: "batch")]?.config as? BatchConfig)
        #expect(batch.timeout == .seconds(4))
        #expect(throws: ConfigError.self) { try sources.add(uri: "env:UNSET_FOR_TEST", environment: [:]) }
    }

    @Test func memoryLimiterDefaultConfigIsRejectedLikeGo() throws {
        let text = Self.valid.replacingOccurrences(of: "  batch:\n    timeout: 1s\n", with: "  batch:\n  memory_limiter:\n")
            .replacingOccurrences(of: "processors: [batch]", with: "processors: [memory_limiter, batch]")
        let error = try #require(try errors([text]).first)
        #expect(error.path == "processors.memory_limiter.check_interval")
    }

    @Test func examplesValidate() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("examples").path).filter { $0.hasSuffix(".yaml") }
        #expect(names.count >= 5)
        for name in names {
            var sources = ConfigSources()
            try sources.addFile(root.appendingPathComponent("examples/\(name)").path)
            let config = try CollectorConfig.load(sources, registry: Components.registry)
            #expect(!config.pipelines.isEmpty)
        }
    }
}
