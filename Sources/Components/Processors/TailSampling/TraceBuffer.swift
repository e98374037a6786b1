import Foundation
import OTLP

/// Traces waiting for a decision, and decisions kept for late spans. Bounded by `limit` traces:
/// the oldest goes first (FIFO by arrival), decided or not. Spans wait encoded (each fragment is
/// an encoded request holding only that trace's spans), several times smaller than as objects.
struct TraceBuffer {
    struct Entry {
        var arrived: ContinuousClock.Instant
        var fragments: [[UInt8]] = []
        var spanCount = 0
        var sampled: Bool?
    }

    private(set) var entries: [Data: Entry] = [:]
    private var order: [Data] = []
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

    /// A decision already made for this trace: kept with the trace, or remembered in a cache.
    func decision(_ traceID: Data) -> (sampled: Bool, fromCache: Bool)? {
        if let sampled = entries[traceID]?.sampled { return (sampled, false) }
        if sampledCache.contains(traceID) { return (true, true) }
        if notSampledCache.contains(traceID) { return (false, true) }
        return nil
    }

    /// Adds spans of an undecided trace. Returns a trace pushed out to make room, if any, with
    /// its spans when it was still undecided.
    mutating func add(_ traceID: Data, _ fragments: [[UInt8]], spans: Int, now: ContinuousClock.Instant) -> (Data, Entry)? {
        if entries[traceID] != nil {
            entries[traceID]?.fragments += fragments
            entries[traceID]?.spanCount += spans
            return nil
        }
        var evicted: (Data, Entry)?
        if entries.count >= limit, let oldest = popOldest() { evicted = oldest }
        entries[traceID] = Entry(arrived: now, fragments: fragments, spanCount: spans)
        order.append(traceID)
        return evicted
    }

    private mutating func popOldest() -> (Data, Entry)? {
        while orderHead < order.count {
            let id = order[orderHead]
            orderHead += 1
            if orderHead > 1024, orderHead * 2 > order.count {
                order.removeFirst(orderHead)
                orderHead = 0
            }
            if let entry = entries.removeValue(forKey: id) { return (id, entry) }
        }
        return nil
    }

    /// Undecided traces that arrived at or before `cutoff`, with their spans (which leave the buffer).
    mutating func takeDue(arrivedBy cutoff: ContinuousClock.Instant) -> [(Data, Entry)] {
        var due: [(Data, Entry)] = []
        for (id, entry) in entries where entry.sampled == nil && entry.arrived <= cutoff {
            due.append((id, entry))
            entries[id]?.fragments = []
        }
        return due
    }

    /// Every undecided trace (at shutdown).
    mutating func takeAll() -> [(Data, Entry)] {
        takeDue(arrivedBy: .now + .seconds(1_000_000))
    }

    /// Records a decision; with a cache for it, the trace leaves the buffer for the cache.
    mutating func decide(_ traceID: Data, sampled: Bool) {
        if remember(traceID, sampled: sampled) {
            entries[traceID] = nil
        } else {
            entries[traceID]?.sampled = sampled
            entries[traceID]?.fragments = []
        }
    }

    /// Puts a decision in its cache, if that cache is enabled.
    @discardableResult
    mutating func remember(_ traceID: Data, sampled: Bool) -> Bool {
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
    private var members: Set<Data> = []
    private var order: [Data] = []
    private var head = 0

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ id: Data) -> Bool { members.contains(id) }

    mutating func insert(_ id: Data) {
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
