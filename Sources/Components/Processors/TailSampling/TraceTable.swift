/// Values by trace id, in one array of slots probed linearly: an id, its value and the slot's
/// occupancy share a slot, so a look-up in a table of many thousand traces costs one cache miss,
/// and an id is hashed by one seeded multiplication instead of SipHash (a profile of the
/// processor put a fifth of it in `Dictionary`'s hashing and probing).
///
/// The seed is drawn once per process: ids are chosen by whoever sends spans, and ids made to
/// share a slot would have to be made knowing it. (Drawn per table, it cost two `getrandom` calls
/// for every request held.) Removal shifts later slots of the run back, so no tombstones
/// accumulate.
struct TraceTable<Value> {
    private struct Slot {
        var id = TraceID()
        // Tested instead of `value`: a test of a generic optional copies the value out.
        var used = false
        var value: Value?
    }

    private var slots: [Slot]
    private var mask: Int
    private let seed: (UInt64, UInt64)
    private(set) var count = 0

    init(seed: (UInt64, UInt64) = TraceTableSeed.process) {
        self.seed = seed
        // No storage until the first id, as a dictionary: most requests need no table of their ids.
        slots = []
        mask = 0
    }

    private func home(_ id: TraceID) -> Int {
        let product = (id.high ^ seed.0).multipliedFullWidth(by: id.low ^ seed.1)
        return Int(truncatingIfNeeded: product.high ^ product.low) & mask
    }

    /// The slot holding `id`, if any.
    func slot(of id: TraceID) -> Int? {
        guard count > 0 else { return nil }
        var slot = home(id)
        while slots[slot].used {
            if slots[slot].id == id { return slot }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// The value in an occupied slot (nil for a free one), changed in place.
    subscript(slot slot: Int) -> Value? {
        _read { yield slots[slot].value }
        _modify { yield &slots[slot].value }
    }

    subscript(id: TraceID) -> Value? {
        slot(of: id).flatMap { slots[$0].value }
    }

    /// Sets the value of `id`, added when it is not in the table.
    mutating func set(_ id: TraceID, _ value: Value) {
        if let slot = slot(of: id) {
            slots[slot].value = value
            return
        }
        // At most five slots in eight taken, so that a miss ends within a few slots.
        if (count + 1) * 8 > slots.count * 5 { grow() }
        place(id, value)
        count += 1
    }

    /// Puts an id not in the table into the first free slot from its home.
    private mutating func place(_ id: TraceID, _ value: consuming Value) {
        place(Slot(id: id, used: true, value: value))
    }

    private mutating func place(_ slot: consuming Slot) {
        var index = home(slot.id)
        while slots[index].used { index = (index + 1) & mask }
        slots[index] = slot
    }

    @discardableResult
    mutating func removeValue(forKey id: TraceID) -> Value? {
        slot(of: id).flatMap { remove(at: $0) }
    }

    /// Empties an occupied slot; the slots of other ids may move.
    mutating func remove(at slot: Int) -> Value? {
        var free = slot
        let removed = slots[free].value
        slots[free] = Slot()
        count -= 1
        // Each later slot of the run moves into the free one unless its home lies cyclically
        // after the free slot and at or before the slot itself.
        var next = (free + 1) & mask
        while slots[next].used {
            let home = home(slots[next].id)
            let stays = free <= next ? (free < home && home <= next) : (free < home || home <= next)
            if !stays {
                slots.swapAt(free, next)
                free = next
            }
            next = (next + 1) & mask
        }
        return removed
    }

    private mutating func grow() {
        var old: [Slot] = []
        swap(&old, &slots)
        let capacity = max(16, old.count * 2)
        slots = [Slot](unsafeUninitializedCapacity: capacity) { free, initialized in
            for index in free.indices { free.initializeElement(at: index, to: Slot()) }
            initialized = capacity
        }
        mask = capacity - 1
        // Slots are moved, not copied: a copy would retain and release each value.
        old.withUnsafeMutableBufferPointer { old in
            for index in old.indices where old[index].used {
                place(old.moveElement(from: index))
                old.initializeElement(at: index, to: Slot())
            }
        }
    }
}

/// The seed of every `TraceTable` of the process.
private enum TraceTableSeed {
    static let process = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))
}
