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
        switch self {
        case .traces(let r): Self.encode(r.resourceSpans, r.unknownFields)
        case .metrics(let r): Self.encode(r.resourceMetrics, r.unknownFields)
        case .logs(let r): Self.encode(r.resourceLogs, r.unknownFields)
        }
    }

    private static func encode<R: ResourceEntry>(_ entries: [R], _ unknown: UnknownStorage) -> [UInt8] {
        var out = WireWriter()
        for entry in entries {
            container(&out, field: 1, entry.hasResource ? entry.resource : nil, entry.scopes, entry.schemaURL, entry.unknownFields) { scope, writer in
                container(&writer, field: 2, scope.hasScope ? scope.scope : nil, scope.items, scope.schemaURL, scope.unknownFields) { item, items in
                    message(&items, field: 2, item)
                }
            }
        }
        out.bytes += unknown.data
        return out.bytes
    }

    /// Writes one resource container (field 1 of a request) or scope container (field 2 of a
    /// resource container): its resource or scope (1), its children (2, written by `child`), its
    /// schema URL (3), its unknown fields.
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
