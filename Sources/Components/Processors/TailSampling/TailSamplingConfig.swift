import OTTL
import Pipeline

/// `processors.tail_sampling`: the Go collector's keys and policy types.
public struct TailSamplingConfig: ComponentConfig {
    public struct DecisionCache: ConfigSection {
        public var sampled_cache_size = 0
        public var non_sampled_cache_size = 0
        public init() {}
    }

    public var decision_wait: ConfigDuration = .seconds(30)
    public var num_traces = 50_000
    public var decision_cache = DecisionCache()
    public var sample_on_first_match = false
    public var drop_pending_traces_on_shutdown = false
    public var policies: [PolicyConfig] = []

    public init() {}

    public static let inertKeys = [
        InertKey("expected_new_traces_per_sec", "the trace table grows as traces arrive, up to num_traces"),
    ]

    public func validate() throws(ConfigError) {
        if decision_wait.nanoseconds <= 0 { throw ConfigError(path: "decision_wait", message: "must be greater than 0") }
        if num_traces <= 0 { throw ConfigError(path: "num_traces", message: "must be greater than 0") }
        if policies.isEmpty { throw ConfigError(path: "policies", message: "at least one policy is required") }
        _ = try SamplingPolicies.build(policies, path: "policies")
    }
}

/// One policy: `name`, `type` and the block named after the type.
public struct PolicyConfig: ConfigSection {
    /// Every policy type there is: decoding refuses any other name with the list, and
    /// `SamplingPolicies.build` switches over all of them, so a type cannot be accepted here and
    /// missing there.
    public enum PolicyType: String, ConfigOption {
        case alwaysSample = "always_sample", latency, numericAttribute = "numeric_attribute", probabilistic
        case statusCode = "status_code", stringAttribute = "string_attribute", booleanAttribute = "boolean_attribute"
        case rateLimiting = "rate_limiting", spanCount = "span_count", traceState = "trace_state"
        case ottlCondition = "ottl_condition", and, drop, composite
    }

    public struct Latency: ConfigSection { public var threshold_ms: Int64 = 0; public var upper_threshold_ms: Int64 = 0; public init() {} }
    public struct NumericAttribute: ConfigSection {
        public var key = ""; public var min_value: Int64 = 0; public var max_value: Int64 = 0; public var invert_match = false
        public init() {}
    }
    public struct Probabilistic: ConfigSection {
        public var hash_salt = "default-hash-seed"; public var sampling_percentage: Double = 0
        public init() {}
    }
    public struct StatusCode: ConfigSection { public var status_codes: [String] = []; public init() {} }
    public struct StringAttribute: ConfigSection {
        public var key = ""; public var values: [String] = []; public var enabled_regex_matching = false
        public var cache_max_size = 128; public var invert_match = false
        public init() {}
    }
    public struct RateLimiting: ConfigSection { public var spans_per_second: Int64 = 0; public init() {} }
    public struct SpanCount: ConfigSection { public var min_spans: Int = 0; public var max_spans: Int = 0; public init() {} }
    public struct TraceState: ConfigSection { public var key = ""; public var values: [String] = []; public init() {} }
    public struct BooleanAttribute: ConfigSection {
        public var key = ""; public var value = false; public var invert_match = false
        public init() {}
    }
    public struct OTTLCondition: ConfigSection {
        public var error_mode: ErrorModeOption = .ignore; public var span: [String] = []; public var spanevent: [String] = []
        public init() {}
    }
    public struct And: ConfigSection { public var and_sub_policy: [PolicyConfig] = []; public init() {} }
    public struct Drop: ConfigSection { public var drop_sub_policy: [PolicyConfig] = []; public init() {} }
    public struct RateAllocation: ConfigSection { public var policy = ""; public var percent: Int64 = 0; public init() {} }
    public struct Composite: ConfigSection {
        public var max_total_spans_per_second: Int64 = 0
        public var policy_order: [String] = []
        public var composite_sub_policy: [PolicyConfig] = []
        public var rate_allocation: [RateAllocation] = []
        public init() {}
    }

    public var name = ""
    public var type: PolicyType?
    public var latency = Latency()
    public var numeric_attribute = NumericAttribute()
    public var probabilistic = Probabilistic()
    public var status_code = StatusCode()
    public var string_attribute = StringAttribute()
    public var rate_limiting = RateLimiting()
    public var span_count = SpanCount()
    public var trace_state = TraceState()
    public var boolean_attribute = BooleanAttribute()
    public var ottl_condition = OTTLCondition()
    public var and = And()
    public var drop = Drop()
    public var composite = Composite()

    public init() {}
}
