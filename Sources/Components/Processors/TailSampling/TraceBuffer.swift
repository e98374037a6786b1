import OTLP

/// Traces waiting for a decision, and decisions kept for late spans. Bounded by `limit` traces:
/// the oldest goes first (FIFO by arrival), decided or not. Spans wait where they lie in the
/// requests they came in (`HeldSpan`), several times smaller than as objects.
struct TraceBuffer {
    struct Entry {
        var arrived: ContinuousClock.Instant
        var spans: [HeldSpan] = []
        var sampled: Bool?
    }

    private var entries = TraceTable<Entry>()
    /// Traces by arrival, with their arrival time: an id that left and came back is found again
    /// at its new place, and its old place is told apart by the time.
    private var order: [(id: TraceID, arrived: ContinuousClock.Instant)] = []
    /// Where the oldest trace lies that may still be undecided, and the oldest of all.
    private var dueHead = 0
    private var orderHead = 0
    private let limit: Int
    private var sampledCache: DecisionCache
    private var notSampledCache: DecisionCache

    init(limit: Int, sampledCacheSize: Int, notSampledCacheSize: Int) {
        self.limit = limit
        sampledCache = DecisionCache(capacity: sampledCacheSize)
        notSampledCache = DecisionCache(capacity: notSampledCacheSize)
    }

    var count: Int { entries.count }

    /// What became of spans that arrived.
    enum Arrival {
        /// Their trace was decided: they follow the decision.
        case decided(sampled: Bool, fromCache: Bool)
        /// They wait with their trace (`new`: not held before), and this trace was pushed out to
        /// make room, if any, with its spans when it was still undecided.
        case held(new: Bool, pushedOut: (TraceID, Entry)?)
    }

    /// Spans of a trace as they arrive: held, or told the trace's decision. One look-up of the
    /// trace for a trace held already, two for a new one (most are).
    mutating func receive(_ traceID: TraceID, _ spans: [HeldSpan], now: ContinuousClock.Instant) -> Arrival {
        if let slot = entries.slot(of: traceID) {
            if let sampled = entries[slot: slot]?.sampled { return .decided(sampled: sampled, fromCache: false) }
            entries[slot: slot]?.spans += spans
            return .held(new: false, pushedOut: nil)
        }
        if let sampled = cachedDecision(traceID) { return .decided(sampled: sampled, fromCache: true) }
        return .held(new: true, pushedOut: insert(traceID, spans, now: now))
    }

    /// A decision already made for this trace: kept with the trace, or remembered in a cache.
    func decision(_ traceID: TraceID) -> (sampled: Bool, fromCache: Bool)? {
        if let sampled = entries[traceID]?.sampled { return (sampled, false) }
        return cachedDecision(traceID).map { ($0, true) }
    }

    private func cachedDecision(_ traceID: TraceID) -> Bool? {
        if sampledCache.contains(traceID) { return true }
        if notSampledCache.contains(traceID) { return false }
        return nil
    }

    /// Adds spans of an undecided trace. Returns a trace pushed out to make room, if any, with
    /// its spans when it was still undecided.
    mutating func add(_ traceID: TraceID, _ spans: [HeldSpan], now: ContinuousClock.Instant) -> (TraceID, Entry)? {
        if let slot = entries.slot(of: traceID) {
            entries[slot: slot]?.spans += spans
            return nil
        }
        return insert(traceID, spans, now: now)
    }

    private mutating func insert(_ traceID: TraceID, _ spans: [HeldSpan], now: ContinuousClock.Instant) -> (TraceID, Entry)? {
        var evicted: (TraceID, Entry)?
        if entries.count >= limit, let oldest = popOldest() { evicted = oldest }
        entries.set(traceID, Entry(arrived: now, spans: spans))
        order.append((traceID, now))
        return evicted
    }

    private mutating func popOldest() -> (TraceID, Entry)? {
        while orderHead < order.count {
            let (id, arrived) = order[orderHead]
            orderHead += 1
            dueHead = max(dueHead, orderHead)
            compact()
            if let slot = entries.slot(of: id), entries[slot: slot]?.arrived == arrived, let entry = entries.remove(at: slot) {
                return (id, entry)
            }
        }
        return nil
    }

    /// Drops the places before both heads once they are most of `order`.
    private mutating func compact() {
        let head = min(orderHead, dueHead)
        guard head > 1024, head * 2 > order.count else { return }
        order.removeFirst(head)
        orderHead -= head
        dueHead -= head
    }

    /// Undecided traces that arrived at or before `cutoff`, with their spans (which leave the buffer).
    mutating func takeDue(arrivedBy cutoff: ContinuousClock.Instant) -> [(TraceID, Entry)] {
        var due: [(TraceID, Entry)] = []
        while dueHead < order.count, order[dueHead].arrived <= cutoff {
            let (id, arrived) = order[dueHead]
            dueHead += 1
            guard let slot = entries.slot(of: id), let entry = entries[slot: slot], entry.arrived == arrived,
                  entry.sampled == nil else { continue }
            due.append((id, entry))
            entries[slot: slot]?.spans = []
        }
        compact()
        return due
    }

    /// Every undecided trace (at shutdown).
    mutating func takeAll() -> [(TraceID, Entry)] {
        takeDue(arrivedBy: .now + .seconds(1_000_000))
    }

    /// Records a decision; with a cache for it, the trace leaves the buffer for the cache.
    mutating func decide(_ traceID: TraceID, sampled: Bool) {
        if remember(traceID, sampled: sampled) {
            entries.removeValue(forKey: traceID)
        } else if let slot = entries.slot(of: traceID) {
            entries[slot: slot]?.sampled = sampled
            entries[slot: slot]?.spans = []
        }
    }

    /// Puts a decision in its cache, if that cache is enabled.
    @discardableResult
    mutating func remember(_ traceID: TraceID, sampled: Bool) -> Bool {
        if sampled, sampledCache.capacity > 0 {
            sampledCache.insert(traceID)
            return true
        }
        if !sampled, notSampledCache.capacity > 0 {
            notSampledCache.insert(traceID)
            return true
        }
        return false
    }
}

/// Trace ids with a decision, the oldest forgotten first once `capacity` is reached.
struct DecisionCache {
    let capacity: Int
    private var members: Set<TraceID> = []
    private var order: [TraceID] = []
    private var head = 0

    init(capacity: Int) { self.capacity = capacity }

    // Disabled caches (the default) are empty: no id is hashed for them.
    func contains(_ id: TraceID) -> Bool { !members.isEmpty && members.contains(id) }

    mutating func insert(_ id: TraceID) {
        guard capacity > 0, members.insert(id).inserted else { return }
        order.append(id)
        while members.count > capacity, head < order.count {
            members.remove(order[head])
            head += 1
        }
        if head > 1024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
