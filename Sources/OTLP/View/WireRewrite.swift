/// What a walk over an encoded request does with one item.
public enum WireItemDecision {
    case keep
    case drop
    /// The item's new body (without tag and length), written by the decision at this range of
    /// the rewrite's item buffer (the `inout WireWriter` each decision is given): one buffer for
    /// every item changed.
    case written(Range<Int>)
}

/// A message the wire path would not read as protobuf decoders do (a singular sub-message that
/// appears twice, which decoders merge). The caller takes the decoded path for the batch.
public struct WireIrregularMessage: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "a singular sub-message appears more than once" }
}

/// Dropping and replacing items of an encoded export request without decoding it.
///
/// The first pass hands every resource, scope and item, indexed as `WireFields`, to the caller's
/// decisions; when they change nothing, the request's own bytes stand and nothing is copied.
/// Otherwise a second pass writes the request again: kept containers and items are copied as they
/// are, replaced items are written from their new bodies, and with `dropsEmpty` a scope or
/// resource left with no items is left out (as the decoded path's `keepItems` does).
public enum WireRewrite {
    /// The singular sub-messages of each signal's item (bits by field number): a span's status,
    /// a log record's body, a metric's data.
    public static func itemSingularMessages(_ signal: Signal) -> UInt32 {
        switch signal {
        case .traces: 1 << 15
        case .logs: 1 << 5
        case .metrics: 1 << 5 | 1 << 7 | 1 << 9 | 1 << 10 | 1 << 11
        }
    }

    /// The repeated KeyValue field of each signal's item that lookups walk (a metric's attributes
    /// lie in its points): its first occurrence is kept in the item's index.
    public static func itemAttributes(_ signal: Signal) -> Int {
        switch signal {
        case .traces: 9
        case .logs: 6
        case .metrics: 0
        }
    }

