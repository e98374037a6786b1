import Kafka
import OTLP
import Pipeline

/// `exporters.kafka`: the Go collector's keys, the shared client keys at the top level as in Go.
public typealias KafkaExporterConfig = KafkaComponentConfig<KafkaExporterSettings>

public enum KafkaEncoding: String, ConfigOption {
    case otlpProto = "otlp_proto", otlpJSON = "otlp_json", raw
}

public struct KafkaExporterSettings: KafkaComponentSettings {
    public var timeout: ConfigDuration = .seconds(5)
    public var retry_on_failure = RetrySettings()
    public var sending_queue = SendingQueueSettings()
    public var traces = SignalSettings()
    public var metrics = SignalSettings()
    public var logs = SignalSettings()
    public var topic: String?
    public var encoding: KafkaEncoding?
    public var topic_from_attribute = ""
    public var include_metadata_keys: [String] = []
    public var record_headers: [String: String] = [:]
    public var partition_traces_by_id = false
    public var partition_metrics_by_resource_attributes = false
    public var partition_logs_by_resource_attributes = false
    public var partition_logs_by_trace_id = false
    public var signal_header = false
    public var producer = Producer()
    public var record_partitioner: RecordPartitioner?

    public init() {}

    public static let inertKeys = [InertKey("profiles", "profiles are not a signal of this collector; nothing is written for them")]

    /// `record_partitioner`: at most one choice. `least_backup` needs per-partition queue depths
    /// librdkafka does not expose to a partitioner, so it spreads records in turn instead.
    public struct RecordPartitioner: ConfigSection {
        public struct StickyKey: ConfigSection {
            public enum Hasher: String, ConfigOption { case saramaCompat = "sarama_compat", murmur2 }
            public var hasher: Hasher = .saramaCompat
            public init() {}
        }
        /// A choice without settings (`round_robin: {}`).
        public struct Chosen: ConfigSection { public init() {} }
        public var sticky_key: StickyKey?
        public var round_robin: Chosen?
        public var least_backup: Chosen?
        public var `extension`: String?
        public init() {}

        var partitioner: KafkaPartitioner {
            if sticky_key?.hasher == .murmur2 { return .murmur2 }
            if round_robin != nil || least_backup != nil { return .roundRobin }
            return .saramaCompatible
        }

        func validate() throws(ConfigError) {
            let chosen = [sticky_key != nil, round_robin != nil, least_backup != nil, `extension` != nil].filter { $0 }.count
            if chosen > 1 {
                throw ConfigError(path: "record_partitioner", message: "set at most one of sticky_key, round_robin, least_backup, extension")
            }
            if let name = `extension` {
                throw ConfigError(path: "record_partitioner.extension", message: "names \"\(name)\": no extension of otelcol-swift provides a record partitioner; use sticky_key or round_robin")
            }
        }
    }

    public struct SignalSettings: ConfigSection {
        public var topic: String?
        public var encoding: KafkaEncoding?
        public var topic_from_metadata_key = ""
        public var message_key_from_metadata_key = ""
        public init() {}
    }

    public struct Producer: ConfigSection {
        public enum Compression: String, ConfigOption { case none, gzip, snappy, lz4, zstd }
        public var max_message_bytes = 1_000_000
        public var max_broker_write_bytes = 104_857_600
        /// `all`/`-1`, `1` or `0`. **Differs:** defaults to `all` (the Go collector: 1).
        public var required_acks = "all"
        public var compression: Compression = .none
        public var compression_params = CompressionParams()
        public var flush_max_messages = 10_000
        public var allow_auto_topic_creation = true
        public var linger: ConfigDuration = .milliseconds(10)
        public init() {}

        public struct CompressionParams: ConfigSection {
            public var level = -1
            public init() {}
        }
    }

    public func warnings() -> [String] {
        record_partitioner?.least_backup == nil ? []
            : ["record_partitioner.least_backup spreads records in turn (as round_robin): librdkafka does not tell a partitioner how much each partition has waiting"]
    }

    /// A signal's own keys (`traces:` …).
    public func keys(of signal: Signal) -> SignalSettings {
        switch signal { case .traces: traces; case .metrics: metrics; case .logs: logs }
    }

    /// The topic and encoding a signal uses: its own keys, else the older flat keys, else defaults.
    public func destination(_ signal: Signal) -> (topic: String, encoding: KafkaEncoding) {
        let own = keys(of: signal)
        return (own.topic ?? topic ?? signal.defaultKafkaTopic, own.encoding ?? encoding ?? .otlpProto)
    }

    var acks: String { producer.required_acks == "all" ? "-1" : producer.required_acks }

    public func validate() throws(ConfigError) {
        try sending_queue.validate(under: "sending_queue")
        try retry_on_failure.validate(under: "retry_on_failure")
        guard ["all", "-1", "0", "1"].contains(producer.required_acks) else {
            throw ConfigError(path: "producer.required_acks", message: "must be all, -1, 0 or 1, got \"\(producer.required_acks)\"")
        }
        if producer.max_message_bytes <= 0 { throw ConfigError(path: "producer.max_message_bytes", message: "must be greater than 0") }
        if producer.max_message_bytes > producer.max_broker_write_bytes {
            throw ConfigError(path: "producer.max_message_bytes", message: "must not be larger than producer.max_broker_write_bytes (\(producer.max_broker_write_bytes))")
        }
        try record_partitioner?.validate()
        if producer.flush_max_messages < 1 { throw ConfigError(path: "producer.flush_max_messages", message: "must be at least 1") }
        if partition_logs_by_trace_id, partition_logs_by_resource_attributes {
            throw ConfigError(path: "partition_logs_by_trace_id", message: "cannot be combined with partition_logs_by_resource_attributes")
        }
        for signal in [Signal.traces, .metrics] where destination(signal).encoding == .raw {
            throw ConfigError(path: "\(signal).encoding", message: "raw is only available for logs")
        }
        if timeout.nanoseconds <= 0 { throw ConfigError(path: "timeout", message: "must be greater than 0") }
        let partitioned = [("traces", partition_traces_by_id), ("metrics", partition_metrics_by_resource_attributes),
                           ("logs", partition_logs_by_trace_id || partition_logs_by_resource_attributes)]
        for ((name, settings), (_, isPartitioned)) in zip([("traces", traces), ("metrics", metrics), ("logs", logs)], partitioned)
            where isPartitioned && !settings.message_key_from_metadata_key.isEmpty {
            throw ConfigError(path: "\(name).message_key_from_metadata_key", message: "cannot be combined with partitioning by trace id or resource attributes")
        }
    }
}

extension KafkaComponentConfig: QueuedExporterConfig where Settings == KafkaExporterSettings {
    public var sendingQueue: SendingQueueSettings { settings.sending_queue }
    public var retryOnFailure: RetrySettings? { settings.retry_on_failure }
}
