/// `retry_on_failure` as the Go collector's exporters spell it.
public struct RetrySettings: ConfigSection {
    public var enabled = true
    public var initial_interval: ConfigDuration = .seconds(5)
    public var max_interval: ConfigDuration = .seconds(30)
    /// Unset means 5 minutes, except behind a durable queue, where data is kept until delivered
    /// unless the user writes a limit (docs/COMPATIBILITY.md).
    public var max_elapsed_time: ConfigDuration?
    public var multiplier = 1.5
    public var randomization_factor = 0.5
    public init() {}

    public static let defaultMaxElapsedTime = ConfigDuration.seconds(300)

    /// The limit in force for one export call: 0 retries for ever.
    public var maxElapsed: ConfigDuration { max_elapsed_time ?? Self.defaultMaxElapsedTime }

    /// Whether a durable queue keeps data whose retries ran out: yes unless a finite limit was written.
    public var keepsUndeliveredData: Bool { (max_elapsed_time?.nanoseconds ?? 0) == 0 }

    public func validate(under path: String) throws(ConfigError) {
        guard enabled else { return }
        if initial_interval.nanoseconds <= 0 { throw ConfigError(path: "\(path).initial_interval", message: "must be greater than 0") }
        if max_interval.nanoseconds < initial_interval.nanoseconds {
            throw ConfigError(path: "\(path).max_interval", message: "must not be less than initial_interval (\(initial_interval))")
        }
        if let max_elapsed_time, max_elapsed_time.nanoseconds < 0 { throw ConfigError(path: "\(path).max_elapsed_time", message: "must not be negative") }
        if multiplier < 1 { throw ConfigError(path: "\(path).multiplier", message: "must be at least 1") }
        if !(0...1).contains(randomization_factor) { throw ConfigError(path: "\(path).randomization_factor", message: "must be between 0 and 1") }
    }
}

/// One attempt's outcome, as an exporter reads its destination's answer.
public enum ExportAttempt: Sendable {
    /// Accepted; a partial success names how many items the destination rejected and why.
    case delivered(rejected: Int64, message: String)
    case retry(String, after: Duration?)
    case fail(String)
}

extension RetrySettings {
    /// The waits between an export's attempts; `unbounded` lifts `max_elapsed_time` (a durable
    /// queue keeping what it could not deliver). A limit of 0 retries for ever, as in Go.
    public func backoff(unbounded: Bool = false) -> Backoff {
        let limit = unbounded ? ConfigDuration.zero : maxElapsed
        return Backoff(initial: initial_interval.duration, maximum: max_interval.duration, multiplier: multiplier,
                       jitter: .proportional(randomization_factor), maxElapsed: limit.nanoseconds > 0 ? limit.duration : nil)
    }
}

extension ExportAttempt {
    /// One attempt's outcome as the queue's retry loop reads it: what was delivered, or an error
    /// that says whether a retry can help (with the server's retry-after hint).
    public func settled() throws -> (rejected: Int64, message: String) {
        switch self {
        case .delivered(let rejected, let message): return (rejected, message)
        case .retry(let message, let after): throw PipelineError.retryable(message, retryAfter: after)
        case .fail(let message): throw PipelineError.permanent(message)
        }
    }
}
