import OTLP

/// Where the `elasticapm` rules write an item's fields: the decoded attribute list
/// (`ModelAttributeSink`) or the entries an encoded item gains (`WireAttributeSink`).
protocol APMAttributeSink {
    func has(_ key: EnrichedKey) -> Bool
    mutating func append(_ key: EnrichedKey, _ value: AnyValue.OneOf_Value)
    /// Adds an ID as pdata prints it: lowercase hex, "" for the empty ID.
    mutating func append(_ key: EnrichedKey, hexID id: UnsafeRawBufferPointer)
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

    mutating func append(_ key: EnrichedKey, hexID id: UnsafeRawBufferPointer) { append(key, .stringValue(SpanEnrichment.hexID(id))) }

    mutating func replace(_ key: EnrichedKey, string: String) { attributes.set(key.name, string: string) }

    mutating func removeMessagingKeys() {
        for key in SpanEnrichment.messagingKeys {
            if let index = attributes.firstIndex(where: { $0.key == key }) { attributes.remove(at: index) }
        }
    }
}

/// The entries an encoded item gains, encoded as they are added, with which of the written keys
/// the item had on arrival; the item's own entries are changed (`replacement`,
/// `messagingRemovals`) as they are copied.
struct WireAttributeSink: APMAttributeSink {
    let arrived: UInt64
    /// The repeated KeyValue field the entries are written as.
    let field: Int
    private(set) var present: UInt64
    /// The added entries, whole (tag and length included).
    let added: EntryBytes
    /// Where each added key's entry starts in `added`, for a replacement.
    private var starts = InlineArray<32, Int32>(repeating: -1)
    /// A new string for the first arrived entry of the key.
    private(set) var replacement: (key: EnrichedKey, value: String)?
    /// How many entries of each messaging key go: one per removal, as when a map's remove is
    /// called that many times (an exit root's rules remove twice).
    private(set) var messagingRemovals = 0

    /// A sink that writes into `storage`, emptied: it is kept from one item to the next, so that
    /// each item does not grow a buffer of its own.
    init(arrived: UInt64, field: Int, storage: EntryBytes) {
        self.arrived = arrived
        self.field = field
        present = arrived
        added = storage
        added.removeAll()
    }

    func has(_ key: EnrichedKey) -> Bool { present & key.bit != 0 }

    mutating func append(_ key: EnrichedKey, _ value: AnyValue.OneOf_Value) {
        starts[key.rawValue] = Int32(truncatingIfNeeded: added.count)
        Self.write(key.utf8, value, field: field, into: added)
        present |= key.bit
    }

    mutating func append(_ key: EnrichedKey, hexID id: UnsafeRawBufferPointer) {
        // Written straight into the entry: a String of a span ID's 16 digits takes an allocation.
        let start = added.count
        guard !SpanEnrichment.isEmptyID(id), added.append(room: WireWriter.smallEntryRoom, { room in
            WireWriter.put(keyValue: field, key: key.utf8, hexOf: id, into: room, at: 0)
        }) else {
            return append(key, .stringValue(SpanEnrichment.hexID(id)))
        }
        starts[key.rawValue] = Int32(truncatingIfNeeded: start)
        present |= key.bit
    }

    mutating func replace(_ key: EnrichedKey, string: String) {
        if arrived & key.bit != 0 {
            replacement = (key, string)
            return
        }
        guard present & key.bit != 0, starts[key.rawValue] >= 0 else { return append(key, .stringValue(string)) }
        // Rare (an exit root's type): the entry is written again where it was.
        let start = Int(starts[key.rawValue])
        let added = UnsafeRawBufferPointer(self.added.bytes)
        var reader = WireReader(added, range: start..<added.count)
        let end = ((try? reader.next(lengthDelimited: field))?.value.upperBound) ?? added.count
        var entry = WireWriter()
        Self.write(key.utf8, .stringValue(string), field: field, into: &entry)
        self.added.replaceSubrange(start..<end, with: entry.bytes)
        let shift = Int32(truncatingIfNeeded: entry.bytes.count - (end - start))
        for index in 0..<starts.count where starts[index] > Int32(truncatingIfNeeded: start) { starts[index] += shift }
    }

    mutating func removeMessagingKeys() { messagingRemovals += 1 }

    /// Whether the item's own entries change as they are copied.
    var changesArrived: Bool { replacement != nil || messagingRemovals > 0 }

    /// One entry, written whole in place.
    static func write(_ key: UnsafeRawBufferPointer, _ value: AnyValue.OneOf_Value, field: Int, into added: EntryBytes) {
        if added.append(room: WireWriter.smallEntryRoom, { room in
            WireWriter.put(keyValue: field, key: key, scalar: value, into: room, at: 0)
        }) { return }
        var entry = WireWriter()
        write(key, value, field: field, into: &entry)
        added.append(entry.bytes)
    }

    /// One entry, written whole.
    static func write(_ key: UnsafeRawBufferPointer, _ value: AnyValue.OneOf_Value, field: Int, into out: inout WireWriter) {
        if out.keyValue(field: field, key: key, scalar: value) { return }
        // A list (`child.id`) or a long string: swift-protobuf encodes the value.
        let encoded = (try? AnyValue.with { $0.value = value }.serializedBytes() as [UInt8]) ?? []
        encoded.withUnsafeBytes { out.keyValue(field: field, key: key, value: $0) }
    }
}
