import OTLP

/// Item statements applied while an encoded span or log record is copied, in one walk over its
/// attribute entries: no attribute list is built and nothing is written twice. Taken when every
/// statement is one of `set(attributes["k"], constant)`, `delete_key(attributes, "k")`,
/// `replace_pattern(attributes["k"], …)` with literals and `truncate_all(attributes, n)`, its
/// `where` reads nothing of the item's attributes, and no group has conditions of its own.
///
/// Why the walk gives what running the statements on a `WireAttributeList` gives: a statement
/// on key k touches the first entry with k (set, replace_pattern) or every one (delete_key);
/// deletes take every entry of their key, so while an entry lives every earlier entry of its key
/// lives too, and "the first entry with k" is the first received one for as long as it lives.
/// Each received entry therefore goes through the statements on its own, in order. Entries that
/// `set` adds go after the received ones, in the order they were added, and go through the
/// statements after the one that added them; that part is played after the walk, knowing which
/// keys the walk met. Conditions read only the item's other fields, its scope and its resource,
/// which no statement changes: each is tested once per item, before the walk.
public struct WireStreamedEdits: Sendable {
    // Ops hold plain numbers, so that running every op on every entry copies no reference:
    // keys by index into `keys`, constant values as ranges of `values`, patterns by index.
    enum Op: Sendable {
        case set(key: Int, value: Range<Int>)
        case delete(key: Int)
        case replacePattern(key: Int, pattern: Int)
        case truncateAll(Int)

        /// The key the op touches; nil for one that touches every entry.
        var key: Int? {
            switch self {
            case .set(let key, _): key
            case .delete(let key): key
            case .replacePattern(let key, _): key
            case .truncateAll: nil
            }
        }
    }

    /// What reports a failed condition of an op: its statement and its group's error mode.
    struct Gate: Sendable {
        let text: String
        let errorMode: OTTLErrorMode
    }

    let ops: [Op]
    let gates: [Gate]
    /// The ops' conditions, each with the op it gates, and the ops without one (bit n for op n).
    let conditions: WireConditionTape
    let conditionOps: [Int]
    let unconditional: UInt64
    let values: [UInt8]
    let patterns: [(regex: GoRegex, template: GoRegex.Template)]
    /// The keys the statements name, each once; an op refers to one by index.
    let keys: [[UInt8]]
    /// The ops that can touch an entry of each key (`keys.count`: of no key named), in order:
    /// `opsFor[opsForKey[k]]`. An entry is offered only those instead of every op.
    let opsFor: [Int]
    let opsForKey: [Range<Int>]
    /// Whether a statement has a condition: the items must then be indexed.
    public let readsLevels: Bool
    /// The items' repeated KeyValue field (their attributes).
    public let field: Int

