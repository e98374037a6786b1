import OTLP

/// The span attributes the metric sets read, found in one pass over an encoded span's entries:
/// the first entry of each key, as a lookup finds it. Nothing is decoded; the entries are later
/// copied into series keys from where they lie. One value serves every span of a batch.
struct SpanAttributes {
    enum Key: Int, CaseIterable {
        case name, type, outcome, result, targetType, targetName, destinationResource, compositeSum, compositeCount

        var utf8: [UInt8] {
            switch self {
            case .name: Array("transaction.name".utf8)
            case .type: Array("transaction.type".utf8)
            case .outcome: Array("event.outcome".utf8)
            case .result: Array("transaction.result".utf8)
            case .targetType: Array("service.target.type".utf8)
            case .targetName: Array("service.target.name".utf8)
            case .destinationResource: Array("span.destination.service.resource".utf8)
            case .compositeSum: Array("span.composite.sum.us".utf8)
            case .compositeCount: Array("span.composite.count".utf8)
            }
        }
    }

    /// Keys by their length: a span's key is compared only with those of its length. Slot
    /// `Key.allCases.count + i` is the i-th custom key (which may also be one of `Key`'s).
    private let byLength: [[(key: [UInt8], slot: Int)]]
    private let customCount: Int
    private var buffer = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Per slot, where the entry's key and value lie; `found` has bit n set for slot n.
    private var keys: [Range<Int>]
    private var values: [Range<Int>]
    private var found: UInt64 = 0

    /// At most 64 slots fit the `found` word; custom keys past that are not read.
    init(customKeys: [String]) {
        let custom = customKeys.prefix(64 - Key.allCases.count).map { Array($0.utf8) }
        let all = Key.allCases.map(\.utf8) + custom
        var table = [[(key: [UInt8], slot: Int)]](repeating: [], count: (all.map(\.count).max() ?? 0) + 1)
        for (slot, key) in all.enumerated() {
            table[key.count].append((key, slot))
        }
        byLength = table
        customCount = custom.count
        keys = Array(repeating: 0..<0, count: all.count)
        values = Array(repeating: 0..<0, count: all.count)
    }

    /// Reads `span`'s attributes (field 9).
    mutating func read(_ span: WireFields) {
        buffer = span.buffer
        found = 0
        span.forEachOccurrence(9) { _, entry in
            let (key, value) = WireFields.keyValue(span.buffer, entry)
            guard let key, key.count < byLength.count else { return true }
            let bytes = UnsafeRawBufferPointer(rebasing: span.buffer[key])
            for candidate in byLength[key.count] where found & (1 << UInt64(candidate.slot)) == 0 {
                guard candidate.key.withUnsafeBytes({ $0.sameBytes(as: bytes) }) else { continue }
                found |= 1 << UInt64(candidate.slot)
                keys[candidate.slot] = key
                values[candidate.slot] = value ?? key.upperBound..<key.upperBound
            }
            return true
        }
    }

    /// Whether the span has all of `required`.
    func has(_ required: [Key]) -> Bool {
        required.allSatisfy { found & (1 << UInt64($0.rawValue)) != 0 }
    }

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

    /// The custom keys the span has, in the configured order.
    func appendCustom(to out: inout [UInt8]) {
        for index in 0..<customCount { append(slot: Key.allCases.count + index, to: &out) }
    }

    private func append(slot: Int, to out: inout [UInt8]) {
        guard found & (1 << UInt64(slot)) != 0 else { return }
        SeriesKey.append(key: UnsafeRawBufferPointer(rebasing: buffer[keys[slot]]), value: WireAnyValue(buffer, values[slot]), to: &out)
    }
}
