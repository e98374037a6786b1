import Kafka
import OTLP
import Pipeline

/// `extensions.embedded_kafka`: a Kafka-protocol broker set inside the collector process
/// (librdkafka's mock cluster), for local runs and tests: a `brokers:` list of a kafka component
/// may name this extension instead of an address.
///
/// In memory only, and each partition keeps just its newest ~5 MiB or 100k message sets (older
/// ones are deleted silently, like a tiny retention): never for production data.
public struct EmbeddedKafkaConfig: ComponentConfig {
    public var brokers = 1
    public var partitions = 4
    public var topics: [String] = Signal.allCases.map(\.defaultKafkaTopic)
    public init() {}

    public func validate() throws(ConfigError) {
        if brokers < 1 { throw ConfigError(path: "brokers", message: "must be at least 1") }
        if partitions < 1 { throw ConfigError(path: "partitions", message: "must be at least 1") }
    }
}

public final class EmbeddedKafkaExtension: CollectorExtension {
    public static let factory = ExtensionFactory(type: "embedded_kafka", stability: .development, config: EmbeddedKafkaConfig.self) { settings, config in
        EmbeddedKafkaExtension(settings: settings, config: config)
    }

    private let settings: ComponentSettings
    private let config: EmbeddedKafkaConfig
    private let cluster = MutexBox<MockKafkaCluster>(nil)

    init(settings: ComponentSettings, config: EmbeddedKafkaConfig) {
        self.settings = settings
        self.config = config
    }

    public func start() async throws {
        let made = try MockKafkaCluster(brokers: config.brokers)
        for topic in config.topics { try made.createTopic(topic, partitions: config.partitions) }
        cluster.set(made)
        settings.logger.warning("embedded Kafka broker for local use only (in memory, tiny retention) at \(made.bootstrapServers)")
    }

    public func shutdown() async {
        cluster.take()?.close()
    }

    /// The broker's address while it runs; kafka components whose `brokers` name this extension
    /// dial it (it starts before them).
    public var bootstrapServers: String? { cluster.get()?.bootstrapServers }
}
