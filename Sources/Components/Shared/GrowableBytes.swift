/// Memory that bytes are written into in place, after what was written before; it doubles when it
/// must grow. For the writers whose appends to an array cost more than what they write: every
/// append there checks uniqueness and capacity in the runtime (JSON documents, the entries the
/// `elasticapm` rules add).
struct GrowableBytes: ~Copyable {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// Bytes written; lowered to take back what was written after a point.
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// Room for `size` more bytes, at the end of what was written.
    @inline(__always)
    mutating func room(_ size: Int) -> UnsafeMutablePointer<UInt8> {
        if count + size > capacity { grow(to: count + size) }
        return base + count
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        let larger = max(needed, capacity * 2)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.initialize(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = larger
    }
}
