/// Why data could not be taken, in the terms every caller needs: can a retry help?
///
/// Receivers turn `retryable` into gRPC UNAVAILABLE / HTTP 503 with Retry-After and
/// `permanent` into INVALID_ARGUMENT / 400; the Kafka receiver retries the former and
/// dead-letters the latter.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case retryable, permanent }

    public var kind: Kind
    public var message: String
    /// A hint for the client of how long to wait before retrying.
    public var retryAfter: Duration?

    public init(_ kind: Kind, _ message: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfter = retryAfter
    }

    public static func retryable(_ message: String, retryAfter: Duration? = nil) -> PipelineError {
        .init(.retryable, message, retryAfter: retryAfter)
    }

    public static func permanent(_ message: String) -> PipelineError { .init(.permanent, message) }

    public var isRetryable: Bool { kind == .retryable }
    public var description: String { message }

    /// Any error as a pipeline error; errors that do not say otherwise are treated as transient,
    /// so data is retried rather than lost.
    public init(classifying error: any Error) {
        if let pipeline = error as? PipelineError {
            self = pipeline
        } else if error is CancellationError {
            self = .retryable("the collector is shutting down")
        } else {
            self = .retryable("\(error)")
        }
    }
}
