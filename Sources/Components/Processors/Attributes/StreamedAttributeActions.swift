import OTLP

/// Attribute actions applied while an encoded span or log record is copied, in one walk over its
/// fields: no index of the item, no list of its attributes. Taken when every action is keyed by
/// its own key and needs nothing but the entry it meets — insert, update and upsert of a
/// constant, delete and hash without a pattern — so that each entry is touched by at most one
/// action and the order of actions cannot matter except for what is added, which goes last in
/// action order. That is what `AttributeActions.apply` does with such actions on a
/// `WireAttributeList`; an entry this walk cannot change by itself (a hash of a value that is no
/// string) sends the item to that path (`needsList`).
///
/// The item's other fields and unchanged entries are copied as they lie; added entries are
/// written after the last entry there was (at the end without one), as the list writes them.
struct StreamedAttributeActions: Sendable {
    enum Kind: Sendable {
        case insert, update, upsert, delete, hash
    }

    struct Action: Sendable {
        let key: [UInt8]
        let kind: Kind
        /// The AnyValue's encoding that insert, update and upsert write.
        let value: [UInt8]
    }

    enum Outcome {
        case keep
        case written(Range<Int>)
        case needsList
    }

    let actions: [Action]
    /// The actions' kinds apart, read for each entry met without copying its action.
    let kinds: [Kind]

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
    }

    /// The item in `range` with the actions applied to its repeated KeyValue `field`, written
    /// into `bodies` (`.written`), or `.keep` with nothing left in `bodies` when nothing changed.
    /// `added` is scratch storage kept from one item to the next.
    func apply(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, field: Int,
               into bodies: inout WireWriter, added: inout WireWriter) -> Outcome {
        let start = bodies.bytes.count
        let tag = UInt64(field) << 3 | 2
        var run = range.lowerBound
        var changed = false
        var met: UInt64 = 0
        // Where added entries go in the output: after the last entry passed.
        var addAt: Int?
        var reader = WireReader(buffer, range: range)
        while !reader.isAtEnd {
            let fieldStart = reader.offset
            guard let fieldKey = try? reader.varint() else { return abandon(&bodies, start) }
            guard fieldKey == tag else {
                guard let wireType = WireType(rawValue: UInt8(fieldKey & 7)), (try? reader.skip(wireType)) != nil else {
                    return abandon(&bodies, start)
                }
                continue
            }
            guard let entry = try? reader.lengthDelimited() else { return abandon(&bodies, start) }
            let (keyRange, valueRange) = WireFields.keyValue(buffer, entry)
            let key = UnsafeRawBufferPointer(rebasing: buffer[keyRange ?? entry.upperBound..<entry.upperBound])
            if let index = actionIndex(key) {
                let first = met & (1 << UInt64(index)) == 0
                met |= 1 << UInt64(index)
                switch kinds[index] {
                case .insert:
                    break
                case .update, .upsert:
                    // Only the first entry of a key is set, as a lookup finds it.
                    guard first else { break }
                    bodies.bytes.append(bytesOf: buffer[run..<fieldStart])
                    actions[index].value.withUnsafeBytes { bodies.keyValue(field: field, key: key, value: $0) }
                    run = reader.offset
                    changed = true
                case .delete:
                    bodies.bytes.append(bytesOf: buffer[run..<fieldStart])
                    run = reader.offset
                    changed = true
                case .hash:
                    let value = UnsafeRawBufferPointer(rebasing: buffer[valueRange ?? entry.upperBound..<entry.upperBound])
                    guard let text = WireAttributeList.stringMember(value) else { return abandon(&bodies, start) }
                    bodies.bytes.append(bytesOf: buffer[run..<fieldStart])
                    Self.writeHashed(text, key: key, field: field, into: &bodies)
                    run = reader.offset
                    changed = true
                }
            }
            addAt = bodies.bytes.count + (reader.offset - run)
        }
        bodies.bytes.append(bytesOf: buffer[run..<range.upperBound])
        added.bytes.removeAll(keepingCapacity: true)
        for index in kinds.indices where met & (1 << UInt64(index)) == 0 && (kinds[index] == .insert || kinds[index] == .upsert) {
            let action = actions[index]
            action.key.withUnsafeBytes { key in action.value.withUnsafeBytes { added.keyValue(field: field, key: key, value: $0) } }
        }
        if !added.bytes.isEmpty {
            bodies.bytes.insert(contentsOf: added.bytes, at: addAt ?? bodies.bytes.count)
            changed = true
        }
        guard changed else {
            bodies.bytes.removeSubrange(start...)
            return .keep
        }
        return .written(start..<bodies.bytes.count)
    }

    private func actionIndex(_ key: UnsafeRawBufferPointer) -> Int? {
        for index in actions.indices where actions[index].key.count == key.count {
            if actions[index].key.withUnsafeBytes({ $0.sameBytes(as: key) }) { return index }
        }
        return nil
    }

    private func abandon(_ bodies: inout WireWriter, _ start: Int) -> Outcome {
        bodies.bytes.removeSubrange(start...)
        return .needsList
    }

    /// The entry with its string value replaced by the lowercase hex of its SHA-256, encoded as
    /// the list encodes a string it rewrote.
    private static func writeHashed(_ text: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, field: Int, into out: inout WireWriter) {
        withUnsafeTemporaryAllocation(byteCount: 66, alignment: 1) { value in
            value[0] = 1 << 3 | 2
            value[1] = 64
            AttributeActions.writeHash(of: text, into: UnsafeMutableRawBufferPointer(rebasing: value[2...]))
            out.keyValue(field: field, key: key, value: UnsafeRawBufferPointer(value))
        }
    }
}
