import Foundation
import OTLP

/// The span and span event documents of `encode(_: ExportTraceServiceRequest)`, written straight
/// from the encoded request. Building the model for every span was a quarter of the exporter's
/// CPU; here only resources and scopes (once per group) are decoded, and a span that carries
/// routing attributes, or when ids come from attributes, goes through the model path. Both paths
/// write the same bytes, so content ids do not depend on the path (tests compare them).
extension OtelDocumentEncoder {
    /// A string that is not UTF-8: the model decoder refuses the request, and so does this path.
    private struct NotUTF8: Error {}

    /// False when the request cannot be written this way; the caller then decodes it into the
    /// model, whose decoder reports what is wrong with it.
    mutating func encodeTraces(wire bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            do {
                var request = WireReader(raw)
                while !request.isAtEnd {
                    let (field, type) = try request.tag()
                    guard field == 1, type == .lengthDelimited else { try request.skip(type); continue }
                    try encodeResourceSpans(raw, try request.lengthDelimited())
                }
                return true
            } catch {
                return false
            }
        }
    }

    private mutating func encodeResourceSpans(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) throws {
        let group = try Self.group(raw, range)
        let resource = try group.head.map { try Resource(serializedBytes: Array(raw[$0])) } ?? Resource()
        let resourceJSON = resourceJSON(resource, schemaURL: try Self.text(raw, group.schemaURL))
        for scope in group.members {
            try encodeScopeSpans(raw, scope, resource: resource, resourceJSON: resourceJSON)
        }
    }

    private mutating func encodeScopeSpans(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, resource: Resource,
                                           resourceJSON: [UInt8]) throws {
        let group = try Self.group(raw, range)
        let scope = try group.head.map { try InstrumentationScope(serializedBytes: Array(raw[$0])) } ?? InstrumentationScope()
        let scopeJSON = scopeJSON(scope, schemaURL: try Self.text(raw, group.schemaURL))
        let defaults = router.scopeDefaults(scope: scope, resource: resource.attributes)
        let routes = (span: router.route(.traces, record: [], defaults: defaults),
                      event: router.route(.logs, record: [], defaults: defaults))
        for span in group.members {
            // Not `||`: its autoclosure would capture (and copy) the routes for every span.
            let written = options.dynamicSpanIDs ? false : try encodeSpan(raw, span, resource: resourceJSON, scope: scopeJSON, routes: routes)
            if !written {
                let model = try Span(serializedBytes: Array(raw[span]))
                encode(model, resource: resourceJSON, scope: scopeJSON, defaults: defaults)
                for event in model.events {
                    encode(event, of: model, resource: resourceJSON, scope: scopeJSON, defaults: defaults)
                }
            }
        }
    }

    /// ResourceSpans and ScopeSpans share a layout: the resource or scope (1), the repeated
    /// members (2), the schema URL (3).
    private static func group(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) throws
        -> (head: Range<Int>?, members: [Range<Int>], schemaURL: Range<Int>?) {
        var head: Range<Int>?
        var schemaURL: Range<Int>?
        var members: [Range<Int>] = []
        var reader = WireReader(raw, range: range)
        while !reader.isAtEnd {
            let (field, type) = try reader.tag()
            switch (field, type) {
            case (1, .lengthDelimited): head = try reader.lengthDelimited()
            case (2, .lengthDelimited): members.append(try reader.lengthDelimited())
            case (3, .lengthDelimited): schemaURL = try reader.lengthDelimited()
            default: try reader.skip(type)
            }
        }
        return (head, members, schemaURL)
    }

    /// Writes the span's document and its events' documents; false, with nothing written, when
    /// the span or one of its events has an attribute that routes documents or sets their ids or
    /// pipelines, which the model path handles.
    private mutating func encodeSpan(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, resource: [UInt8], scope: [UInt8],
                                     routes: (span: Route, event: Route)) throws -> Bool {
        var traceID: Range<Int>?, spanID: Range<Int>?, traceState: Range<Int>?, parentSpanID: Range<Int>?
        var name: Range<Int>?, status: Range<Int>?
        var kind: UInt64 = 0, start: UInt64 = 0, end: UInt64 = 0
        var droppedAttributes: UInt32 = 0, droppedEvents: UInt32 = 0, droppedLinks: UInt32 = 0
        var events: [Range<Int>] = [], links: [Range<Int>] = []
        spanAttributes.removeAll(keepingCapacity: true)
        var reader = WireReader(raw, range: range)
        while !reader.isAtEnd {
            let (field, type) = try reader.tag()
            switch (field, type) {
            case (9, .lengthDelimited):
                let attribute = try Self.keyValue(raw, try reader.lengthDelimited())
                if Self.isRouting(raw, attribute.key) { return false }
                spanAttributes.append(attribute)
            case (11, .lengthDelimited): events.append(try reader.lengthDelimited())
            case (13, .lengthDelimited): links.append(try reader.lengthDelimited())
            case (1, .lengthDelimited): traceID = try reader.lengthDelimited()
            case (2, .lengthDelimited): spanID = try reader.lengthDelimited()
            case (3, .lengthDelimited): traceState = try reader.lengthDelimited()
            case (4, .lengthDelimited): parentSpanID = try reader.lengthDelimited()
            case (5, .lengthDelimited): name = try reader.lengthDelimited()
            case (6, .varint): kind = try reader.varint()
            case (7, .fixed64): start = try reader.fixed64()
            case (8, .fixed64): end = try reader.fixed64()
            case (10, .varint): droppedAttributes = UInt32(truncatingIfNeeded: try reader.varint())
            case (12, .varint): droppedEvents = UInt32(truncatingIfNeeded: try reader.varint())
            case (14, .varint): droppedLinks = UInt32(truncatingIfNeeded: try reader.varint())
            case (15, .lengthDelimited): status = try reader.lengthDelimited()
            default: try reader.skip(type)
            }
        }
        for event in events where try Self.keyValues(raw, in: event, field: 3).contains(where: { Self.isRouting(raw, $0.key) }) {
            return false
        }
        writer.reset()
        writer.beginObject()
        timestamp("@timestamp", start)
        dataStream(routes.span)
        identifier("trace_id", raw, traceID)
        identifier("span_id", raw, spanID)
        try text("trace_state", raw, traceState)
        identifier("parent_span_id", raw, parentSpanID)
        try text("name", raw, name)
        writer.key("kind")
        writer.string(Span.SpanKind(rawValue: Int(Int32(truncatingIfNeeded: kind)))?.displayName ?? "Unspecified")
        writer.key("duration")
        writer.uint(end >= start ? end - start : 0)
        try attributes("attributes", raw, spanAttributes)
        count("dropped_attributes_count", droppedAttributes)
        count("dropped_events_count", droppedEvents)
        writer.key("links")
        writer.beginArray()
        for link in links { try encodeLink(raw, link) }
        writer.endArray()
        count("dropped_links_count", droppedLinks)
        try encodeStatus(raw, status)
        resourceAndScope(resource, scope)
        writer.endObject()
        body.create(document: writer, route: routes.span, contentID: options.contentIDs)
        for event in events {
            try encodeEvent(raw, event, traceID: traceID, spanID: spanID, resource: resource, scope: scope, route: routes.event)
        }
        return true
    }

    private mutating func encodeLink(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) throws {
        var traceID: Range<Int>?, spanID: Range<Int>?, traceState: Range<Int>?
        var dropped: UInt32 = 0
        var reader = WireReader(raw, range: range)
        while !reader.isAtEnd {
            let (field, type) = try reader.tag()
            switch (field, type) {
            case (1, .lengthDelimited): traceID = try reader.lengthDelimited()
            case (2, .lengthDelimited): spanID = try reader.lengthDelimited()
            case (3, .lengthDelimited): traceState = try reader.lengthDelimited()
            case (5, .varint): dropped = UInt32(truncatingIfNeeded: try reader.varint())
            default: try reader.skip(type)
            }
        }
        writer.beginObject()
        identifier("trace_id", raw, traceID)
        identifier("span_id", raw, spanID)
        try text("trace_state", raw, traceState)
        try attributes("attributes", raw, try Self.keyValues(raw, in: range, field: 4))
        count("dropped_attributes_count", dropped)
        writer.endObject()
    }

    private mutating func encodeStatus(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>?) throws {
        var message: Range<Int>?
        var code: UInt64 = 0
        if let range {
            var reader = WireReader(raw, range: range)
            while !reader.isAtEnd {
                let (field, type) = try reader.tag()
                switch (field, type) {
                case (2, .lengthDelimited): message = try reader.lengthDelimited()
                case (3, .varint): code = try reader.varint()
                default: try reader.skip(type)
                }
            }
        }
        writer.key("status")
        writer.beginObject()
        try text("message", raw, message)
        writer.key("code")
        writer.string(SpanStatus.StatusCode(rawValue: Int(Int32(truncatingIfNeeded: code)))?.displayName ?? "Unset")
        writer.endObject()
    }

    private mutating func encodeEvent(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, traceID: Range<Int>?, spanID: Range<Int>?,
                                      resource: [UInt8], scope: [UInt8], route: Route) throws {
        var time: UInt64 = 0
        var name: Range<Int>?
        var dropped: UInt32 = 0
        var reader = WireReader(raw, range: range)
        while !reader.isAtEnd {
            let (field, type) = try reader.tag()
            switch (field, type) {
            case (1, .fixed64): time = try reader.fixed64()
            case (2, .lengthDelimited): name = try reader.lengthDelimited()
            case (4, .varint): dropped = UInt32(truncatingIfNeeded: try reader.varint())
            default: try reader.skip(type)
            }
        }
        writer.reset()
        writer.beginObject()
        timestamp("@timestamp", time)
        dataStream(route)
        identifier("trace_id", raw, traceID)
        identifier("span_id", raw, spanID)
        count("dropped_attributes_count", dropped)
        try text("event_name", raw, name)
        try attributes("attributes", raw, try Self.keyValues(raw, in: range, field: 3), eventName: name.flatMap { $0.isEmpty ? nil : $0 })
        resourceAndScope(resource, scope)
        writer.endObject()
        body.create(document: writer, route: route, contentID: options.contentIDs)
    }

    // MARK: Fields and values

    private mutating func identifier(_ key: StaticString, _ raw: UnsafeRawBufferPointer, _ range: Range<Int>?) {
        guard let range, raw[range].contains(where: { $0 != 0 }) else { return }
        writer.key(key)
        writer.hex(UnsafeRawBufferPointer(rebasing: raw[range]))
    }

    private mutating func text(_ key: StaticString, _ raw: UnsafeRawBufferPointer, _ range: Range<Int>?) throws {
        guard let range, !range.isEmpty else { return }
        writer.key(key)
        guard writer.string(utf8: UnsafeRawBufferPointer(rebasing: raw[range])) else { throw NotUTF8() }
    }

    private static func text(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>?) throws -> String {
        guard let range else { return "" }
        guard let text = String(validating: raw[range], as: UTF8.self) else { throw NotUTF8() }
        return text
    }

    /// The attributes object of `OtelDocumentEncoder.attributes` from KeyValues given as (key,
    /// value) ranges: the first of duplicate keys kept, omitted when empty. Routing attributes
    /// never get here (such spans take the model path). An event's name is added as `event.name`
    /// unless an attribute has that key.
    private mutating func attributes(_ name: StaticString, _ raw: UnsafeRawBufferPointer,
                                     _ entries: [(key: Range<Int>, value: Range<Int>?)], eventName: Range<Int>? = nil) throws {
        writtenKeys.removeAll(keepingCapacity: true)
        var opened = false
        for (key, value) in entries where !writtenKeys.contains(where: { Self.equal(raw, $0, key) }) {
            writtenKeys.append(key)
            if !opened { writer.key(name); writer.beginObject(); opened = true }
            guard writer.key(utf8: UnsafeRawBufferPointer(rebasing: raw[key])) else { throw NotUTF8() }
            try self.value(raw, value)
        }
        if let eventName, !entries.contains(where: { raw[$0.key].elementsEqual("event.name".utf8) }) {
            if !opened { writer.key(name); writer.beginObject(); opened = true }
            writer.key("event.name")
            guard writer.string(utf8: UnsafeRawBufferPointer(rebasing: raw[eventName])) else { throw NotUTF8() }
        }
        if opened { writer.endObject() }
    }

    /// An AnyValue as `OtelDocumentEncoder.value` writes it; nil (no value) is null.
    private mutating func value(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>?) throws {
        guard let range else { writer.null(); return }
        // A oneof: the last field on the wire is the value.
        var chosen: (field: UInt64, number: UInt64, range: Range<Int>)?
        var reader = WireReader(raw, range: range)
        while !reader.isAtEnd {
            let (field, type) = try reader.tag()
            switch (field, type) {
            case (1, .lengthDelimited), (5, .lengthDelimited), (6, .lengthDelimited), (7, .lengthDelimited):
                chosen = (field, 0, try reader.lengthDelimited())
            case (2, .varint), (3, .varint): chosen = (field, try reader.varint(), 0..<0)
            case (4, .fixed64): chosen = (field, try reader.fixed64(), 0..<0)
            default: try reader.skip(type)
            }
        }
        guard let chosen else { writer.null(); return }
        let bytes = UnsafeRawBufferPointer(rebasing: raw[chosen.range])
        switch chosen.field {
        case 1: guard writer.string(utf8: bytes) else { throw NotUTF8() }
        case 2: writer.bool(chosen.number != 0)
        case 3: writer.int(Int64(bitPattern: chosen.number))
        case 4: writer.double(Double(bitPattern: chosen.number))
        case 5:
            writer.beginArray()
            try Self.forEach(1, in: chosen.range, raw) { element throws in try self.value(raw, element) }
            writer.endArray()
        case 6:
            writer.beginObject()
            var keys: [Range<Int>] = []
            try Self.forEach(1, in: chosen.range, raw) { entry throws in
                let (key, value) = try Self.keyValue(raw, entry)
                guard !keys.contains(where: { Self.equal(raw, $0, key) }) else { return }
                keys.append(key)
                guard self.writer.key(utf8: UnsafeRawBufferPointer(rebasing: raw[key])) else { throw NotUTF8() }
                try self.value(raw, value)
            }
            writer.endObject()
        default: writer.hex(bytes)
        }
    }

    // MARK: Walking the wire

    private static func equal(_ raw: UnsafeRawBufferPointer, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count, let base = raw.baseAddress else { return a.count == b.count }
        return memcmp(base + a.lowerBound, base + b.lowerBound, a.count) == 0
    }

    /// Calls `body` with the range of every length-delimited `field` of the message in `range`.
    private static func forEach(_ field: UInt64, in range: Range<Int>, _ raw: UnsafeRawBufferPointer,
                                _ body: (Range<Int>) throws -> Void) throws {
        var reader = WireReader(raw, range: range)
        while !reader.isAtEnd {
            let (number, type) = try reader.tag()
            guard number == field, type == .lengthDelimited else { try reader.skip(type); continue }
            try body(try reader.lengthDelimited())
        }
    }

    /// A KeyValue's key (empty when absent) and value (nil when absent).
    private static func keyValue(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) throws -> (key: Range<Int>, value: Range<Int>?) {
        var key = range.lowerBound..<range.lowerBound
        var value: Range<Int>?
        var reader = WireReader(raw, range: range)
        while !reader.isAtEnd {
            let (field, type) = try reader.tag()
            switch (field, type) {
            case (1, .lengthDelimited): key = try reader.lengthDelimited()
            case (2, .lengthDelimited): value = try reader.lengthDelimited()
            default: try reader.skip(type)
            }
        }
        return (key, value)
    }

    /// The (key, value) ranges of the KeyValues at `field` of the message in `range`.
    private static func keyValues(_ raw: UnsafeRawBufferPointer, in range: Range<Int>, field: UInt64) throws
        -> [(key: Range<Int>, value: Range<Int>?)] {
        var entries: [(key: Range<Int>, value: Range<Int>?)] = []
        try forEach(field, in: range, raw) { entry throws in entries.append(try keyValue(raw, entry)) }
        return entries
    }

    private static let routingKeys = RoutingAttribute.excluded.map { Array($0.utf8) }

    /// Whether a key routes documents or sets their ids or pipelines (all such keys start with
    /// "d" or "e").
    private static func isRouting(_ raw: UnsafeRawBufferPointer, _ key: Range<Int>) -> Bool {
        guard let first = raw[key].first, first == UInt8(ascii: "d") || first == UInt8(ascii: "e") else { return false }
        return routingKeys.contains { raw[key].elementsEqual($0) }
    }
}