    /// nil when a group or statement does not fit (see the type's comment).
    public init?<Fields>(_ groups: [OTTLGroup<WireItemEditContext<Fields>>]) {
        var ops: [Op] = [], gates: [Gate] = [], values: [UInt8] = []
        var conditions: [WireCondition] = [], conditionOps: [Int] = [], unconditional: UInt64 = 0
        var patterns: [(regex: GoRegex, template: GoRegex.Template)] = []
        var keys: [[UInt8]] = []
        func key(_ bytes: [UInt8]) -> Int {
            if let index = keys.firstIndex(of: bytes) { return index }
            keys.append(bytes)
            return keys.count - 1
        }
        for group in groups {
            guard group.program.conditions.isEmpty else { return nil }
            for statement in group.program.statements {
                guard let edit = WireAttributeEdit(statement, context: Fields.name) else { return nil }
                let condition = statement.condition.map { WireCondition($0) { WireRead.resolve($0, context: Fields.name, itemAttributes: false) } }
                if let condition, condition.mayEvaluateGeneral { return nil }
                switch edit {
                case .set(let entry):
                    let at = values.count
                    values.append(contentsOf: entry.encodedValue)
                    ops.append(.set(key: key(entry.keyUTF8), value: at..<values.count))
                case .map(.deleteKey(let name)): ops.append(.delete(key: key(Array(name.utf8))))
                case .map(.truncateAll(let limit)): ops.append(.truncateAll(limit))
                case .map: return nil
                case .replacePattern(let name, let regex, let template):
                    ops.append(.replacePattern(key: key(name), pattern: patterns.count))
                    patterns.append((regex, template))
                }
                if let condition {
                    conditions.append(condition)
                    conditionOps.append(gates.count)
                } else {
                    unconditional |= 1 << UInt64(gates.count)
                }
                gates.append(Gate(text: statement.text, errorMode: group.errorMode))
            }
        }
        // Which keys the walk met, and which ops run on an item, are kept in one word each.
        guard !ops.isEmpty, keys.count <= 64, ops.count <= 64 else { return nil }
        self.ops = ops
        self.gates = gates
        self.values = values
        self.patterns = patterns
        self.keys = keys
        var opsFor: [Int] = [], opsForKey: [Range<Int>] = []
        for key in 0...keys.count {
            let start = opsFor.count
            for (index, op) in ops.enumerated() where op.key.map({ $0 == key }) ?? true { opsFor.append(index) }
            opsForKey.append(start..<opsFor.count)
        }
        self.opsFor = opsFor
        self.opsForKey = opsForKey
        guard let tape = WireConditionTape(conditions) else { return nil }
        self.conditions = tape
        self.conditionOps = conditionOps
        self.unconditional = unconditional
        readsLevels = !conditions.isEmpty
        field = Fields.attributesField
    }

    /// Storage one rewrite keeps from one item to the next.
    public struct Scratch {
        var value: [UInt8] = []
        var replaced: [UInt8] = []
        var added = WireWriter()
        var addedValues: [UInt8] = []
        var addedEntries: [(key: Int, value: Range<Int>, alive: Bool)] = []
        /// The entries added for the last few (keys met, ops active): what `set` adds depends on
        /// nothing else, and most items of a request share one of a few.
        var addedFor: [(met: UInt64, active: UInt64, bytes: [UInt8])] = []
        public init() {}
    }

    /// The item with the statements applied to its attributes, written into `bodies`. `levels`
    /// are read only by conditions. A condition that fails to evaluate is handled as its group's
    /// error mode says (`report`, or thrown). An item that does not parse is kept as it is.
    public func apply(_ item: WireFields, scope: WireFields, resource: WireFields,
                      into bodies: inout WireWriter, scratch: inout Scratch,
                      report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) -> WireItemDecision {
        var state = try begin(item, scope: scope, resource: resource, scratch: &scratch, report: report)
        let walked = WireEntryWalk.copy(item.buffer, item.range, field: field, into: &bodies, value: &scratch.value) { key, value, newValue in
            edit(key, value, &newValue, &state)
        }
        end(state, &scratch)
        guard let walked else { return .keep }
        return WireEntryWalk.finish(walked, adding: added(state, &scratch), into: &bodies)
    }

    // MARK: One item in steps, for a walk that runs more edits on each entry after these

    /// What the statements know of one item while its entries are walked.
    public struct ItemState {
        /// Bit n: op n runs on this item.
        let active: UInt64
        /// Bit n: an entry of key n was met.
        var met: UInt64 = 0
        /// Spare storage a rewritten value is written into, lent by the scratch.
        var replaced: [UInt8]
    }

    /// The item's state before its first entry: which statements run on it (their conditions
    /// tested, failures handled as `apply` says).
    public func begin(_ item: WireFields, scope: WireFields, resource: WireFields, scratch: inout Scratch,
                      report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) -> ItemState {
        let active = try activate(item, scope, resource, report)
        var replaced: [UInt8] = []
        swap(&replaced, &scratch.replaced)
        return ItemState(active: active, replaced: replaced)
    }

