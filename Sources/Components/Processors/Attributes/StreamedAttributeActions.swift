import OTLP

/// Attribute actions applied while an encoded span or log record is copied, in one walk over its
/// fields: no index of the item, no list of its attributes. Taken when every action is keyed by
/// its own key and needs nothing but the entry it meets — insert, update and upsert of a
/// constant, delete and hash without a pattern — so that each entry is touched by at most one
/// action and the order of actions cannot matter except for what is added, which goes last in
/// action order. That is what `AttributeActions.apply` does with such actions on a
/// `WireAttributeList`; an entry this walk cannot change by itself (a hash of a value that is no
/// string) sends the item to that path.
///
/// The walk and the writing are `WireEntryWalk`'s.
struct StreamedAttributeActions: Sendable {
    enum Kind: Sendable {
        case insert, update, upsert, delete, hash

        /// Whether the action adds an entry for a key the item lacks.
        var adds: Bool { self == .insert || self == .upsert }
    }

    struct Action: Sendable {
        let key: [UInt8]
        let kind: Kind
        /// The AnyValue's encoding that insert, update and upsert write.
        let value: [UInt8]
    }

    let actions: [Action]
    /// The actions' kinds apart, read for each entry met without copying its action.
    let kinds: [Kind]
    /// The lengths of the actions' keys, as bit `min(length, 63)`: most entries are passed over
    /// on their key's length alone.
    private let keyLengths: UInt64
    /// The actions that add an entry for a key the item lacks (insert, upsert), as bits.
    private let adding: UInt64
    /// What those add to a span (field 9) and to a log record (field 6) that had none of their
    /// keys, the usual case, written once: an item then takes them in one copy.
    private let addedToSpan: [UInt8], addedToLogRecord: [UInt8]

    /// nil when an action does not qualify, or two actions share a key.
    init?(_ configured: AttributeActions) {
        var actions: [Action] = []
        for action in configured.actions {
            guard action.pattern == nil, action.keyUTF8.count > 0,
                  !actions.contains(where: { $0.key == action.keyUTF8 }) else { return nil }
            switch action.kind {
            case .insert(.value(let entry)): actions.append(Action(key: action.keyUTF8, kind: .insert, value: entry.encodedValue))
            case .update(.value(let entry)): actions.append(Action(key: action.keyUTF8, kind: .update, value: entry.encodedValue))
            case .upsert(.value(let entry)): actions.append(Action(key: action.keyUTF8, kind: .upsert, value: entry.encodedValue))
            case .delete: actions.append(Action(key: action.keyUTF8, kind: .delete, value: []))
            case .hash: actions.append(Action(key: action.keyUTF8, kind: .hash, value: []))
            default: return nil
            }
        }
        // Which actions met their key is kept in one word.
        guard actions.count <= 64 else { return nil }
        self.actions = actions
        kinds = actions.map(\.kind)
        keyLengths = actions.reduce(0) { $0 | 1 << UInt64(min($1.key.count, 63)) }
        adding = actions.indices.reduce(0) { actions[$1].kind.adds ? $0 | 1 << UInt64($1) : $0 }
        var span = WireWriter(), logRecord = WireWriter()
        for action in actions where action.kind.adds {
            action.key.withUnsafeBytes { key in
                action.value.withUnsafeBytes {
                    span.keyValue(field: 9, key: key, value: $0)
                    logRecord.keyValue(field: 6, key: key, value: $0)
                }
            }
        }
        addedToSpan = span.bytes
        addedToLogRecord = logRecord.bytes
    }

    /// The item in `range` with the actions applied to its repeated KeyValue `field`, written
    /// into `bodies`, or nil (nothing left in `bodies`) when an entry needs the attribute list.
    /// `scratch` is storage kept from one item to the next.
    func apply(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, field: Int,
               into bodies: inout WireWriter, scratch: inout Scratch) -> WireItemDecision? {
        var met: UInt64 = 0
        let walked = WireEntryWalk.copy(buffer, range, field: field, into: &bodies, value: &scratch.value) { key, value, newValue in
            decide(key, value, &newValue, &met)
        }
        guard let walked else { return nil }
        if met & adding == 0, let every = addedToEvery(field) { return WireEntryWalk.finish(walked, adding: every, into: &bodies) }
        scratch.added.bytes.removeAll(keepingCapacity: true)
        add(met: met, field: field, into: &scratch.added)
        return WireEntryWalk.finish(walked, adding: scratch.added.bytes, into: &bodies)
    }