    /// The request with the caller's decisions applied and its item count, or nil when every
    /// decision kept what it was given. `itemCount` is the request's (a batch knows it). An item
    /// decision that changes its item writes the new body into the buffer it is given and answers
    /// `.written` with where. Throws what the decisions throw, `WireIrregularMessage`, or
    /// `OTLPDecodingError` for bytes that break the schema (a batch's bytes were validated, so
    /// only a defect gets there).
    ///
    /// With `indexed` false the decisions get each resource, scope and item unindexed
    /// (`WireFields(unindexed:)`: its buffer and range only), for decisions that walk the item
    /// themselves and read nothing of its resource and scope.
    ///
    /// `replaceResource` and `replaceScope` give a kept resource or scope a new encoding (its
    /// body) where they return one, as `rewriteContainers` does, in the same pass: the request is
    /// written once for its containers and its items together.
    public static func rewrite(
        _ signal: Signal, _ bytes: [UInt8], itemCount before: Int, dropsEmpty: Bool = true, indexed: Bool = true,
        keepResource: (WireFields) throws -> Bool,
        keepScope: (_ scope: WireFields, _ resource: WireFields) throws -> Bool,
        replaceResource: ((WireFields) throws -> [UInt8]?)? = nil,
        replaceScope: ((WireFields) throws -> [UInt8]?)? = nil,
        item: (_ item: WireFields, _ scope: WireFields, _ resource: WireFields, _ bodies: inout WireWriter) throws -> WireItemDecision
    ) throws -> (bytes: [UInt8], items: Int)? {
        try bytes.withUnsafeBytes { buffer in
            var plan = Plan()
            plan.items.reserveCapacity(before)
            let itemMessage: WireMessage = signal == .metrics ? .metric : .span
            var kept = 0
            try forEachEntry(buffer, 0..<buffer.count) { entryBody in
                let entry = try WireFields(buffer, entryBody, singularMessages: 1 << 1)
                guard !entry.isIrregular else { throw WireIrregularMessage() }
                let resource = indexed ? try entry.message(1) : WireFields(unindexed: buffer, entry.bytesRange(1))
                let container = plan.containers.count
                plan.containers.append(Plan.dropped)
                guard try keepResource(resource) else { return }
                var entrySize = entryBody.count, scopes = 0
                if let replaceResource, let replacement = try replaceResource(indexed ? resource : try entry.message(1)) {
                    entrySize += plan.replace(field1Of: entry, with: replacement, container: container)
                }
                try entry.forEachOccurrence(2) { scopeStart, scopeBody in
                    let scopeEntry = try WireFields(buffer, scopeBody, singularMessages: 1 << 1)
                    guard !scopeEntry.isIrregular else { throw WireIrregularMessage() }
                    let scope = indexed ? try scopeEntry.message(1) : WireFields(unindexed: buffer, scopeEntry.bytesRange(1))
                    let scopeContainer = plan.containers.count
                    plan.containers.append(Plan.dropped)
                    // The field as received, which may have written its length in more bytes.
                    entrySize -= scopeBody.upperBound - scopeStart
                    guard try keepScope(scope, resource) else { return true }
                    var scopeSize = scopeBody.count, items = 0
                    if let replaceScope, let replacement = try replaceScope(indexed ? scope : try scopeEntry.message(1)) {
                        scopeSize += plan.replace(field1Of: scopeEntry, with: replacement, container: scopeContainer)
                    }
                    let firstItem = plan.items.count
                    try scopeEntry.forEachOccurrence(2) { itemStart, itemBody in
                        let fields = indexed ? try WireFields(buffer, itemBody, singularMessages: itemSingularMessages(signal),
                                                               firstOf: itemAttributes(signal))
                            : WireFields(unindexed: buffer, itemBody)
                        guard !fields.isIrregular else { throw WireIrregularMessage() }
                        let decision = try item(fields, scope, resource, &plan.bodies)
                        scopeSize -= itemBody.upperBound - itemStart
                        switch decision {
                        case .keep:
                            kept += try itemCount(itemMessage, buffer, itemBody)
                            scopeSize += fieldSize(itemBody.count)
                            items += 1
                        case .drop: break
                        case .written(let range):
                            // At the first item written, room for every item, so that the buffer
                            // does not grow by copying; a rewrite that writes none reserves none.
                            if !plan.replaced { plan.bodies.bytes.reserveCapacity(buffer.count + buffer.count / 4) }
                            plan.replaced = true
                            kept += try plan.bodies.bytes.withUnsafeBytes { try itemCount(itemMessage, $0, range) }
                            scopeSize += fieldSize(range.count)
                            items += 1
                        }
                        plan.items.append(decision)
                        return true
                    }
                    // A scope (or resource) left without items goes, as in the decoded path; the
                    // second pass does not walk into what it leaves out, so neither do its decisions.
                    guard items > 0 || !dropsEmpty else {
                        plan.items.removeSubrange(firstItem...)
                        return true
                    }
                    plan.containers[scopeContainer] = scopeSize
                    entrySize += fieldSize(scopeSize)
                    scopes += 1
                    return true
                }
                if scopes > 0 || !dropsEmpty {
                    plan.containers[container] = entrySize
                } else {
                    plan.containers.removeSubrange((container + 1)...)
                    if !plan.replacements.isEmpty { plan.replacements = plan.replacements.filter { $0.key < container } }
                }
            }
            guard plan.replaced || !plan.replacements.isEmpty || kept != before else { return nil }
            return (try plan.write(buffer), kept)
        }
    }

    /// The encoded size of a length-delimited field numbered below 16 with a body of `count` bytes.
    private static func fieldSize(_ count: Int) -> Int { 1 + WireWriter.varintSize(UInt64(count)) + count }

    /// The request with the resource of each resource entry replaced where `edit` returns a new
    /// encoding (the resource's body), or nil when it returns nil for every entry. Scopes and
    /// items are copied as they are; an entry without a resource gets one when `edit` gives one.
    /// Throws what `edit` throws, `WireIrregularMessage` for an entry with two resources, or
    /// `OTLPDecodingError` for bytes that break the schema.
    public static func rewriteResources(_ bytes: [UInt8], edit: (WireFields) throws -> [UInt8]?) throws -> [UInt8]? {
        try rewriteContainers(bytes, resource: edit, scope: nil)
    }