    /// The statements on one received entry, in walk order; a changed value is left in `newValue`
    /// (`.replace`).
    public func edit(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ newValue: inout [UInt8],
                     _ state: inout ItemState) -> WireEntryWalk.Decision {
        let keyIndex = self.keyIndex(key)
        var first = false
        if let keyIndex {
            first = state.met & (1 << UInt64(keyIndex)) == 0
            state.met |= 1 << UInt64(keyIndex)
        }
        return edit(entryWith: keyIndex, first: first, value, &newValue, &state)
    }

    /// Gives the item's storage back to the scratch once its walk is over.
    public func end(_ state: ItemState, _ scratch: inout Scratch) {
        scratch.replaced = state.replaced
    }

    /// The entries the statements add after the received ones (whole encoded entries, maybe none).
    public func added(_ state: ItemState, _ scratch: inout Scratch) -> [UInt8] {
        if let known = scratch.addedFor.firstIndex(where: { $0.met == state.met && $0.active == state.active }) {
            return scratch.addedFor[known].bytes
        }
        addEntries(met: state.met, active: state.active, &scratch)
        if scratch.addedFor.count == 8 { scratch.addedFor.removeFirst() }
        scratch.addedFor.append((state.met, state.active, scratch.added.bytes))
        return scratch.added.bytes
    }

    /// Which statements run on this item (bit n for op n): those without a condition and those
    /// whose condition holds.
    private func activate(_ item: WireFields, _ scope: WireFields, _ resource: WireFields,
                          _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) -> UInt64 {
        var active = unconditional
        for at in 0..<conditions.count {
            let index = conditionOps[at]
            do {
                if try conditions.holds(at, item, scope, resource) { active |= 1 << UInt64(index) }
            } catch {
                try gates[index].errorMode.handle(OTTLRuntimeError("\(gates[index].text): \(error.message)"), report)
            }
        }
        return active
    }

    /// The statements on one received entry; a changed value is left in `value`.
    private func edit(entryWith keyIndex: Int?, first: Bool, _ received: UnsafeRawBufferPointer, _ value: inout [UInt8],
                      _ state: inout ItemState) -> WireEntryWalk.Decision {
        var changed = false
        for at in opsForKey[keyIndex ?? keys.count] where state.active & (1 << UInt64(opsFor[at])) != 0 {
            switch ops[opsFor[at]] {
            case .set(let key, let constant):
                guard key == keyIndex, first else { continue }
                value.removeAll(keepingCapacity: true)
                value.append(contentsOf: values[constant])
                changed = true
            case .delete(let key):
                if key == keyIndex { return .drop }
            case .replacePattern(let key, let pattern):
                guard key == keyIndex, first else { continue }
                let (regex, template) = patterns[pattern]
                if changed {
                    _ = Self.replace(&value, regex, template, &state.replaced)
                } else if Self.replace(received, regex, template, into: &value) {
                    changed = true
                }
            case .truncateAll(let limit):
                if changed {
                    if let cut = value.withUnsafeBytes({ Self.cut($0, limit) }) { value = cut }
                } else if let cut = Self.cut(received, limit) {
                    value = cut
                    changed = true
                }
            }
        }
        return changed ? .replace : .keep
    }

