import Pipeline
import Synchronization

/// One caller's wait for the exports that carry its items. Its batch may be split across
/// several exports; the caller is answered when all of them finished, with the worst outcome.
final class BatchWaiter: Sendable {
    private struct State {
        var remaining: Int
        var failure: PipelineError?
        var continuation: CheckedContinuation<Void, any Error>?
        var finished = false
    }

    private let state: Mutex<State>

    init(items: Int) { state = Mutex(State(remaining: items)) }

    /// Records that `items` of this caller's items were exported with `outcome`.
    func complete(items: Int, outcome: PipelineError?) {
        let resume = state.withLock { s -> (CheckedContinuation<Void, any Error>, PipelineError?)? in
            s.remaining -= items
            if let outcome, s.failure == nil || (s.failure?.isRetryable == true && !outcome.isRetryable) { s.failure = outcome }
            guard s.remaining <= 0, !s.finished else { return nil }
            s.finished = true
            guard let continuation = s.continuation else { return nil }
            s.continuation = nil
            return (continuation, s.failure)
        }
        if let (continuation, failure) = resume {
            if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
        }
    }

    func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let ready = state.withLock { s -> (Bool, PipelineError?) in
                if s.finished { return (true, s.failure) }
                s.continuation = continuation
                return (false, nil)
            }
            if ready.0 {
                if let failure = ready.1 { continuation.resume(throwing: failure) } else { continuation.resume() }
            }
        }
    }
}
