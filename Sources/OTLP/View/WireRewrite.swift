/// What a walk over an encoded request does with one item.
public enum WireItemDecision {
    case keep
    case drop
    /// The item's new encoding: its body, without tag and length.
    case replace([UInt8])
}

/// A message the wire path would not read as protobuf decoders do (a singular sub-message that
/// appears twice, which decoders merge). The caller takes the decoded path for the batch.
public struct WireIrregularMessage: Error, CustomStringConvertible {
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
    static func itemSingularMessages(_ signal: Signal) -> UInt32 {
        switch signal {
        case .traces: 1 << 15
        case .logs: 1 << 5
        case .metrics: 1 << 5 | 1 << 7 | 1 << 9 | 1 << 10 | 1 << 11
        }
    }

    /// The request with the caller's decisions applied and its item count, or nil when every
    /// decision kept what it was given. `itemCount` is the request's (a batch knows it). Throws what the decisions throw, `WireIrregularMessage`,
    /// or `OTLPDecodingError` for bytes that break the schema (a batch's bytes were validated, so
    /// only a defect gets there).
    public static func rewrite(
        _ signal: Signal, _ bytes: [UInt8], itemCount before: Int, dropsEmpty: Bool = true,
        keepResource: (WireFields) throws -> Bool,
        keepScope: (_ scope: WireFields, _ resource: WireFields) throws -> Bool,
        item: (_ item: WireFields, _ scope: WireFields, _ resource: WireFields) throws -> WireItemDecision
    ) throws -> (bytes: [UInt8], items: Int)? {
        try bytes.withUnsafeBytes { buffer in
            var plan = Plan(dropsEmpty: dropsEmpty)
            let itemMessage: WireMessage = signal == .metrics ? .metric : .span
            var kept = 0
            try forEachEntry(buffer, 0..<buffer.count) { entryBody in
                let entry = try WireFields(buffer, entryBody, singularMessages: 1 << 1)
                guard !entry.isIrregular else { throw WireIrregularMessage() }
                let resource = try entry.message(1)
                let keep = try keepResource(resource)
                plan.containers.append(keep)
                guard keep else { return }
                try entry.forEach(2) { scopeBody in
                    let scopeEntry = try WireFields(buffer, scopeBody, singularMessages: 1 << 1)
                    guard !scopeEntry.isIrregular else { throw WireIrregularMessage() }
                    let scope = try scopeEntry.message(1)
                    let keepScope = try keepScope(scope, resource)
                    plan.containers.append(keepScope)
                    guard keepScope else { return true }
                    try scopeEntry.forEach(2) { itemBody in
                        let fields = try WireFields(buffer, itemBody, singularMessages: itemSingularMessages(signal))
                        guard !fields.isIrregular else { throw WireIrregularMessage() }
                        let decision = try item(fields, scope, resource)
                        switch decision {
                        case .keep: kept += try itemCount(itemMessage, buffer, itemBody)
                        case .drop: break
                        case .replace(let body):
                            plan.replaced = true
                            kept += try body.withUnsafeBytes { try itemCount(itemMessage, $0, 0..<$0.count) }
                        }
                        plan.items.append(decision)
                        return true
                    }
                    return true
                }
            }
            guard plan.replaced || kept != before else { return nil }
            return (try plan.write(buffer, itemMessage), kept)
        }
    }