    /// `rewriteResources` that also replaces the instrumentation scope of each scope entry where
    /// `scope` returns a new encoding (the scope's body); an entry without a scope gets one when
    /// `scope` gives one. Items are copied as they are.
    public static func rewriteContainers(_ bytes: [UInt8], resource editResource: (WireFields) throws -> [UInt8]?,
                                         scope editScope: ((WireFields) throws -> [UInt8]?)?) throws -> [UInt8]? {
        try bytes.withUnsafeBytes { buffer in
            // Per resource entry: its new resource and the new scope of each of its scope entries.
            var edits: [(resource: [UInt8]?, scopes: [[UInt8]?])] = []
            try forEachEntry(buffer, 0..<buffer.count) { entryBody in
                let entry = try WireFields(buffer, entryBody, singularMessages: 1 << 1)
                guard !entry.isIrregular else { throw WireIrregularMessage() }
                var scopes: [[UInt8]?] = []
                if let editScope {
                    try entry.forEach(2) { scopeBody in
                        let scopeEntry = try WireFields(buffer, scopeBody, singularMessages: 1 << 1)
                        guard !scopeEntry.isIrregular else { throw WireIrregularMessage() }
                        scopes.append(try editScope(try scopeEntry.message(1)))
                        return true
                    }
                }
                edits.append((try editResource(try entry.message(1)), scopes))
            }
            guard edits.contains(where: { $0.resource != nil || $0.scopes.contains { $0 != nil } }) else { return nil }
            var out = WireWriter()
            out.bytes.reserveCapacity(buffer.count + 64)
            var entryOut = WireWriter(), scopeOut = WireWriter()
            var next = 0
            var reader = WireReader(buffer)
            while !reader.isAtEnd {
                let start = reader.offset
                let (field, wireType) = try reader.tag()
                guard field == 1, wireType == .lengthDelimited else {
                    try reader.skip(wireType)
                    out.bytes.append(bytesOf: buffer[start..<reader.offset])
                    continue
                }
                let entryBody = try reader.lengthDelimited()
                defer { next += 1 }
                let (resource, scopes) = edits[next]
                guard resource != nil || scopes.contains(where: { $0 != nil }) else {
                    out.bytes.append(bytesOf: buffer[start..<reader.offset])
                    continue
                }
                entryOut.bytes.removeAll(keepingCapacity: true)
                var nextScope = 0
                try replaceField1(buffer, entryBody, with: resource, into: &entryOut) { scopeStart, scopeEnd, scopeBody, out in
                    defer { nextScope += 1 }
                    // Without a scope edit there is no entry per scope.
                    guard nextScope < scopes.count, let scope = scopes[nextScope] else {
                        out.bytes.append(bytesOf: buffer[scopeStart..<scopeEnd])
                        return
                    }
                    scopeOut.bytes.removeAll(keepingCapacity: true)
                    try replaceField1(buffer, scopeBody, with: scope, into: &scopeOut) { start, end, _, out in
                        out.bytes.append(bytesOf: buffer[start..<end])
                    }
                    out.lengthDelimited(field: 2, scopeOut.bytes)
                }
                out.lengthDelimited(field: 1, entryOut.bytes)
            }
            return out.bytes
        }
    }

    /// Copies the message in `range` with its field 1 replaced by `replacement` (when given;
    /// written first when the message has none); each length-delimited field 2 goes to `child`
    /// (with where its tag starts, where it ends, and its body).
    private static func replaceField1(
        _ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, with replacement: [UInt8]?, into out: inout WireWriter,
        child: (Int, Int, Range<Int>, inout WireWriter) throws -> Void
    ) throws {
        let start = out.bytes.count
        var written = false
        var reader = WireReader(buffer, range: range)
        while !reader.isAtEnd {
            let fieldStart = reader.offset
            let (field, wireType) = try reader.tag()
            if field == 2, wireType == .lengthDelimited {
                let body = try reader.lengthDelimited()
                try child(fieldStart, reader.offset, body, &out)
                continue
            }
            try reader.skip(wireType)
            if field == 1, wireType == .lengthDelimited, let replacement {
                out.lengthDelimited(field: 1, replacement)
                written = true
            } else {
                out.bytes.append(bytesOf: buffer[fieldStart..<reader.offset])
            }
        }
        if let replacement, !written {
            var first = WireWriter()
            first.lengthDelimited(field: 1, replacement)
            out.bytes.insert(contentsOf: first.bytes, at: start)
        }
    }

    /// Spans and log records are one item each; a metric holds as many as it has points.
    private static func itemCount(_ message: WireMessage, _ buffer: UnsafeRawBufferPointer, _ body: Range<Int>) throws(OTLPDecodingError) -> Int {
        guard message == .metric else { return 1 }
        var reader = WireReader(buffer, range: body)
        return try WireScan.count(.metric, &reader)
    }

