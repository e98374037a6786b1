import Foundation
import OTLP

/// The Kafka key the Go collector gives a resource when partitioning by resource attributes:
/// 16 bytes, two xxHash64 values of a canonical encoding of the attributes (sorted by key). Using
/// the same key puts a resource on the same partition whichever tier produced it.
enum ResourceAttributesHash {
    static func key(_ attributes: [KeyValue]) -> [UInt8] {
        if attributes.isEmpty { return [UInt8](repeating: 0, count: 16) }
        var buffer: [UInt8] = []
        writeMap(attributes, into: &buffer)
        let first = XXHash64.hash(buffer)
        buffer.append(0xF3)
        let second = XXHash64.hash(buffer)
        return littleEndian(first) + littleEndian(second)
    }

    private static func writeMap(_ entries: [KeyValue], into buffer: inout [UInt8]) {
        for entry in entries.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            buffer.append(0xF4)
            buffer.append(contentsOf: entry.key.utf8)
            writeValue(entry.value, into: &buffer)
        }
    }

    private static func writeValue(_ value: AnyValue, into buffer: inout [UInt8]) {
        switch value.value {
        case .stringValue(let s): buffer.append(0xF7); buffer.append(contentsOf: s.utf8)
        case .boolValue(let b): buffer.append(b ? 0xF8 : 0xF9)
        case .intValue(let i): buffer.append(0xFA); buffer.append(contentsOf: littleEndian(UInt64(bitPattern: i)))
        case .doubleValue(let d): buffer.append(0xFB); buffer.append(contentsOf: littleEndian(d.bitPattern))
        case .kvlistValue(let map): buffer.append(0xFC); writeMap(map.values, into: &buffer); buffer.append(0xFD)
        case .arrayValue(let list):
            buffer.append(0xFE)
            for element in list.values { writeValue(element, into: &buffer) }
            buffer.append(0xFF)
        case .bytesValue(let data): buffer.append(0xF6); buffer.append(contentsOf: data)
        case nil: buffer.append(0xF5)
        }
    }

    private static func littleEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
