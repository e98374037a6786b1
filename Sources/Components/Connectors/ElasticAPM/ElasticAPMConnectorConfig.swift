import Pipeline

/// `connectors.elasticapm`: the keys and defaults of Elastic's connector, which aggregates
/// traces, logs and metrics into the metric sets Kibana's APM UI reads.
public struct ElasticAPMConnectorConfig: ComponentConfig {
    public struct Limit: ConfigSection {
        public var max_cardinality: Int = 0
        public init() {}
        init(_ value: Int) { max_cardinality = value }
    }

    public struct Limits: ConfigSection {
        public var resource = Limit(8000)
        public var scope = Limit(4000)
        public var metric = Limit(4000)
        public var datapoint = Limit(4000)
        public init() {}
    }

    public struct Aggregation: ConfigSection {
        /// Windows end on the collector's wall clock at multiples of each interval. Elastic says
        /// to change them for tests only.
        public var intervals: [ConfigDuration] = [.seconds(60), .seconds(600), .seconds(3600)]
        public var limits = Limits()
        public var metadata_keys: [String] = []
        public init() {}
    }

    /// A resource attribute copied onto every aggregated metric when the item has it: a plain key
    /// or `{key: …}`.
    public struct CustomResourceAttribute: Codable, Sendable, Equatable {
        public var key: String

        public init(key: String) { self.key = key }

        enum CodingKeys: String, CodingKey { case key, keys_expression }

        public init(from decoder: any Decoder) throws {
            if let single = try? decoder.singleValueContainer(), let key = try? single.decode(String.self) {
                self.key = key
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if container.contains(.keys_expression) {
                throw DecodingError.dataCorruptedError(forKey: .keys_expression, in: container,
                                                       debugDescription: "keys_expression (OTTL) is not supported; list the keys")
            }
            key = try container.decode(String.self, forKey: .key)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(key)
        }
    }

    public var aggregation = Aggregation()
    public var custom_resource_attributes: [CustomResourceAttribute] = []
    public var custom_span_attributes: [String] = []

    public init() {}

    public func validate() throws(ConfigError) {
        let intervals = aggregation.intervals
        guard let smallest = intervals.first else { throw ConfigError(path: "aggregation.intervals", message: "at least one interval is required") }
        for (index, interval) in intervals.enumerated() {
            let path = "aggregation.intervals[\(index)]"
            guard interval.nanoseconds >= 1_000_000_000, interval.nanoseconds % 1_000_000_000 == 0 else {
                throw ConfigError(path: path, message: "must be a whole number of seconds, at least 1s (got \(interval))")
            }
            if index > 0, interval <= intervals[index - 1] { throw ConfigError(path: path, message: "intervals must increase") }
            if interval.nanoseconds % smallest.nanoseconds != 0 {
                throw ConfigError(path: path, message: "must be a multiple of the smallest interval (\(smallest))")
            }
        }
        for (level, limit) in [("resource", aggregation.limits.resource), ("scope", aggregation.limits.scope),
                               ("metric", aggregation.limits.metric), ("datapoint", aggregation.limits.datapoint)] where limit.max_cardinality < 0 {
            throw ConfigError(path: "aggregation.limits.\(level).max_cardinality", message: "must not be negative (0 turns the limit off)")
        }
        for (index, attribute) in custom_resource_attributes.enumerated() where attribute.key.isEmpty {
            throw ConfigError(path: "custom_resource_attributes[\(index)]", message: "the key must not be empty")
        }
        if custom_span_attributes.count > SpanReading.maxCustomKeys {
            throw ConfigError(path: "custom_span_attributes", message: "at most \(SpanReading.maxCustomKeys) keys (got \(custom_span_attributes.count))")
        }
    }

    public static let inertKeys: [InertKey] = [
        InertKey("error_mode", "the aggregation evaluates no OTTL, so nothing can fail"),
        InertKey("aggregation.directory", "the aggregation state is held in memory"),
        InertKey("aggregation.statements", "statements on the aggregated metrics are not run"),
    ]
}
