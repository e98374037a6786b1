/// How long to wait between attempts: exponential from `initial` by `multiplier` up to
/// `maximum`, with jitter, for at most `maxElapsed` in all. Every retry loop of the collector
/// (sending queues, the kafka receiver, its dead-letter writes, tail sampling's hand-off, the
/// elasticsearch exporter's document retries) waits through one of these.
public struct Backoff: Sendable {
    public enum Jitter: Sendable {
        case none
        /// A wait of `d` becomes one in `d·(1 ± factor)` (Go's `randomization_factor`).
        case proportional(Double)
        /// A wait of `d` becomes one in `[d/2, d]` (the Go elasticsearch exporter's rule).
        case upperHalf
    }

    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    public var jitter: Jitter
    /// How long a run may go on from its start; nil retries for ever.
    public var maxElapsed: Duration?

    public init(initial: Duration, maximum: Duration, multiplier: Double = 2, jitter: Jitter = .none, maxElapsed: Duration? = nil) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
        self.maxElapsed = maxElapsed
    }

    /// The wait before retry `attempt` (0 for the first), jitter applied.
    public func delay(attempt: Int) -> Duration {
        var interval = initial
        for _ in 0..<min(attempt, 64) where interval < maximum {
            interval = min(interval * multiplier, maximum)
        }
        switch jitter {
        case .none: return interval
        case .proportional(let factor): return interval * (1 + Double.random(in: -factor...factor))
        case .upperHalf: return interval * Double.random(in: 0.5...1)
        }
    }

    /// A run of attempts starting now.
    public func start(at now: ContinuousClock.Instant = .now) -> Run { Run(policy: self, started: now) }

    /// The waits of one operation's attempts.
    public struct Run: Sendable {
        public let policy: Backoff
        public let started: ContinuousClock.Instant
        public private(set) var attempt = 0

        /// The next wait (`hint`, a server's retry-after, replaces the computed one), or nil when
        /// waiting it would take the run past `maxElapsed`.
        public mutating func next(hint: Duration? = nil, now: ContinuousClock.Instant = .now) -> Duration? {
            let wait = hint ?? policy.delay(attempt: attempt)
            if let limit = policy.maxElapsed, now - started + wait > limit { return nil }
            attempt += 1
            return wait
        }

        public enum Outcome: Sendable, Equatable {
            case waited
            /// The next wait would pass `maxElapsed`; nothing was waited.
            case expired
            /// `stop` said so before or after the wait, or the task was cancelled.
            case stopped
        }

        /// Waits the next wait, unless the run expired or `stop` says the owner is stopping;
        /// `before` hears how long it will wait (to log it).
        public mutating func wait(hint: Duration? = nil, stop: () -> Bool = { false }, before: (Duration) -> Void = { _ in }) async -> Outcome {
            if stop() { return .stopped }
            guard let wait = next(hint: hint) else { return .expired }
            before(wait)
            do { try await Task.sleep(for: wait) } catch { return .stopped }
            return stop() ? .stopped : .waited
        }
    }
}
