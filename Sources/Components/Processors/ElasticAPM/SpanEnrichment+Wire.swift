import OTLP

/// The span rules on an encoded span: its attributes are read where they lie, and the span is
/// copied with the entries it gains appended to its attributes and to each event's. Only the
/// entries a rule removes or replaces (messaging keys, an exit root's `transaction.type`), child
/// links, and a cleared ID or name are left out of the copy.
extension SpanEnrichment {
    /// Storage kept from one span to the next.
    struct WireScratch {
        var childIDs: [String] = []
        var childLinks: [Int] = []
        let spanEntries = EntryBytes()
        let eventEntries = EntryBytes()
    }

    func enrich(_ span: WireFields, into bodies: inout WireWriter, scratch: inout WireScratch) throws -> WireItemDecision {
        let buffer = span.buffer
        var facts = SpanFacts()
        span.forEachOccurrence(9) { _, entry in
            let (key, value) = Self.keyAndValue(buffer, entry)
            facts.absorb(key, WireAnyValue(buffer, value))
            return true
        }
        facts.finish()
        var header = Header(start: span.uint(7), end: span.uint(8),
                            kind: Span.SpanKind(rawValue: Int(Int32(truncatingIfNeeded: span.uint(6)))) ?? .unspecified,
                            flags: UInt32(truncatingIfNeeded: span.uint(16)), parentIsEmpty: Self.isEmptyID(span.bytes(4)))
        if span.has(15) {
            header.status = SpanStatus.StatusCode(rawValue: Int(Int32(truncatingIfNeeded: try span.message(15).uint(3)))) ?? .unset
        }
        if span.has(3) { header.traceState = span.string(3) }
        let role = role(header, facts)

        scratch.childIDs.removeAll(keepingCapacity: true)
        scratch.childLinks.removeAll(keepingCapacity: true)
        if span.has(13), movesChildLinks(role, facts) {
            var index = 0
            try span.forEachOccurrence(13) { _, body in
                defer { index += 1 }
                let link = try WireFields(buffer, body)
                var marker: WireAnyValue?
                link.forEachOccurrence(4) { _, entry in
                    let (key, value) = Self.keyAndValue(buffer, entry)
                    guard Self.childMarkers.contains(where: { $0.withUnsafeBytes { key.sameBytes(as: $0) } }) else { return true }
                    marker = WireAnyValue(buffer, value)
                    return false
                }
                let spanID = link.bytes(2)
                if Self.isChildLink(marker: marker, spanIDIsEmpty: Self.isEmptyID(spanID)) {
                    scratch.childLinks.append(index)
                    scratch.childIDs.append(Self.hexID(spanID))
                }
                return true
            }
        }

        var sink = WireAttributeSink(arrived: facts.present, field: 9, storage: scratch.spanEntries)
        write(&sink, header, facts, role, childIDs: scratch.childIDs, name: { span.string(5) }, spanID: span.bytes(2))
        let clearsID = role.isTransaction && transaction.id.enabled && transaction.clear_span_id.enabled
        let clearsName = role.isTransaction && transaction.name.enabled && transaction.clear_span_name.enabled
        let transactionType = role.isTransaction ? facts.transactionTypeDerived : nil

        let start = bodies.bytes.count
        var reader = WireReader(buffer, range: span.range)
        // Made only for a span whose own entries change: it holds an array.
        var entries = sink.changesArrived ? ArrivedEntries(sink) : nil
        var linkIndex = 0
        // Fields copied as they are go in runs, one append for each run.
        var run = span.range.lowerBound
        while !reader.isAtEnd {
            let fieldStart = reader.offset
            // Fields copied as they are, in their usual shapes, are stepped over before their tags
            // are decoded; the one-byte tags of the fields changed here are not.
            switch buffer[fieldStart] {
            case 11 << 3 | 2: break
            case 9 << 3 | 2 where entries != nil: break
            case 13 << 3 | 2 where !scratch.childLinks.isEmpty: break
            case 2 << 3 | 2 where clearsID: break
            case 5 << 3 | 2 where clearsName: break
            default: if reader.skipUsualField() != nil || reader.skipOneByteVarint() != nil { continue }
            }
            let (field, wireType) = try reader.tag()
            if wireType == .lengthDelimited {
                switch field {
                case 9 where entries != nil:
                    bodies.bytes.append(bytesOf: buffer[run..<fieldStart])
                    entries?.copy(buffer, try reader.lengthDelimited(), fieldStart: fieldStart, into: &bodies)
                    run = reader.offset
                    continue
                case 11:
                    bodies.bytes.append(bytesOf: buffer[run..<fieldStart])
                    try writeEvent(buffer, try reader.lengthDelimited(), transactionType: transactionType, into: &bodies, scratch: &scratch)
                    run = reader.offset
                    continue
                case 13 where !scratch.childLinks.isEmpty:
                    _ = try reader.lengthDelimited()
                    defer { linkIndex += 1 }
                    if scratch.childLinks.contains(linkIndex) {
                        bodies.bytes.append(bytesOf: buffer[run..<fieldStart])
                        run = reader.offset
                    }
                    continue
                case 2 where clearsID, 5 where clearsName:
                    bodies.bytes.append(bytesOf: buffer[run..<fieldStart])
                    _ = try reader.lengthDelimited()
                    run = reader.offset
                    continue
                default:
                    break
                }
            }
            try reader.skip(wireType)
        }
        bodies.bytes.append(bytesOf: buffer[run..<span.range.upperBound])
        bodies.bytes.append(contentsOf: sink.added.bytes)
        return .written(start..<bodies.bytes.count)
    }