    /// The entries `set` adds, written into `scratch.added`.
    private func addEntries(met: UInt64, active: UInt64, _ scratch: inout Scratch) {
        scratch.added.bytes.removeAll(keepingCapacity: true)
        scratch.addedValues.removeAll(keepingCapacity: true)
        scratch.addedEntries.removeAll(keepingCapacity: true)
        // Keys whose received entries still live; an added entry of such a key is never the first.
        var received = met
        for index in ops.indices where active & (1 << UInt64(index)) != 0 {
            switch ops[index] {
            case .set(let key, let value):
                guard received & (1 << UInt64(key)) == 0 else { continue }
                let at = scratch.addedValues.count
                scratch.addedValues.append(contentsOf: values[value])
                let stored = at..<scratch.addedValues.count
                if let existing = scratch.addedEntries.firstIndex(where: { $0.key == key && $0.alive }) {
                    scratch.addedEntries[existing].value = stored
                } else {
                    scratch.addedEntries.append((key, stored, true))
                }
            case .delete(let key):
                received &= ~(1 << UInt64(key))
                for entry in scratch.addedEntries.indices where scratch.addedEntries[entry].key == key {
                    scratch.addedEntries[entry].alive = false
                }
            case .replacePattern(let key, let pattern):
                guard received & (1 << UInt64(key)) == 0,
                      let entry = scratch.addedEntries.firstIndex(where: { $0.key == key && $0.alive }) else { continue }
                var value = Array(scratch.addedValues[scratch.addedEntries[entry].value])
                if Self.replace(&value, patterns[pattern].regex, patterns[pattern].template, &scratch.replaced) {
                    scratch.addedEntries[entry].value = Self.store(value, in: &scratch.addedValues)
                }
            case .truncateAll(let limit):
                for entry in scratch.addedEntries.indices where scratch.addedEntries[entry].alive {
                    let cut = scratch.addedValues.withUnsafeBytes {
                        Self.cut(UnsafeRawBufferPointer(rebasing: $0[scratch.addedEntries[entry].value]), limit)
                    }
                    if let cut { scratch.addedEntries[entry].value = Self.store(cut, in: &scratch.addedValues) }
                }
            }
        }
        for entry in scratch.addedEntries where entry.alive {
            keys[entry.key].withUnsafeBytes { key in
                scratch.addedValues.withUnsafeBytes { values in
                    scratch.added.keyValue(field: field, key: key, value: UnsafeRawBufferPointer(rebasing: values[entry.value]))
                }
            }
        }
    }

    private static func store(_ value: [UInt8], in values: inout [UInt8]) -> Range<Int> {
        let at = values.count
        values.append(contentsOf: value)
        return at..<values.count
    }

    private func keyIndex(_ key: UnsafeRawBufferPointer) -> Int? {
        for index in keys.indices where keys[index].count == key.count {
            if keys[index].withUnsafeBytes({ $0.sameBytes(as: key) }) { return index }
        }
        return nil
    }

    // MARK: The editors on one value, as `WireAttributeEdit` and `OTTLMapEdit` run them on a list

    /// `replace_pattern` on an AnyValue's encoding: the new encoding into `out` (emptied first),
    /// or false when the value is no string or stays as it is.
    private static func replace(_ value: UnsafeRawBufferPointer, _ regex: GoRegex, _ template: GoRegex.Template,
                                into out: inout [UInt8]) -> Bool {
        guard let old = WireAttributeList.stringMember(value) else { return false }
        // The text goes straight into `out`'s storage, which the caller keeps from one value to
        // the next, behind a one-byte length that a longer text widens afterwards.
        out.removeAll(keepingCapacity: true)
        out.append(1 << 3 | 2)
        out.append(0)
        guard WireAttributeEdit.replacePattern(old, regex, template, into: &out) else { return false }
        let length = out.count - 2
        if length < 0x80 {
            out[1] = UInt8(length)
        } else {
            var header = WireWriter()
            header.varint(UInt64(length))
            out.replaceSubrange(1..<2, with: header.bytes)
        }
        return true
    }

    /// `replace` of a value held in `value`, using `spare` as the output and swapping them.
    private static func replace(_ value: inout [UInt8], _ regex: GoRegex, _ template: GoRegex.Template, _ spare: inout [UInt8]) -> Bool {
        let done = value.withUnsafeBytes { replace($0, regex, template, into: &spare) }
        if done { swap(&value, &spare) }
        return done
    }

    /// `truncate_all`'s cut of a string longer than `limit` Unicode scalars (an AnyValue's
    /// encoding); nil when the value is no string or not that long. A string of at most `limit`
    /// bytes is not read.
    private static func cut(_ value: UnsafeRawBufferPointer, _ limit: Int) -> [UInt8]? {
        guard let bytes = WireAttributeList.stringMember(value), bytes.count > limit,
              let cut = OTTLMapEdit.truncated(String(decoding: bytes, as: UTF8.self), to: limit) else { return nil }
        return AnyValue.encoded(string: cut)
    }
}
