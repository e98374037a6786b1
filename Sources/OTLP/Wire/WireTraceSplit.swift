/// Regrouping encoded traces or logs by trace id without decoding them, for Kafka's
/// one-record-per-trace partitioning. Each part keeps its resources and scopes (copied as bytes)
/// in the order of first appearance; items are moved as their encoded bytes.
extension WireScan {
    public struct TracePart: Sendable {
        public var traceID: [UInt8]
        public var bytes: [UInt8]
        public var items: Int
    }

    /// Parts of a validated traces or logs request, one per trace id (items without one share a
    /// part with an empty id). Metrics have no trace ids: nil.
    public static func splitByTraceID(_ signal: Signal, _ bytes: [UInt8]) throws(OTLPDecodingError) -> [TracePart]? {
        let idField: UInt64
        switch signal {
        case .traces: idField = 1
        case .logs: idField = 9
        case .metrics: return nil
        }
        do {
            return try bytes.withUnsafeBytes { buffer throws(OTLPDecodingError) -> [TracePart] in
                try split(buffer, idField: idField)
            }
        } catch let error as OTLPDecodingError {
            throw error
        } catch {
            throw OTLPDecodingError("\(error)")
        }
    }

    private struct Part {
        var traceID: [UInt8]
        var resources: [ResourceCopy] = []
        var items = 0
    }

    private struct ResourceCopy {
        var envelope: [Range<Int>]
        var scopes: [ScopeCopy] = []
    }

    private struct ScopeCopy {
        var envelope: [Range<Int>]
        var items: [Range<Int>] = []
    }

    private static func split(_ buffer: UnsafeRawBufferPointer, idField: UInt64) throws(OTLPDecodingError) -> [TracePart] {
        var parts: [Part] = []
        var index: [[UInt8]: Int] = [:]
        var top = WireReader(buffer)
        while !top.isAtEnd {
            let (field, wireType) = try top.tag()
            guard field == 1, wireType == .lengthDelimited else { try top.skip(wireType); continue }
            let resourceBody = try top.lengthDelimited()
            // The resource entry's own fields, and its scope entries.
            var resourceEnvelope: [Range<Int>] = []
            var scopes: [Range<Int>] = []
            var reader = WireReader(buffer, range: resourceBody)
            while !reader.isAtEnd {
                let start = reader.offset
                let (f, w) = try reader.tag()
                if f == 2, w == .lengthDelimited { scopes.append(try reader.lengthDelimited()) } else {
                    try reader.skip(w)
                    resourceEnvelope.append(start..<reader.offset)
                }
            }
            // Which part holds this resource's copy, and which scope copy is current in it.
            var placed: [Int: (resource: Int, scope: Int)] = [:]
            for (scopeNumber, scopeBody) in scopes.enumerated() {
                var scopeEnvelope: [Range<Int>] = []
                var items: [(Range<Int>, [UInt8])] = []
                var scopeReader = WireReader(buffer, range: scopeBody)
                while !scopeReader.isAtEnd {
                    let start = scopeReader.offset
                    let (f, w) = try scopeReader.tag()
                    if f == 2, w == .lengthDelimited {
                        let itemBody = try scopeReader.lengthDelimited()
                        items.append((start..<scopeReader.offset, try traceID(of: itemBody, in: buffer, field: idField)))
                    } else {
                        try scopeReader.skip(w)
                        scopeEnvelope.append(start..<scopeReader.offset)
                    }
                }
                for (itemRange, id) in items {
                    let p: Int
                    if let known = index[id] { p = known } else {
                        p = parts.count
                        index[id] = p
                        parts.append(Part(traceID: id))
                    }
                    var slot = placed[p] ?? (resource: -1, scope: -1)
                    if slot.resource < 0 {
                        parts[p].resources.append(ResourceCopy(envelope: resourceEnvelope))
                        slot.resource = parts[p].resources.count - 1
                    }
                    if slot.scope != scopeNumber {
                        parts[p].resources[slot.resource].scopes.append(ScopeCopy(envelope: scopeEnvelope))
                        slot.scope = scopeNumber
                    }
                    placed[p] = slot
                    let last = parts[p].resources[slot.resource].scopes.count - 1
                    parts[p].resources[slot.resource].scopes[last].items.append(itemRange)
                    parts[p].items += 1
                }
            }
        }
        return parts.map { part in
            var writer = WireWriter()
            for resource in part.resources {
                var resourceBody = WireWriter()
                for range in resource.envelope { resourceBody.bytes.append(bytesOf: buffer[range]) }
                for scope in resource.scopes {
                    var scopeBody: [UInt8] = []
                    for range in scope.envelope { scopeBody.append(bytesOf: buffer[range]) }
                    for range in scope.items { scopeBody.append(bytesOf: buffer[range]) }
                    resourceBody.lengthDelimited(field: 2, scopeBody)
                }
                writer.lengthDelimited(field: 1, resourceBody.bytes)
            }
            return TracePart(traceID: part.traceID, bytes: writer.bytes, items: part.items)
        }
    }

    /// The bytes of an item's trace id field (empty when absent).
    private static func traceID(of body: Range<Int>, in buffer: UnsafeRawBufferPointer, field: UInt64) throws(OTLPDecodingError) -> [UInt8] {
        var reader = WireReader(buffer, range: body)
        while !reader.isAtEnd {
            let (f, w) = try reader.tag()
            if f == field, w == .lengthDelimited { return Array(buffer[try reader.lengthDelimited()]) }
            try reader.skip(w)
        }
        return []
    }
}
