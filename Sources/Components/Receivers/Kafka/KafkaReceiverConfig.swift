import OTLP
import Pipeline

/// `receivers.kafka`: the Go collector's keys, the shared client keys at the top level as in Go.
public typealias KafkaReceiverConfig = KafkaComponentConfig<KafkaReceiverSettings>

public struct KafkaReceiverSettings: KafkaComponentSettings {
    public enum Encoding: String, ConfigOption { case otlpProto = "otlp_proto", otlpJSON = "otlp_json" }

    public var group_id = "otel-collector"
    public var group_instance_id = ""
    public var initial_offset: InitialOffset = .latest
    public var session_timeout: ConfigDuration = .seconds(10)
    public var heartbeat_interval: ConfigDuration = .seconds(3)
    public var group_rebalance_strategy: String?
    public var group_rebalance_strategies: [String]?
    public var autocommit = Autocommit()
    public var header_extraction = HeaderExtraction()
    public var min_fetch_size = 1
    public var max_fetch_size = 1_048_576
    public var max_partition_fetch_size = 1_048_576
    public var max_fetch_wait: ConfigDuration = .milliseconds(250)
    public var error_backoff = ErrorBackoff()
    public var traces = SignalSettings()
    public var metrics = SignalSettings()
    public var logs = SignalSettings()
    public var topic: String?
    public var encoding: Encoding?
    /// Beyond Go: where records that cannot be decoded, or that the pipeline rejects permanently,
    /// are written (unchanged, with headers saying where from and why). Empty: they are skipped.
    public var dead_letter_topic = ""
    /// Beyond Go: a warning is logged when a partition's oldest unread record is this close to
    /// being deleted by the topic's `retention.ms`. 0 turns the warning off.
    public var retention_headroom_warning: ConfigDuration = .seconds(3600)

    public init() {}

    public static let inertKeys = [
        InertKey("message_marking", "an offset is committed only once the pipeline accepted its record; a record that can never be accepted is skipped, counted and logged"),
        InertKey("partition_processing", "records of all assigned partitions are processed concurrently, each partition in order"),
        InertKey("telemetry", "the receiver's metrics are always on"),
        InertKey("default_fetch_size", "fetches start at max_partition_fetch_size"),
        InertKey("profiles", "profiles are not a signal of this collector; their topic is not read"),
    ]

    public struct SignalSettings: ConfigSection {
        public var topics: [String]?
        public var topic: String?
        public var encoding: Encoding?
        public var exclude_topics: [String]?
        public init() {}
    }

    public struct Autocommit: ConfigSection {
        public var enable = true
        public var interval: ConfigDuration = .seconds(1)
        public init() {}
    }

    public struct HeaderExtraction: ConfigSection {
        public var extract_headers = false
        public var headers: [String] = []
        public init() {}
    }

    /// How a retryable downstream failure is retried in place. **Differs:** enabled by default,
    /// forever (`max_elapsed_time: 0`): a record is never skipped because the backend is down.
    public struct ErrorBackoff: ConfigSection {
        public var enabled = true
        public var initial_interval: ConfigDuration = .milliseconds(100)
        public var max_interval: ConfigDuration = .seconds(5)
        public var multiplier = 2.0
        public var randomization_factor = 0.1
        public var max_elapsed_time: ConfigDuration = .zero
        public init() {}

        var backoff: Backoff {
            Backoff(initial: initial_interval.duration, maximum: max_interval.duration, multiplier: multiplier,
                    jitter: .proportional(randomization_factor), maxElapsed: max_elapsed_time.nanoseconds > 0 ? max_elapsed_time.duration : nil)
        }
    }

    /// Topics and encoding of a signal: its own keys, else the older flat keys, else defaults.
    public func source(_ signal: Signal) -> (topics: [String], encoding: Encoding) {
        let own = signalSettings(signal)
        let topics = own.topics ?? own.topic.map { [$0] } ?? topic.map { [$0] } ?? [signal.defaultKafkaTopic]
        return (topics, own.encoding ?? encoding ?? .otlpProto)
    }

    func signalSettings(_ signal: Signal) -> SignalSettings {
        switch signal { case .traces: traces; case .metrics: metrics; case .logs: logs }
    }

    /// The strategies librdkafka is given: cooperative-sticky unless set, as in the Go collector
    /// (franz-go), so Swift and Go backends can share one group.
    var rebalanceStrategies: [String] {
        group_rebalance_strategies ?? group_rebalance_strategy.map { [$0] } ?? ["cooperative-sticky"]
    }

    public func warnings() -> [String] {
        group_rebalance_strategy == nil ? [] : ["group_rebalance_strategy is deprecated (as in the Go collector): use group_rebalance_strategies"]
    }

    public func validate() throws(ConfigError) {
        if group_id.isEmpty { throw ConfigError(path: "group_id", message: "must not be empty") }
        for (name, settings) in [("traces", traces), ("metrics", metrics), ("logs", logs)] {
            if settings.topics != nil, settings.topic != nil {
                throw ConfigError(path: "\(name).topic", message: "cannot be combined with \(name).topics")
            }
            if settings.topics?.isEmpty == true { throw ConfigError(path: "\(name).topics", message: "must not be empty") }
        }
        if group_rebalance_strategy != nil, group_rebalance_strategies != nil {
            throw ConfigError(path: "group_rebalance_strategy", message: "cannot be combined with group_rebalance_strategies")
        }
        // Topic entries and expressions are checked where they are read.
        _ = try TopicSubscription(self, signals: Signal.allCases)
        let strategiesKey = group_rebalance_strategy != nil ? "group_rebalance_strategy" : "group_rebalance_strategies"
        if group_rebalance_strategies?.isEmpty == true { throw ConfigError(path: strategiesKey, message: "must not be empty") }
        let strategies = rebalanceStrategies
        for (index, strategy) in strategies.enumerated() {
            let path = group_rebalance_strategy != nil ? strategiesKey : "\(strategiesKey)[\(index)]"
            switch strategy {
            case "range", "roundrobin", "cooperative-sticky":
                continue
            case "":
                throw ConfigError(path: path, message: "must not be empty")
            case "sticky":
                throw ConfigError(path: path, message: "the eager sticky balancer is not available here (librdkafka has none); use cooperative-sticky, the Go collector's default")
            default:
                throw ConfigError(path: path, message: "unknown strategy \"\(strategy)\": use range, roundrobin or cooperative-sticky (balancer extensions are not supported)")
            }
        }
        // librdkafka cannot offer an eager and the cooperative protocol at once.
        if strategies.contains("cooperative-sticky"), strategies.count > 1 {
            throw ConfigError(path: strategiesKey, message: "cooperative-sticky cannot be listed with range or roundrobin (librdkafka offers one rebalance protocol at a time)")
        }
        if error_backoff.initial_interval.nanoseconds <= 0 {
            throw ConfigError(path: "error_backoff.initial_interval", message: "must be greater than 0")
        }
    }
}