    private func addedToEvery(_ field: Int) -> [UInt8]? {
        switch field {
        case 9: addedToSpan
        case 6: addedToLogRecord
        default: nil
        }
    }

    struct Scratch {
        var value: [UInt8] = []
        var added = WireWriter()
    }

    /// The actions on one entry as the walk meets it (its value as edits before these left it);
    /// `met` keeps which actions met their key. A replacement is left in `newValue`.
    @inline(__always)
    func decide(_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ newValue: inout [UInt8],
                _ met: inout UInt64) -> WireEntryWalk.Decision {
        guard let index = actionIndex(key) else { return .keep }
        let first = met & (1 << UInt64(index)) == 0
        met |= 1 << UInt64(index)
        switch kinds[index] {
        case .insert:
            return .keep
        case .update, .upsert:
            // Only the first entry of a key is set, as a lookup finds it.
            guard first else { return .keep }
            newValue.removeAll(keepingCapacity: true)
            newValue.append(contentsOf: actions[index].value)
            return .replace
        case .delete:
            return .drop
        case .hash:
            guard let text = WireAttributeList.stringMember(value) else { return .abandon }
            Self.writeHashed(text, into: &newValue)
            return .replace
        }
    }

    /// The entries insert and upsert add for the keys no entry had, in action order.
    func add(met: UInt64, field: Int, into added: inout WireWriter) {
        if met & adding == 0, let every = addedToEvery(field) { return added.bytes.append(contentsOf: every) }
        for index in kinds.indices where (adding & ~met) & (1 << UInt64(index)) != 0 {
            actions[index].key.withUnsafeBytes { key in
                actions[index].value.withUnsafeBytes { added.keyValue(field: field, key: key, value: $0) }
            }
        }
    }

    /// `entries` (whole encoded entries of `field` that an earlier edit added after the received
    /// ones) with the actions applied, appended to `out`; false when one needs the attribute
    /// list. `value` is storage for a replacement. (Its own loop rather than `WireEntryWalk`'s:
    /// there is nothing around the entries to copy, and the walk's run bookkeeping measured
    /// slower here.)
    func decide(added entries: [UInt8], field: Int, met: inout UInt64, into out: inout WireWriter, value: inout [UInt8]) -> Bool {
        entries.withUnsafeBytes { buffer in
            var reader = WireReader(buffer, range: 0..<buffer.count)
            while let (start, entry) = try? reader.next(lengthDelimited: field) {
                let (keyRange, valueRange) = WireFields.keyValue(buffer, entry)
                let absent = entry.upperBound..<entry.upperBound
                let key = UnsafeRawBufferPointer(rebasing: buffer[keyRange ?? absent])
                switch decide(key, UnsafeRawBufferPointer(rebasing: buffer[valueRange ?? absent]), &value, &met) {
                case .keep: out.bytes.append(bytesOf: buffer[start..<reader.offset])
                case .drop: break
                case .replace: value.withUnsafeBytes { out.keyValue(field: field, key: key, value: $0) }
                case .abandon: return false
                }
            }
            return true
        }
    }

    private func actionIndex(_ key: UnsafeRawBufferPointer) -> Int? {
        guard keyLengths & 1 << UInt64(min(key.count, 63)) != 0 else { return nil }
        for index in actions.indices where actions[index].key.count == key.count {
            if actions[index].key.withUnsafeBytes({ $0.sameBytes(as: key) }) { return index }
        }
        return nil
    }

    /// A string value's replacement by the lowercase hex of its SHA-256, encoded as the list
    /// encodes a string it rewrote.
    private static func writeHashed(_ text: UnsafeRawBufferPointer, into value: inout [UInt8]) {
        // Always 66 bytes: written in place, the buffer resized only when it held something else
        // (emptying and appending cost more than the writes).
        if value.count != 66 {
            value.removeAll(keepingCapacity: true)
            value.append(contentsOf: repeatElement(0, count: 66))
        }
        value.withUnsafeMutableBytes { out in
            out[0] = 1 << 3 | 2
            out[1] = 64
            AttributeActions.writeHash(of: text, into: UnsafeMutableRawBufferPointer(rebasing: out[2...]))
        }
    }
}
