import OTLP

/// What the metric sets read of an encoded span, found in one walk over its fields: the times,
/// name, parent and tracestate, and the first entry of each attribute key the sets read (as a
/// lookup finds it). Nothing is decoded; the entries are later copied into series keys from where
/// they lie. One value serves every span of a batch.
struct SpanReading {
    enum Key: Int, CaseIterable {
        case name, type, outcome, result, targetType, targetName, destinationResource, compositeSum, compositeCount

        var text: String {
            switch self {
            case .name: "transaction.name"
            case .type: "transaction.type"
            case .outcome: "event.outcome"
            case .result: "transaction.result"
            case .targetType: "service.target.type"
            case .targetName: "service.target.name"
            case .destinationResource: "span.destination.service.resource"
            case .compositeSum: "span.composite.sum.us"
            case .compositeCount: "span.composite.count"
            }
        }
    }

    /// The keys a reading seeks, to their slots (bit n for slot n): slot `Key.allCases.count + i`
    /// is the i-th custom key, which may also be one of `Key`'s. Made once per connector: a
    /// table made per batch cost a twentieth of the connector.
    struct Sought: Sendable {
        let table: KeyTable<UInt64>
        let customCount: Int

        init(customKeys: [String]) {
            let all = Key.allCases.map(\.text) + customKeys.prefix(SpanReading.maxCustomKeys)
            var slots: [String: UInt64] = [:]
            for (slot, key) in all.enumerated() { slots[key, default: 0] |= 1 << UInt64(slot) }
            table = KeyTable(slots.map { (key: $0.key, value: $0.value) })
            customCount = all.count - Key.allCases.count
        }
    }

    private let sought: KeyTable<UInt64>
    private let customCount: Int

    private(set) var buffer = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Per slot, where the entry's key and value lie; `found` has bit n set for slot n.
    private var keys: [Range<Int>]
    private var values: [Range<Int>]
    private var found: UInt64 = 0

    private(set) var start: UInt64 = 0
    private(set) var end: UInt64 = 0
    private(set) var name = 0..<0
    private(set) var traceState = 0..<0
    private(set) var parentSpanID = 0..<0

    /// At most 64 slots fit the `found` word; custom keys past that are not read.
    static let maxCustomKeys = 64 - Key.allCases.count

    init(_ sought: Sought) {
        self.sought = sought.table
        customCount = sought.customCount
        keys = Array(repeating: 0..<0, count: Key.allCases.count + customCount)
        values = Array(repeating: 0..<0, count: Key.allCases.count + customCount)
    }

    /// Reads the span encoded in `range` of `buffer`.
    mutating func read(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) throws(OTLPDecodingError) {
        self.buffer = buffer
        found = 0
        start = 0
        end = 0
        name = 0..<0
        traceState = 0..<0
        parentSpanID = 0..<0
        var reader = WireReader(buffer, range: range)
        while !reader.isAtEnd {
            // Fields not read, in their usual shapes, are stepped over before their tags are
            // decoded; the one-byte tags of the fields read are not.
            switch buffer[reader.offset] {
            case 9 << 3 | 2, 7 << 3 | 1, 8 << 3 | 1, 5 << 3 | 2, 4 << 3 | 2, 3 << 3 | 2: break
            default: if reader.skipUsualField() != nil || reader.skipOneByteVarint() != nil { continue }
            }
            let (field, wireType) = try reader.tag()
            switch (field, wireType) {
            case (9, .lengthDelimited): absorb(try reader.lengthDelimited())
            case (3, .lengthDelimited): traceState = try reader.lengthDelimited()
            case (4, .lengthDelimited): parentSpanID = try reader.lengthDelimited()
            case (5, .lengthDelimited): name = try reader.lengthDelimited()
            case (7, .fixed64): start = try reader.fixed64()
            case (8, .fixed64): end = try reader.fixed64()
            default: try reader.skip(wireType)
            }
        }
    }

    private mutating func absorb(_ entry: Range<Int>) {
        let (keyRange, value) = WireFields.keyValue(buffer, entry)
        guard let keyRange else { return }
        guard let slots = sought.value(UnsafeRawBufferPointer(rebasing: buffer[keyRange])) else { return }
        var new = slots & ~found
        found |= new
        while new != 0 {
            let slot = new.trailingZeroBitCount
            new &= new - 1
            keys[slot] = keyRange
            values[slot] = value ?? keyRange.upperBound..<keyRange.upperBound
        }
    }

    /// Whether the span has every key of `required` (as `mask` makes it).
    func has(_ required: UInt64) -> Bool { found & required == required }

    static func mask(_ keys: Key...) -> UInt64 { keys.reduce(0) { $0 | 1 << UInt64($1.rawValue) } }

    func value(_ key: Key) -> WireAnyValue? {
        guard found & (1 << UInt64(key.rawValue)) != 0 else { return nil }
        return WireAnyValue(buffer, values[key.rawValue])
    }

    /// An integer or double attribute as a number; nil for any other value or none.
    func number(_ key: Key) -> Double? {
        guard let value = value(key) else { return nil }
        switch value.member {
        case 3: return Double(Int64(bitPattern: value.number))
        case 4: return Double(bitPattern: value.number)
        default: return nil
        }
    }

    /// The entry of `key` as series key bytes, when the span has it.
    func append(_ key: Key, to out: inout [UInt8]) { append(slot: key.rawValue, to: &out) }

    /// The custom keys the span has, in the configured order, but those with bit i set in
    /// `skipping` for the i-th.
    func appendCustom(to out: inout [UInt8], skipping: UInt64) {
        for index in 0..<customCount where skipping & (1 << UInt64(index)) == 0 { append(slot: Key.allCases.count + index, to: &out) }
    }

    private func append(slot: Int, to out: inout [UInt8]) {
        guard found & (1 << UInt64(slot)) != 0 else { return }
        SeriesKey.append(key: UnsafeRawBufferPointer(rebasing: buffer[keys[slot]]), value: WireAnyValue(buffer, values[slot]), to: &out)
    }
}
