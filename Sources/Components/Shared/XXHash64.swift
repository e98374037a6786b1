/// xxHash64 (with seed 0, the hash Go's `cespare/xxhash` computes).
enum XXHash64 {
    private static let p1: UInt64 = 11_400_714_785_074_694_791
    private static let p2: UInt64 = 14_029_467_366_897_019_727
    private static let p3: UInt64 = 1_609_587_929_392_839_161
    private static let p4: UInt64 = 9_650_029_242_287_828_579
    private static let p5: UInt64 = 2_870_177_450_012_600_261

    static func hash(_ input: [UInt8], seed: UInt64 = 0) -> UInt64 {
        input.withUnsafeBytes { hash($0, seed: seed) }
    }

    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var lanes = Lanes(seed: seed)
        var offset = 0
        while offset + 32 <= bytes.count {
            lanes.consume(bytes, at: offset)
            offset += 32
        }
        return lanes.finish(bytes, from: offset)
    }

    /// The hashes of `bytes` with two seeds, in one pass over the bytes: the two sets of lanes
    /// are independent, so their multiplications overlap.
    static func hashes(_ bytes: UnsafeRawBufferPointer, seeds: (UInt64, UInt64)) -> (UInt64, UInt64) {
        var first = Lanes(seed: seeds.0), second = Lanes(seed: seeds.1)
        var offset = 0
        while offset + 32 <= bytes.count {
            first.consume(bytes, at: offset)
            second.consume(bytes, at: offset)
            offset += 32
        }
        return (first.finish(bytes, from: offset), second.finish(bytes, from: offset))
    }

    /// The four accumulators of the 32-byte stripes, and the seed for inputs shorter than one.
    private struct Lanes {
        let seed: UInt64
        var v1, v2, v3, v4: UInt64

        @inline(__always)
        init(seed: UInt64) {
            self.seed = seed
            v1 = seed &+ p1 &+ p2; v2 = seed &+ p2; v3 = seed; v4 = seed &- p1
        }

        @inline(__always)
        mutating func consume(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
            v1 = round(v1, read64(bytes, offset)); v2 = round(v2, read64(bytes, offset + 8))
            v3 = round(v3, read64(bytes, offset + 16)); v4 = round(v4, read64(bytes, offset + 24))
        }

        /// The hash, from the lanes and the bytes after the last whole stripe.
        @inline(__always)
        func finish(_ bytes: UnsafeRawBufferPointer, from start: Int) -> UInt64 {
            let count = bytes.count
            var h: UInt64
            if count >= 32 {
                h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
                h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4)
            } else {
                h = seed &+ p5
            }
            h = h &+ UInt64(count)
            var offset = start
            while offset + 8 <= count {
                h ^= round(0, read64(bytes, offset))
                h = rotl(h, 27) &* p1 &+ p4
                offset += 8
            }
            if offset + 4 <= count {
                h ^= UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) &* p1
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

    @inline(__always)
    private static func read64(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
    private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 { rotl(acc &+ input &* p2, 31) &* p1 }
    private static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 { (acc ^ round(0, value)) &* p1 &+ p4 }
}