    /// Calls `body` with each resource entry (field 1 of the request) in order.
    private static func forEachEntry(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, _ body: (Range<Int>) throws -> Void) throws {
        var reader = WireReader(buffer, range: range)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            guard field == 1, wireType == .lengthDelimited else {
                try reader.skip(wireType)
                continue
            }
            try body(try reader.lengthDelimited())
        }
    }

    /// The decisions of the first pass in walk order: the new body size of each resource entry and
    /// of each scope entry of a kept resource, or `dropped` (`containers`); one decision per item
    /// of a kept scope (`items`). Knowing the sizes, the second pass writes every byte once, in
    /// place, instead of building each scope and entry apart and copying it into its parent.
    private struct Plan {
        static let dropped = -1
        var containers: [Int] = []
        var items: [WireItemDecision] = []
        /// The bodies of `.written` items.
        var bodies = WireWriter()
        var replaced = false
        /// New resources and scopes (field 1 of a container) by container index, and whether the
        /// container had one to replace (else the new one is written first).
        var replacements: [Int: (body: [UInt8], replacesField: Bool)] = [:]
        private var nextContainer = 0
        private var nextItem = 0

        /// Records a container's new field 1 and returns how much it changes the container's size
        /// (the field as received may have written its length in more bytes).
        mutating func replace(field1Of container: WireFields, with body: [UInt8], container index: Int) -> Int {
            let received = container.lastTag(1).map { container.bytesRange(1).upperBound - $0 }
            replacements[index] = (body, received != nil)
            return fieldSize(body.count) - (received ?? 0)
        }

        mutating func write(_ buffer: UnsafeRawBufferPointer) throws(OTLPDecodingError) -> [UInt8] {
            var out = WireWriter()
            out.bytes.reserveCapacity(buffer.count + bodies.bytes.count)
            let bodies = self.bodies
            var reader = WireReader(buffer)
            while !reader.isAtEnd {
                let start = reader.offset
                let (field, wireType) = try reader.tag()
                guard field == 1, wireType == .lengthDelimited else {
                    try reader.skip(wireType)
                    out.bytes.append(bytesOf: buffer[start..<reader.offset])
                    continue
                }
                let entryBody = try reader.lengthDelimited()
                let (entryIndex, entrySize) = takeContainer()
                guard entrySize != Self.dropped else { continue }
                out.header(field: 1, size: entrySize)
                try Self.copy(buffer, entryBody, replacing: replacement(entryIndex), into: &out) { (scopeBody: Range<Int>, out: inout WireWriter) throws(OTLPDecodingError) in
                    let (scopeIndex, scopeSize) = takeContainer()
                    guard scopeSize != Self.dropped else { return }
                    out.header(field: 2, size: scopeSize)
                    try Self.copy(buffer, scopeBody, replacing: replacement(scopeIndex), into: &out) { (itemBody: Range<Int>, out: inout WireWriter) throws(OTLPDecodingError) in
                        switch takeItem() {
                        case .keep: out.lengthDelimited(field: 2, buffer[itemBody])
                        case .drop: break
                        case .written(let range): out.lengthDelimited(field: 2, bodies.bytes[range])
                        }
                    }
                }
            }
            return out.bytes
        }

        private func replacement(_ container: Int) -> (body: [UInt8], replacesField: Bool)? {
            replacements.isEmpty ? nil : replacements[container]
        }

        /// Copies the fields of the message in `range` to `out` in order, except its field 2 (the
        /// scopes of a resource entry, the items of a scope entry), whose values `child` writes,
        /// and its field 1 when `replacing` gives a new one.
        private static func copy(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, replacing first: (body: [UInt8], replacesField: Bool)?,
                                 into out: inout WireWriter,
                                 _ child: (Range<Int>, inout WireWriter) throws(OTLPDecodingError) -> Void) throws(OTLPDecodingError) {
            if let first, !first.replacesField { out.lengthDelimited(field: 1, first.body) }
            var reader = WireReader(buffer, range: range)
            while !reader.isAtEnd {
                let start = reader.offset
                let (field, wireType) = try reader.tag()
                if field == 2, wireType == .lengthDelimited {
                    try child(try reader.lengthDelimited(), &out)
                } else if field == 1, wireType == .lengthDelimited, let first {
                    _ = try reader.lengthDelimited()
                    out.lengthDelimited(field: 1, first.body)
                } else {
                    try reader.skip(wireType)
                    out.bytes.append(bytesOf: buffer[start..<reader.offset])
                }
            }
        }

        /// The next container's index and size.
        private mutating func takeContainer() -> (Int, Int) {
            defer { nextContainer += 1 }
            return (nextContainer, nextContainer < containers.count ? containers[nextContainer] : Self.dropped)
        }

        private mutating func takeItem() -> WireItemDecision {
            defer { nextItem += 1 }
            return nextItem < items.count ? items[nextItem] : .keep
        }
    }
}

extension WireWriter {
    /// The tag and length of a length-delimited field whose body follows.
    @inlinable
    mutating func header(field: UInt64, size: Int) {
        varints(field << 3 | 2, UInt64(size))
    }
}
