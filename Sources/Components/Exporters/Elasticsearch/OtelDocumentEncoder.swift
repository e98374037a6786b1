import Foundation
import OTLP

/// Turns OTLP data into `_bulk` items in the `otel` mapping mode: the document shapes of the Go
/// exporter (dotted attribute keys kept, ids in hex, routing attributes left out), each with an
/// id derived from its content. Items it cannot write are counted by reason, never silently lost.
struct OtelDocumentEncoder: ~Copyable {
    struct Options {
        var contentIDs = true
        /// Elasticsearch's time series data streams make their own ids from the dimensions.
        var metricContentIDs = true
        /// Per-item `dynamic_templates` map metric fields; only Elasticsearch has them.
        var dynamicTemplates = true
        var dynamicLogIDs = false
        var dynamicSpanIDs = false
        var dynamicLogPipelines = false
        var bodymap = false
    }

    let router: DataStreamRouter
    let options: Options
    var body = BulkBody()
    /// Items not written, by reason, with the first explanation seen for each.
    private(set) var dropped: [String: (count: Int, example: String)] = [:]
    var writer = JSONWriter(capacity: 4096)
    var scratch = JSONWriter(capacity: 1024)
    /// Reused by the wire path for every span: its attributes as (key, value) ranges, and the
    /// keys written so far of the attributes object being written.
    var spanAttributes: [(key: Range<Int>, value: Range<Int>?)] = []
    var writtenKeys: [Range<Int>] = []

    init(router: DataStreamRouter, options: Options) {
        self.router = router
        self.options = options
    }

    mutating func drop(_ count: Int = 1, reason: String, _ message: @autoclosure () -> String) {
        if let existing = dropped[reason] {
            dropped[reason] = (existing.count + count, existing.example)
        } else {
            dropped[reason] = (count, message())
        }
    }

    // MARK: Shared parts

    /// `"<epoch ms>.<ns remainder, six digits>"`, the form the otel templates read as date_nanos.
    mutating func timestamp(_ key: StaticString, _ nanoseconds: UInt64) {
        writer.key(key)
        writer.decimalMillionths(nanoseconds)
    }

    mutating func dataStream(_ route: Route) {
        guard let stream = route.dataStream else { return }
        writer.key("data_stream")
        writer.beginObject()
        writer.key("type"); writer.string(stream.type.rawValue)
        writer.key("dataset"); writer.string(stream.dataset)
        writer.key("namespace"); writer.string(stream.namespace)
        writer.endObject()
    }

    mutating func identifier(_ key: StaticString, _ bytes: Data) {
        guard bytes.withUnsafeBytes({ $0.contains { $0 != 0 } }) else { return }
        writer.key(key)
        writer.hex(bytes)
    }

    mutating func count(_ key: StaticString, _ value: UInt32) {
        guard value != 0 else { return }
        writer.key(key)
        writer.uint(UInt64(value))
    }

    mutating func text(_ key: StaticString, _ value: String) {
        guard !value.isEmpty else { return }
        writer.key(key)
        writer.string(value)
    }

    /// An attributes object (omitted when nothing is left to write): routing attributes left out,
    /// the first of duplicate keys kept. Metric documents write map values as JSON strings.
    static func attributes(_ name: StaticString, _ attributes: [KeyValue], into writer: inout JSONWriter,
                           stringifyMaps: Bool = false, extra: (key: String, value: String)? = nil) {
        var opened = false
        var seen: Set<String>? = attributes.count > 8 ? Set() : nil
        for (position, attribute) in attributes.enumerated() {
            if let first = attribute.key.utf8.first, first == UInt8(ascii: "d") || first == UInt8(ascii: "e"),
               RoutingAttribute.excluded.contains(attribute.key) { continue }
            if seen != nil {
                guard seen?.insert(attribute.key).inserted == true else { continue }
            } else if attributes[..<position].contains(where: { $0.key == attribute.key }) {
                continue
            }
            if !opened { writer.key(name); writer.beginObject(); opened = true }
            writer.dynamicKey(attribute.key)
            value(attribute.value, into: &writer, stringifyMaps: stringifyMaps)
        }
        if let extra, !attributes.contains(where: { $0.key == extra.key }) {
            if !opened { writer.key(name); writer.beginObject(); opened = true }
            writer.dynamicKey(extra.key)
            writer.string(extra.value)
        }
        if opened { writer.endObject() }
    }

    /// An OTLP value as JSON: bytes in hex, an empty value as null.
    static func value(_ value: AnyValue, into writer: inout JSONWriter, stringifyMaps: Bool = false) {
        switch value.value {
        case .stringValue(let text): writer.string(text)
        case .boolValue(let flag): writer.bool(flag)
        case .intValue(let number): writer.int(number)
        case .doubleValue(let number): writer.double(number)
        case .bytesValue(let bytes): writer.hex(bytes)
        case .arrayValue(let list):
            writer.beginArray()
            for element in list.values { Self.value(element, into: &writer, stringifyMaps: stringifyMaps) }
            writer.endArray()
        case .kvlistValue(let map):
            if stringifyMaps {
                var nested = JSONWriter()
                Self.map(map.values, into: &nested)
                writer.string(String(decoding: nested.bytes, as: UTF8.self))
            } else {
                Self.map(map.values, into: &writer)
            }
        case nil: writer.null()
        }
    }

    static func map(_ entries: [KeyValue], into writer: inout JSONWriter) {
        writer.beginObject()
        for (position, entry) in entries.enumerated() where !entries[..<position].contains(where: { $0.key == entry.key }) {
            writer.dynamicKey(entry.key)
            value(entry.value, into: &writer)
        }
        writer.endObject()
    }

    /// The `resource` object, the same for every document of a resource, so written once.
    mutating func resourceJSON(_ resource: Resource, schemaURL: String) -> [UInt8] {
        scratch.reset()
        scratch.beginObject()
        if !schemaURL.isEmpty { scratch.key("schema_url"); scratch.string(schemaURL) }
        Self.attributes("attributes", resource.attributes, into: &scratch)
        if resource.droppedAttributesCount != 0 { scratch.key("dropped_attributes_count"); scratch.uint(UInt64(resource.droppedAttributesCount)) }
        scratch.endObject()
        return scratch.bytes
    }

    /// The `scope` object, written once per scope.
    mutating func scopeJSON(_ scope: InstrumentationScope, schemaURL: String) -> [UInt8] {
        scratch.reset()
        scratch.beginObject()
        if !schemaURL.isEmpty { scratch.key("schema_url"); scratch.string(schemaURL) }
        if !scope.name.isEmpty { scratch.key("name"); scratch.string(scope.name) }
        if !scope.version.isEmpty { scratch.key("version"); scratch.string(scope.version) }
        Self.attributes("attributes", scope.attributes, into: &scratch)
        if scope.droppedAttributesCount != 0 { scratch.key("dropped_attributes_count"); scratch.uint(UInt64(scope.droppedAttributesCount)) }
        scratch.endObject()
        return scratch.bytes
    }

    mutating func resourceAndScope(_ resource: [UInt8], _ scope: [UInt8]) {
        writer.key("resource"); writer.raw(resource)
        writer.key("scope"); writer.raw(scope)
    }
}