    /// The request with the resource of each resource entry replaced where `edit` returns a new
    /// encoding (the resource's body), or nil when it returns nil for every entry. Scopes and
    /// items are copied as they are; an entry without a resource gets one when `edit` gives one.
    /// Throws what `edit` throws, `WireIrregularMessage` for an entry with two resources, or
    /// `OTLPDecodingError` for bytes that break the schema.
    public static func rewriteResources(_ bytes: [UInt8], edit: (WireFields) throws -> [UInt8]?) throws -> [UInt8]? {
        try bytes.withUnsafeBytes { buffer in
            var edits: [[UInt8]?] = []
            try forEachEntry(buffer, 0..<buffer.count) { entryBody in
                let entry = try WireFields(buffer, entryBody, singularMessages: 1 << 1)
                guard !entry.isIrregular else { throw WireIrregularMessage() }
                edits.append(try edit(try entry.message(1)))
            }
            guard edits.contains(where: { $0 != nil }) else { return nil }
            var out = WireWriter()
            out.bytes.reserveCapacity(buffer.count + 64)
            var entryOut = WireWriter()
            var next = 0
            var reader = WireReader(buffer)
            while !reader.isAtEnd {
                let start = reader.offset
                let (field, wireType) = try reader.tag()
                guard field == 1, wireType == .lengthDelimited else {
                    try reader.skip(wireType)
                    out.bytes.append(contentsOf: buffer[start..<reader.offset])
                    continue
                }
                let entryBody = try reader.lengthDelimited()
                defer { next += 1 }
                guard let resource = edits[next] else {
                    out.bytes.append(contentsOf: buffer[start..<reader.offset])
                    continue
                }
                entryOut.bytes.removeAll(keepingCapacity: true)
                var written = false
                var entry = WireReader(buffer, range: entryBody)
                while !entry.isAtEnd {
                    let fieldStart = entry.offset
                    let (f, w) = try entry.tag()
                    try entry.skip(w)
                    if f == 1, w == .lengthDelimited {
                        entryOut.lengthDelimited(field: 1, resource)
                        written = true
                    } else {
                        entryOut.bytes.append(contentsOf: buffer[fieldStart..<entry.offset])
                    }
                }
                if !written {
                    var withResource = WireWriter()
                    withResource.lengthDelimited(field: 1, resource)
                    entryOut.bytes.insert(contentsOf: withResource.bytes, at: 0)
                }
                out.lengthDelimited(field: 1, entryOut.bytes)
            }
            return out.bytes
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

    /// The decisions of the first pass in walk order: one per resource and per scope of a kept
    /// resource (`containers`), one per item of a kept scope (`items`).
    private struct Plan {
        let dropsEmpty: Bool
        var containers: [Bool] = []
        var items: [WireItemDecision] = []
        var replaced = false
        private var nextContainer = 0
        private var nextItem = 0

        init(dropsEmpty: Bool) { self.dropsEmpty = dropsEmpty }

        mutating func write(_ buffer: UnsafeRawBufferPointer, _ itemMessage: WireMessage) throws(OTLPDecodingError) -> [UInt8] {
            var out = WireWriter()
            out.bytes.reserveCapacity(buffer.count)
            var entryOut = WireWriter()
            var scopeOut = WireWriter()
            var reader = WireReader(buffer)
            while !reader.isAtEnd {
                let start = reader.offset
                let (field, wireType) = try reader.tag()
                guard field == 1, wireType == .lengthDelimited else {
                    try reader.skip(wireType)
                    out.bytes.append(contentsOf: buffer[start..<reader.offset])
                    continue
                }
                let entryBody = try reader.lengthDelimited()
                guard takeContainer() else { continue }
                entryOut.bytes.removeAll(keepingCapacity: true)
                var scopes = 0
                try Self.copy(buffer, entryBody, into: &entryOut) { (scopeBody: Range<Int>, entryWriter: inout WireWriter) throws(OTLPDecodingError) in
                    guard takeContainer() else { return }
                    scopeOut.bytes.removeAll(keepingCapacity: true)
                    var items = 0
                    try Self.copy(buffer, scopeBody, into: &scopeOut) { (itemBody: Range<Int>, scopeWriter: inout WireWriter) throws(OTLPDecodingError) in
                        switch takeItem() {
                        case .keep:
                            scopeWriter.lengthDelimited(field: 2, buffer[itemBody])
                            items += 1
                        case .drop: break
                        case .replace(let body):
                            scopeWriter.lengthDelimited(field: 2, body)
                            items += 1
                        }
                    }
                    // A scope (or resource) left without items goes, as in the decoded path.
                    guard items > 0 || !dropsEmpty else { return }
                    entryWriter.lengthDelimited(field: 2, scopeOut.bytes)
                    scopes += 1
                }
                if scopes > 0 || !dropsEmpty { out.lengthDelimited(field: 1, entryOut.bytes) }
            }
            return out.bytes
        }

        /// Copies the fields of the message in `range` to `out` in order, except its field 2 (the
        /// scopes of a resource entry, the items of a scope entry), whose values `child` writes.
        private static func copy(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>, into out: inout WireWriter,
                                 _ child: (Range<Int>, inout WireWriter) throws(OTLPDecodingError) -> Void) throws(OTLPDecodingError) {
            var reader = WireReader(buffer, range: range)
            while !reader.isAtEnd {
                let start = reader.offset
                let (field, wireType) = try reader.tag()
                if field == 2, wireType == .lengthDelimited {
                    try child(try reader.lengthDelimited(), &out)
                } else {
                    try reader.skip(wireType)
                    out.bytes.append(contentsOf: buffer[start..<reader.offset])
                }
            }
        }

        private mutating func takeContainer() -> Bool {
            defer { nextContainer += 1 }
            return nextContainer < containers.count && containers[nextContainer]
        }

        private mutating func takeItem() -> WireItemDecision {
            defer { nextItem += 1 }
            return nextItem < items.count ? items[nextItem] : .keep
        }
    }
}
