import Synchronization

/// Room in a bounded queue, in the queue's sizer units. A reservation that does not fit is
/// refused at once, or, when the caller may block, waits in arrival order until enough is
/// released or the caller is cancelled (its deadline passed, the collector stops).
///
/// One reservation larger than the whole capacity is let in when the queue is empty, so a single
/// oversize request is delayed, never refused for ever.
public final class QueueCapacity: Sendable {
    public enum Refusal: Error, Equatable { case full, closed, cancelled }

    private struct Waiter {
        let id: Int
        let size: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var used = 0
        var closed = false
        var waiters: [Waiter] = []
        var nextID = 0

        func fits(_ size: Int, capacity: Int) -> Bool { used == 0 || used + size <= capacity }
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int, used: Int = 0) {
        self.capacity = capacity
        state.withLock { $0.used = used }
    }

    public var used: Int { state.withLock { $0.used } }

    /// Takes `size` units; throws `Refusal`.
    public func reserve(_ size: Int, block: Bool) async throws {
        let immediate: Result<Bool, Refusal> = state.withLock { s in
            if s.closed { return .failure(.closed) }
            if s.waiters.isEmpty, s.fits(size, capacity: capacity) { s.used += size; return .success(true) }
            return block ? .success(false) : .failure(.full)
        }
        switch immediate {
        case .failure(let refusal): throw refusal
        case .success(true): return
        case .success(false): break
        }
        let id = state.withLock { s in defer { s.nextID += 1 }; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked again under the lock: room may have been released since the first look.
                let outcome: Result<Bool, Refusal> = state.withLock { s in
                    if s.closed { return .failure(.closed) }
                    if Task.isCancelled { return .failure(.cancelled) }
                    if s.waiters.isEmpty, s.fits(size, capacity: capacity) { s.used += size; return .success(true) }
                    s.waiters.append(Waiter(id: id, size: size, continuation: continuation))
                    return .success(false)
                }
                switch outcome {
                case .failure(let refusal): continuation.resume(throwing: refusal)
                case .success(true): continuation.resume()
                case .success(false): break
                }
            }
        } onCancel: {
            let removed = state.withLock { s -> Waiter? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: index)
            }
            removed?.continuation.resume(throwing: Refusal.cancelled)
            release(0)
        }
    }

    /// Gives back `size` units and lets in the waiters that now fit, in order.
    public func release(_ size: Int) {
        let admitted: [Waiter] = state.withLock { s in
            s.used = max(0, s.used - size)
            var admitted: [Waiter] = []
            while let first = s.waiters.first, s.fits(first.size, capacity: capacity) {
                s.used += first.size
                admitted.append(s.waiters.removeFirst())
            }
            return admitted
        }
        for waiter in admitted { waiter.continuation.resume() }
    }

    /// Refuses every waiter and every later reservation.
    public func close() {
        let waiting = state.withLock { s in
            s.closed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiting { waiter.continuation.resume(throwing: Refusal.closed) }
    }
}