    /// An event copied with the entries the event rules add to its attributes.
    private func writeEvent(_ buffer: UnsafeRawBufferPointer, _ body: Range<Int>, transactionType: String?,
                            into bodies: inout WireWriter, scratch: inout WireScratch) throws {
        let event = try WireFields(buffer, body)
        var facts = EventFacts(isException: Self.exceptionName.withUnsafeBytes { event.bytes(2).sameBytes(as: $0) })
        event.forEachOccurrence(3) { _, entry in
            let (key, value) = Self.keyAndValue(buffer, entry)
            facts.absorb(key, WireAnyValue(buffer, value))
            return true
        }
        var sink = WireAttributeSink(arrived: facts.present, field: 3, storage: scratch.eventEntries)
        writeEvent(&sink, time: event.uint(1), facts, transactionType: transactionType)
        guard !sink.added.isEmpty else {
            bodies.lengthDelimited(field: 11, buffer[body])
            return
        }
        bodies.varints(11 << 3 | 2, UInt64(body.count + sink.added.count))
        bodies.bytes.append(bytesOf: buffer[body])
        bodies.bytes.append(contentsOf: sink.added.bytes)
    }

    /// An entry's key and value (the value empty when absent, as decoded).
    private static func keyAndValue(_ buffer: UnsafeRawBufferPointer, _ entry: Range<Int>) -> (UnsafeRawBufferPointer, Range<Int>) {
        let (key, value) = WireFields.keyValue(buffer, entry)
        let absent = entry.upperBound..<entry.upperBound
        return (UnsafeRawBufferPointer(rebasing: buffer[key ?? absent]), value ?? absent)
    }

    private static let exceptionName = Array("exception".utf8)
    private static let childMarkers = [Array("is_child".utf8), Array("elastic.is_child".utf8)]
    static let messagingKeysUTF8 = messagingKeys.map { Array($0.utf8) }
}

/// The span's own attribute entries as they are copied: the first entries of each messaging key
/// left out, as many as the rules removed, and the first of a replaced key written with its new
/// value.
private struct ArrivedEntries {
    let messagingRemovals: Int
    let replacement: (key: EnrichedKey, value: String)?
    var removed = Array(repeating: 0, count: SpanEnrichment.messagingKeys.count)
    var replaced = false

    init(_ sink: WireAttributeSink) {
        messagingRemovals = sink.messagingRemovals
        replacement = sink.replacement
    }

    mutating func copy(_ buffer: UnsafeRawBufferPointer, _ entry: Range<Int>, fieldStart: Int, into out: inout WireWriter) {
        let (keyRange, _) = WireFields.keyValue(buffer, entry)
        let key = UnsafeRawBufferPointer(rebasing: buffer[keyRange ?? entry.upperBound..<entry.upperBound])
        if messagingRemovals > 0,
           let index = SpanEnrichment.messagingKeysUTF8.firstIndex(where: { $0.withUnsafeBytes { key.sameBytes(as: $0) } }),
           removed[index] < messagingRemovals {
            removed[index] += 1
            return
        }
        if !replaced, let (replacedKey, text) = replacement, key.sameBytes(as: replacedKey.utf8) {
            replaced = true
            WireAttributeSink.write(key, .stringValue(text), field: 9, into: &out)
            return
        }
        out.bytes.append(bytesOf: buffer[fieldStart..<entry.upperBound])
    }
}
