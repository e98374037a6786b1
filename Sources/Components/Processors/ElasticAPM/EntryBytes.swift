import OTLP

/// The entries an encoded item gains, written in place at the end of memory kept from one item to
/// the next. An entry staged on the stack and appended to an array was copied twice and paid for
/// the array's checks: writing a span's dozen entries took about 40% of the processor's time.
final class EntryBytes {
    /// Unchecked: the run-time exclusivity check of every mutation of a class's property cost more
    /// than the writes it guarded. Safe because one item's writer at a time holds the instance (it
    /// lives in the scratch of one request's walk) and no access to it overlaps another.
    @exclusivity(unchecked) private var storage: GrowableBytes

    init(capacity: Int = 1024) {
        storage = GrowableBytes(capacity: capacity)
    }

    var bytes: UnsafeBufferPointer<UInt8> { storage.written }
    var count: Int { storage.count }
    var isEmpty: Bool { storage.count == 0 }

    func removeAll() { storage.count = 0 }

    /// Lets `write` fill up to `room` bytes at the end; it returns how many it wrote, or nil when
    /// it wrote nothing.
    @inline(__always)
    func append(room: Int, _ write: (UnsafeMutableBufferPointer<UInt8>) -> Int?) -> Bool {
        guard let written = write(UnsafeMutableBufferPointer(start: storage.room(room), count: room)) else { return false }
        storage.count += written
        return true
    }

    func append(_ part: [UInt8]) {
        _ = append(room: part.count) { room in
            _ = room.initialize(fromContentsOf: part)
            return part.count
        }
    }

    /// Puts `part` where `range` was, moving what follows.
    func replaceSubrange(_ range: Range<Int>, with part: [UInt8]) {
        let tail = storage.count - range.upperBound
        let grows = max(0, part.count - range.count)
        let base = storage.room(grows) - storage.count
        // Overlapping regions: a raw copy is a memmove.
        UnsafeMutableRawPointer(base + range.lowerBound + part.count).copyMemory(from: base + range.upperBound, byteCount: tail)
        part.withUnsafeBufferPointer { if let from = $0.baseAddress { (base + range.lowerBound).update(from: from, count: part.count) } }
        storage.count = range.lowerBound + part.count + tail
    }
}
