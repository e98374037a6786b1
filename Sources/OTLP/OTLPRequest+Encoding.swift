import Foundation
import SwiftProtobuf

/// Encoding a decoded request with the resource and scope containers written here.
///
/// swift-protobuf writes a length-delimited field by first computing the size of its message,
/// which computes the sizes of every message inside it; a span's subtree is sized once for each
/// container above it. Written here, the containers are sized from their encoded parts and only
/// the items (and resources and scopes) go through swift-protobuf. The bytes are those
/// swift-protobuf writes: fields in number order, unknown fields last.
extension OTLPRequest {
    public func protobufBytes() -> [UInt8] {
        var out = WireWriter()
        switch self {
        case .traces(let r):
            for entry in r.resourceSpans {
                Self.container(&out, field: 1, entry.hasResource ? entry.resource : nil, entry.scopeSpans, entry.schemaURL, entry.unknownFields) { scope, writer in
                    Self.container(&writer, field: 2, scope.hasScope ? scope.scope : nil, scope.spans, scope.schemaURL, scope.unknownFields) { span, items in
                        Self.message(&items, field: 2, span)
                    }
                }
            }
            out.bytes += r.unknownFields.data
        case .metrics(let r):
            for entry in r.resourceMetrics {
                Self.container(&out, field: 1, entry.hasResource ? entry.resource : nil, entry.scopeMetrics, entry.schemaURL, entry.unknownFields) { scope, writer in
                    Self.container(&writer, field: 2, scope.hasScope ? scope.scope : nil, scope.metrics, scope.schemaURL, scope.unknownFields) { metric, items in
                        Self.message(&items, field: 2, metric)
                    }
                }
            }
            out.bytes += r.unknownFields.data
        case .logs(let r):
            for entry in r.resourceLogs {
                Self.container(&out, field: 1, entry.hasResource ? entry.resource : nil, entry.scopeLogs, entry.schemaURL, entry.unknownFields) { scope, writer in
                    Self.container(&writer, field: 2, scope.hasScope ? scope.scope : nil, scope.logRecords, scope.schemaURL, scope.unknownFields) { record, items in
                        Self.message(&items, field: 2, record)
                    }
                }
            }
            out.bytes += r.unknownFields.data
        }
        return out.bytes
    }

    /// Writes one resource container (field 1 of a request) or scope container (field 2 of a
    /// resource container):
    /// its resource or scope (1), its children (2, written by `child`), its schema URL (3), its
    /// unknown fields.
    private static func container<Head: Message, Child>(_ out: inout WireWriter, field: UInt64, _ head: Head?, _ children: [Child],
                                                        _ schemaURL: String, _ unknown: UnknownStorage,
                                                        _ child: (Child, inout WireWriter) -> Void) {
        var body = WireWriter()
        if let head { message(&body, field: 1, head) }
        for element in children { child(element, &body) }
        if !schemaURL.isEmpty { body.lengthDelimited(field: 3, Array(schemaURL.utf8)) }
        body.bytes += unknown.data
        out.lengthDelimited(field: field, body.bytes)
    }

    private static func message(_ out: inout WireWriter, field: UInt64, _ message: some Message) {
        // Serializing a proto3 message only fails for unset required fields, which proto3 lacks.
        out.lengthDelimited(field: field, (try? message.serializedBytes() as [UInt8]) ?? [])
    }
}
