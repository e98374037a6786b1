/// Copying an encoded item with its attribute entries changed as they are met, in one walk over
/// its fields: for edits that need no index of the item and no list of its attributes (the
/// attributes processor's keyed actions, transform statements on keys with constants).
///
/// The item's other fields and the entries kept are copied as they lie, in runs; added entries go
/// after the last entry there was (at the end without one), as `WireAttributeList` writes them.
/// Nothing is copied before the first change: an item the walk leaves as it was is not written.
public enum WireEntryWalk {
    public enum Decision {
        case keep
        case drop
        /// Replaced by an entry of the same key whose value (the AnyValue's encoding) the decision
        /// wrote into its `value` buffer.
        case replace
        /// The walk cannot change this item by itself; nothing of it stays in the output.
        case abandon
    }

    public struct Walked {
        let buffer: UnsafeRawBufferPointer
        /// Where the item's output starts in `bodies`.
        let start: Int
        let changed: Bool
        /// The end of the item not copied yet, and where in it added entries go.
        let rest: Range<Int>
        let addAt: Int

        @usableFromInline init(buffer: UnsafeRawBufferPointer, start: Int, changed: Bool, rest: Range<Int>, addAt: Int) {
            self.buffer = buffer
            self.start = start
            self.changed = changed
            self.rest = rest
            self.addAt = addAt
        }
    }

    /// The item in `range` copied into `bodies` up to its last change, with each entry of its
    /// repeated KeyValue `field` as `decide` says, given the entry's key and value (without tag and
    /// length); `value` is the buffer replacements are written into. `finish` writes the rest.
    /// nil, with nothing of the item left in `bodies`, when a decision abandons or the item does
    /// not parse.
    // Inlined, so that `decide` is inlined into the walk at each caller.
    @inlinable @inline(__always)
    public static func copy(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, field: Int, into bodies: inout WireWriter,
                            value: inout [UInt8],
                            _ decide: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ newValue: inout [UInt8]) -> Decision) -> Walked? {
        let start = bodies.bytes.count
        var run = range.lowerBound
        var changed = false
        var lastEntryEnd: Int?
        var reader = WireReader(buffer, range: range)
        while true {
            let next: (start: Int, value: Range<Int>)?
            do { next = try reader.next(lengthDelimited: field) } catch { return abandon(&bodies, start) }
            guard let (fieldStart, entry) = next else { break }
            let (keyRange, valueRange) = WireFields.keyValue(buffer, entry)
            let absent = entry.upperBound..<entry.upperBound
            let key = UnsafeRawBufferPointer(rebasing: buffer[keyRange ?? absent])
            switch decide(key, UnsafeRawBufferPointer(rebasing: buffer[valueRange ?? absent]), &value) {
            case .keep:
                break
            case .drop:
                bodies.bytes.append(bytesOf: buffer[run..<fieldStart])
                run = reader.offset
                changed = true
            case .replace:
                bodies.bytes.append(bytesOf: buffer[run..<fieldStart])
                value.withUnsafeBytes { bodies.keyValue(field: field, key: key, value: $0) }
                run = reader.offset
                changed = true
            case .abandon:
                return abandon(&bodies, start)
            }
            lastEntryEnd = reader.offset
        }
        return Walked(buffer: buffer, start: start, changed: changed, rest: run..<range.upperBound, addAt: lastEntryEnd ?? range.upperBound)
    }

    /// The decision for the walked item once `added` (whole encoded entries, maybe none) is in:
    /// the rest of a changed item is written, with `added` in its place.
    public static func finish(_ walked: Walked, adding added: [UInt8], into bodies: inout WireWriter) -> WireItemDecision {
        // An unchanged item wrote nothing.
        guard walked.changed || !added.isEmpty else { return .keep }
        let buffer = walked.buffer, rest = walked.rest
        if added.isEmpty {
            bodies.bytes.append(bytesOf: buffer[rest])
        } else {
            bodies.bytes.append(bytesOf: buffer[rest.lowerBound..<walked.addAt])
            bodies.bytes.append(contentsOf: added)
            bodies.bytes.append(bytesOf: buffer[walked.addAt..<rest.upperBound])
        }
        return .written(walked.start..<bodies.bytes.count)
    }

    /// Takes what the walk wrote of an item back out of `bodies`, for a caller that gives up on
    /// it after the walk.
    public static func discard(_ walked: Walked, from bodies: inout WireWriter) {
        _ = abandon(&bodies, walked.start)
    }

    @usableFromInline
    static func abandon(_ bodies: inout WireWriter, _ start: Int) -> Walked? {
        bodies.bytes.removeSubrange(start...)
        return nil
    }
}
