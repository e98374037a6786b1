import OTLP

/// Where the `elasticapm` rules write an item's fields: the decoded attribute list
/// (`ModelAttributeSink`) or the entries an encoded item gains (`WireAttributeSink`).
protocol APMAttributeSink {
    func has(_ key: EnrichedKey) -> Bool
    mutating func append(_ key: EnrichedKey, _ value: AnyValue.OneOf_Value)
    /// Sets the first entry of `key` to the string, or adds one.
    mutating func replace(_ key: EnrichedKey, string: String)
    /// Removes the first entry of each of `SpanEnrichment.messagingKeys`.
    mutating func removeMessagingKeys()
}

extension APMAttributeSink {
    /// Adds the entry unless the item has the key; the value is made only then.
    mutating func insert(_ key: EnrichedKey, _ value: @autoclosure () -> AnyValue.OneOf_Value) {
        if !has(key) { append(key, value()) }
    }
}

struct ModelAttributeSink: APMAttributeSink {
    var attributes: [KeyValue]

    func has(_ key: EnrichedKey) -> Bool { attributes.has(key.name) }

    mutating func append(_ key: EnrichedKey, _ value: AnyValue.OneOf_Value) {
        attributes.append(.with { $0.key = key.name; $0.value.value = value })
    }

    mutating func replace(_ key: EnrichedKey, string: String) { attributes.set(key.name, string: string) }

    mutating func removeMessagingKeys() {
        for key in SpanEnrichment.messagingKeys {
            if let index = attributes.firstIndex(where: { $0.key == key }) { attributes.remove(at: index) }
        }
    }
}

/// The entries an encoded item gains, with which of the written keys it had on arrival; the
/// item's own entries are changed (`replacement`, `messagingRemovals`) as they are copied.
struct WireAttributeSink: APMAttributeSink {
    let arrived: UInt64
    private(set) var present: UInt64
    typealias Entries = [(key: EnrichedKey, value: AnyValue.OneOf_Value)]
    private(set) var added: Entries = []
    /// A new string for the first arrived entry of the key.
    private(set) var replacement: (key: EnrichedKey, value: String)?
    /// How many entries of each messaging key go: one per removal, as when a map's remove is
    /// called that many times (an exit root's rules remove twice).
    private(set) var messagingRemovals = 0

    /// A sink that adds its entries to `storage`'s array, emptied (kept from one item to the
    /// next, so that each item does not grow a new one); `finish` hands it back.
    init(arrived: UInt64, storage: inout Entries) {
        self.arrived = arrived
        present = arrived
        swap(&added, &storage)
        added.removeAll(keepingCapacity: true)
    }

    mutating func finish(returning storage: inout Entries) { swap(&added, &storage) }

    func has(_ key: EnrichedKey) -> Bool { present & key.bit != 0 }

    mutating func append(_ key: EnrichedKey, _ value: AnyValue.OneOf_Value) {
        added.append((key, value))
        present |= key.bit
    }

    mutating func replace(_ key: EnrichedKey, string: String) {
        if arrived & key.bit != 0 {
            replacement = (key, string)
        } else if let index = added.firstIndex(where: { $0.key == key }) {
            added[index].value = .stringValue(string)
        } else {
            append(key, .stringValue(string))
        }
    }

    mutating func removeMessagingKeys() { messagingRemovals += 1 }

    /// Whether the item's own entries change as they are copied.
    var changesArrived: Bool { replacement != nil || messagingRemovals > 0 }

    /// The added entries as repeated KeyValue `field` entries, appended to `out`.
    func writeAdded(field: Int, into out: inout WireWriter, scratch: inout [UInt8]) {
        for (key, value) in added {
            EnrichedKey.utf8[key.rawValue].withUnsafeBytes { name in
                if out.keyValue(field: field, key: name, scalar: value) { return }
                scratch.removeAll(keepingCapacity: true)
                Self.encode(value, into: &scratch)
                scratch.withUnsafeBytes { out.keyValue(field: field, key: name, value: $0) }
            }
        }
    }

    /// An AnyValue's encoding, for a value `WireWriter.keyValue(field:key:scalar:)` does not
    /// write (a list: `child.id`) and a replaced entry's string.
    static func encode(_ value: AnyValue.OneOf_Value, into out: inout [UInt8]) {
        let any = AnyValue.with { $0.value = value }
        out.append(contentsOf: (try? any.serializedBytes() as [UInt8]) ?? [])
    }
}
