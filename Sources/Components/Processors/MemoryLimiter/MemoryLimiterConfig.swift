import Pipeline

/// `processors.memory_limiter`: the Go collector's keys. The GC interval keys are accepted and
/// have no effect: Swift has no garbage collector to force (docs/COMPATIBILITY.md).
public struct MemoryLimiterConfig: ComponentConfig {
    public var check_interval: ConfigDuration = .zero
    public var limit_mib: Int = 0
    public var spike_limit_mib: Int = 0
    public var limit_percentage: Int = 0
    public var spike_limit_percentage: Int = 0

    public init() {}

    public static let inertKeys = ["min_gc_interval_when_soft_limited", "min_gc_interval_when_hard_limited",
                                   "max_gc_interval_when_soft_limited", "max_gc_interval_when_hard_limited"].map {
        InertKey($0, "there is no garbage collector to run; memory is freed as requests complete")
    }

    public func validate() throws(ConfigError) {
        if check_interval.nanoseconds <= 0 {
            throw ConfigError(path: "check_interval", message: "must be greater than 0 (1s is typical)")
        }
        if limit_mib == 0, limit_percentage == 0 {
            throw ConfigError(path: "limit_mib", message: "one of limit_mib or limit_percentage must be greater than 0")
        }
        if limit_mib > 0, spike_limit_mib >= limit_mib {
            throw ConfigError(path: "spike_limit_mib", message: "must be smaller than limit_mib (\(limit_mib))")
        }
        if limit_mib == 0, !(1...100).contains(limit_percentage) {
            throw ConfigError(path: "limit_percentage", message: "must be between 1 and 100")
        }
        if limit_mib == 0, spike_limit_percentage >= limit_percentage {
            throw ConfigError(path: "spike_limit_percentage", message: "must be smaller than limit_percentage (\(limit_percentage))")
        }
    }

    /// Hard and soft limits in bytes for a machine with `totalMemory` bytes.
    func limits(totalMemory: UInt64) -> (hard: UInt64, soft: UInt64) {
        let mib: UInt64 = 1024 * 1024
        if limit_mib > 0 {
            let hard = UInt64(limit_mib) * mib
            let spike = spike_limit_mib > 0 ? UInt64(spike_limit_mib) * mib : hard / 5
            return (hard, hard - spike)
        }
        let hard = totalMemory * UInt64(limit_percentage) / 100
        let spike = spike_limit_percentage > 0 ? totalMemory * UInt64(spike_limit_percentage) / 100 : hard / 5
        return (hard, hard - spike)
    }
}
