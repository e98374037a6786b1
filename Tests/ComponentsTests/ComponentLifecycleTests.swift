import Components
import Foundation
import Kafka
import Logging
import OTLP
import Pipeline
import Testing

/// Every registered component, as the Go collector's generated lifecycle tests have it: created
/// from its smallest config, shut down without having started, and started and shut down on free
/// ports (kafka components against an embedded broker).
@Suite(.serialized) struct ComponentLifecycleTests {
    /// What each type needs on top of its smallest config to start here: free ports, a broker.
    static func startable(_ kind: ComponentKind, _ type: String, brokers: String) -> [String: Any] {
        var config = ComponentSamples.minimal(kind, type)
        switch (kind, type) {
        case (.receiver, "otlp"):
            config = ["protocols": ["grpc": ["endpoint": "127.0.0.1:0"], "http": ["endpoint": "127.0.0.1:0"]]]
        case (.extension, "health_check"), (.extension, "zpages"):
            config["endpoint"] = "127.0.0.1:0"
        case (_, "kafka"):
            config["brokers"] = [brokers]
        default:
            break
        }
        return config
    }

    func create(_ kind: ComponentKind, _ type: String, brokers: String) throws -> any Component {
        let loaded = try ComponentSamples.load(try ComponentSamples.config(kind, type, Self.startable(kind, type, brokers: brokers)))
        let id = ComponentID(type: type)
        let settings = ComponentSettings(id: id, kind: kind, logger: Logger(label: "lifecycle"), telemetry: CollectorTelemetry())
        let sink = RecordingConsumer()
        switch kind {
        case .receiver:
            let entry = try #require(loaded.receivers[id])
            return try entry.factory.create(settings, entry.config, [.traces: sink])
        case .processor:
            let entry = try #require(loaded.processors[id])
            return try entry.factory.create(settings, entry.config, .traces, sink)
        case .exporter:
            let entry = try #require(loaded.exporters[id])
            return try entry.factory.create(settings, entry.config)
        case .connector:
            let entry = try #require(loaded.connectors[id])
            let output = entry.factory.pairs.first { $0.from == .traces }?.to ?? .traces
            return try entry.factory.create(settings, entry.config, .traces, [output: sink])
        case .extension:
            let entry = try #require(loaded.extensions[id])
            return try entry.factory.create(settings, entry.config)
        }
    }

    @Test func everyComponentStartsAndStopsAndStopsWithoutStarting() async throws {
        let broker = try MockKafkaCluster()
        defer { broker.close() }
        for topic in Signal.allCases.map(\.defaultKafkaTopic) { try broker.createTopic(topic, partitions: 1) }
        var checked: [String] = []
        for kind in ComponentKind.allCases {
            for type in Components.registry.types(kind) {
                let unstarted = try create(kind, type, brokers: broker.bootstrapServers)
                await unstarted.shutdown()
                let component = try create(kind, type, brokers: broker.bootstrapServers)
                try await component.start()
                await component.shutdown()
                checked.append("\(kind.rawValue)/\(type)")
            }
        }
        #expect(checked.count == ComponentKind.allCases.reduce(0) { $0 + Components.registry.types($1).count })
        #expect(checked.contains("receiver/kafka") && checked.contains("exporter/elasticsearch") && checked.contains("extension/file_storage"))
    }
}
