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

/// xxHash64 with seed 0 (the hash Go's `cespare/xxhash` computes).
enum XXHash64 {
    private static let p1: UInt64 = 11_400_714_785_074_694_791
    private static let p2: UInt64 = 14_029_467_366_897_019_727
    private static let p3: UInt64 = 1_609_587_929_392_839_161
    private static let p4: UInt64 = 9_650_029_242_287_828_579
    private static let p5: UInt64 = 2_870_177_450_012_600_261

    static func hash(_ input: [UInt8]) -> UInt64 {
        input.withUnsafeBytes { bytes in
            let count = bytes.count
            var offset = 0
            func read64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            func read32(_ at: Int) -> UInt64 { UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
            var h: UInt64
            if count >= 32 {
                var v1 = p1 &+ p2, v2 = p2, v3: UInt64 = 0, v4 = 0 &- p1
                while offset + 32 <= count {
                    v1 = round(v1, read64(offset)); v2 = round(v2, read64(offset + 8))
                    v3 = round(v3, read64(offset + 16)); v4 = round(v4, read64(offset + 24))
                    offset += 32
                }
                h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
                h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4)
            } else {
                h = p5
            }
            h = h &+ UInt64(count)
            while offset + 8 <= count {
                h ^= round(0, read64(offset))
                h = rotl(h, 27) &* p1 &+ p4
                offset += 8
            }
            if offset + 4 <= count {
                h ^= read32(offset) &* p1
                h = rotl(h, 23) &* p2 &+ p3
                offset += 4
            }
            while offset < count {
                h ^= UInt64(bytes[offset]) &* p5
                h = rotl(h, 11) &* p1
                offset += 1
            }
            h ^= h >> 33; h = h &* p2
            h ^= h >> 29; h = h &* p3
            h ^= h >> 32
            return h
        }
    }

    private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 { rotl(acc &+ input &* p2, 31) &* p1 }
    private static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 { (acc ^ round(0, value)) &* p1 &+ p4 }
}
