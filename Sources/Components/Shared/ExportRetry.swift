import Pipeline

/// `retry_on_failure` as the Go collector's exporters spell it.
public struct RetrySettings: ConfigSection {
    public var enabled = true
    public var initial_interval: ConfigDuration = .seconds(5)
    public var max_interval: ConfigDuration = .seconds(30)
    public var max_elapsed_time: ConfigDuration = .seconds(300)
    public var multiplier = 1.5
    public var randomization_factor = 0.5
    public init() {}
}

/// One attempt's outcome, as an exporter reads its destination's answer.
enum ExportAttempt {
    /// Accepted; a partial success names how many items the destination rejected and why.
    case delivered(rejected: Int64, message: String)
    case retry(String, after: Duration?)
    case fail(String)
}

extension RetrySettings {
    /// Runs `attempt` until it is delivered, fails for good, or retries are used up (then the
    /// caller gets a retryable error). A server's retry-after hint replaces the backoff once.
    func run(_ attempt: () async -> ExportAttempt) async throws -> (rejected: Int64, message: String) {
        let started = ContinuousClock.now
        var interval = initial_interval.duration
        while true {
            switch await attempt() {
            case .delivered(let rejected, let message):
                return (rejected, message)
            case .fail(let message):
                throw PipelineError.permanent(message)
            case .retry(let message, let after):
                let wait = after ?? interval * (1 + Double.random(in: -randomization_factor...randomization_factor))
                let elapsed = ContinuousClock.now - started
                guard enabled, max_elapsed_time.nanoseconds == 0 || elapsed + wait <= max_elapsed_time.duration else {
                    throw PipelineError.retryable(message, retryAfter: after)
                }
                try await Task.sleep(for: wait)
                interval = min(interval * multiplier, max_interval.duration)
            }
        }
    }
}
