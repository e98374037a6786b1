import Kafka
import Foundation
import OTLP

/// How one batch becomes Kafka records, following the Go exporter's rules: one record for the
/// batch; or one per trace id (key: the 32-character lowercase hex trace id); or one per resource
/// (key: the resource-attributes hash; or its own topic from `topic_from_attribute`).
///
/// Beyond Go: a record larger than `max_message_bytes` is split along resource, scope and item
/// boundaries until each piece fits; only a single item that is too large on its own is refused.
struct KafkaRecordPlan {
    /// A record to produce (its value as requests written one after another, joined only by the
    /// producer; headers are the exporter's), and how many items it carries.
    struct Record {
        var message: KafkaMessage
        var items: Int

        init(topic: String, key: [UInt8]?, value: [UInt8], items: Int) {
            self.init(topic: topic, key: key, parts: [value], items: items)
        }

        init(topic: String, key: [UInt8]?, parts: [[UInt8]], items: Int) {
            message = KafkaMessage(topic: topic, key: key, valueParts: parts)
            self.items = items
        }
    }

    /// Items no record can carry: counted as dropped with `reason` and logged with `detail`.
    struct Refused {
        var items: Int
        var reason: String
        var detail: String
    }

    let settings: KafkaExporterSettings
    let signal: Signal
    let topic: String
    let encoding: KafkaEncoding
    /// Room for the value once the key and headers are counted.
    let headerBytes: Int

    var budget: Int { settings.producer.max_message_bytes - headerBytes }

    /// Records for the batch, and the items that cannot fit any record.
    func records(for batch: inout TelemetryBatch, messageKey: [UInt8]?) throws(OTLPDecodingError) -> (records: [Record], refused: [Refused]) {
        var records: [Record] = []
        var refused: [Refused] = []
        let byTrace = (signal == .traces && settings.partition_traces_by_id) || (signal == .logs && settings.partition_logs_by_trace_id)
        let byResource = (signal == .metrics && settings.partition_metrics_by_resource_attributes)
            || (signal == .logs && settings.partition_logs_by_resource_attributes)
            || !settings.topic_from_attribute.isEmpty

        if encoding == .raw {
            return rawLogRecords(try batch.model())
        }
        if byTrace, encoding == .otlpProto, !batch.isDecoded, let parts = try WireScan.splitByTraceID(signal, batch.encoded()) {
            // Regrouped as bytes: nothing decoded unless a part is too large for a record.
            for part in parts {
                try fitEncoded(part.bytes, items: part.items, key: traceKey(part.traceID), into: &records, refused: &refused)
            }
        } else if byTrace {
            for (traceID, part) in try batch.model().splitByTraceID() {
                fit(part, topic: topic, key: traceKey([UInt8](traceID)), into: &records, refused: &refused)
            }
        } else if byResource {
            for (resource, part) in try batch.model().splitByResource() {
                let key = byResourceKey ? ResourceAttributesHash.key(resource.attributes) : messageKey
                fit(part, topic: topicFromAttribute(resource) ?? topic, key: key, into: &records, refused: &refused)
            }
        } else if encoding == .otlpProto, !batch.isDecoded {
            // The fast path: the received requests (a batch keeps them apart) are grouped into
            // records that fit; nothing is decoded, scanned or joined here. Only a request too
            // large on its own is cut between resource entries, and only an entry too large on
            // its own is decoded and split further.
            let limit = budget - (messageKey?.count ?? 0)
            var group: [[UInt8]] = []
            var groupBytes = 0
            var groupItems = 0
            func closeGroup() {
                guard !group.isEmpty else { return }
                records.append(Record(topic: topic, key: messageKey, parts: group, items: groupItems))
                (group, groupBytes, groupItems) = ([], 0, 0)
            }
            for part in batch.encodedParts() {
                if part.bytes.count > limit {
                    closeGroup()
                    for piece in try WireScan.pack(signal, part.bytes, limit: limit) {
                        try fitEncoded(piece.bytes, items: piece.items, key: messageKey, into: &records, refused: &refused)
                    }
                    continue
                }
                if groupBytes + part.bytes.count > limit { closeGroup() }
                group.append(part.bytes)
                groupBytes += part.bytes.count
                groupItems += part.items
            }
            closeGroup()
        } else {
            fit(try batch.model(), topic: topic, key: messageKey, into: &records, refused: &refused)
        }
        return (records, refused)
    }

    /// The record key of a trace: its 32-character lowercase hex id. Items without an id get an
    /// empty key (traces) or none (logs), as in the Go exporter.
    private func traceKey(_ traceID: [UInt8]) -> [UInt8]? {
        traceID.isEmpty ? (signal == .traces ? [] : nil) : Array(hexString(traceID).utf8)
    }

    /// Adds encoded bytes as one record when they fit, else decodes and splits them.
    private func fitEncoded(_ bytes: [UInt8], items: Int, key: [UInt8]?, into records: inout [Record], refused: inout [Refused]) throws(OTLPDecodingError) {
        if bytes.count <= budget - (key?.count ?? 0) {
            records.append(Record(topic: topic, key: key, value: bytes, items: items))
        } else {
            fit(try OTLPRequest(signal: signal, protobuf: bytes), topic: topic, key: key, into: &records, refused: &refused)
        }
    }

    private var byResourceKey: Bool {
        (signal == .metrics && settings.partition_metrics_by_resource_attributes)
            || (signal == .logs && settings.partition_logs_by_resource_attributes)
    }

    private func topicFromAttribute(_ resource: Resource) -> String? {
        guard !settings.topic_from_attribute.isEmpty,
              let value = resource.attributes.first(where: { $0.key == settings.topic_from_attribute })?.value,
              case .stringValue(let name)? = value.value, !name.isEmpty else { return nil }
        return name
    }

    private func encode(_ request: OTLPRequest) -> [UInt8] {
        encoding == .otlpJSON ? OTLPJSON.encode(request) : request.protobufBytes()
    }

    /// Adds `request` as one record, or as several halves when its encoding is too large.
    private func fit(_ request: OTLPRequest, topic: String, key: [UInt8]?, into records: inout [Record], refused: inout [Refused]) {
        let items = request.itemCount
        let value = encode(request)
        if value.count <= budget - (key?.count ?? 0) {
            if items > 0 || records.isEmpty { records.append(Record(topic: topic, key: key, value: value, items: items)) }
            return
        }
        guard items > 1 else {
            refused.append(Refused(items: items, reason: "message_too_large",
                                   detail: "a single item encodes to \(value.count) bytes, more than producer.max_message_bytes (\(settings.producer.max_message_bytes))"))
            return
        }
        let (head, tail) = request.split(first: items / 2)
        fit(head, topic: topic, key: key, into: &records, refused: &refused)
        fit(tail, topic: topic, key: key, into: &records, refused: &refused)
    }

    /// `raw` logs: one record per log record holding its body: bytes as they are, anything else
    /// as JSON (a string body becomes a JSON string), as the Go exporter writes them. Records
    /// without a body have nothing to write and are refused.
    private func rawLogRecords(_ request: OTLPRequest) -> (records: [Record], refused: [Refused]) {
        guard case .logs(let logs) = request else { return ([], []) }
        var records: [Record] = []
        var empty = 0
        for resource in logs.resourceLogs {
            for scope in resource.scopeLogs {
                for record in scope.logRecords {
                    guard record.hasBody, record.body.value != nil else {
                        empty += 1
                        continue
                    }
                    let value: [UInt8]
                    if case .bytesValue(let data)? = record.body.value {
                        value = [UInt8](data)
                    } else {
                        value = (try? JSONSerialization.data(withJSONObject: record.body.foundationValue, options: [.fragmentsAllowed, .sortedKeys]))
                            .map { [UInt8]($0) } ?? []
                    }
                    records.append(Record(topic: topic, key: nil, value: value, items: 1))
                }
            }
        }
        let refused = empty == 0 ? [] : [Refused(items: empty, reason: "empty_body", detail: "the raw encoding writes a log record's body and these have none")]
        return (records, refused)
    }
}

extension AnyValue {
    /// The value as Foundation JSON objects (bytes as base64, as protobuf JSON writes them).
    var foundationValue: Any {
        switch value {
        case .stringValue(let s): s
        case .boolValue(let b): b
        case .intValue(let i): i
        case .doubleValue(let d): d
        case .bytesValue(let data): data.base64EncodedString()
        case .arrayValue(let list): list.values.map(\.foundationValue)
        case .kvlistValue(let map): Dictionary(map.values.map { ($0.key, $0.value.foundationValue) }, uniquingKeysWith: { _, last in last })
        case nil: NSNull()
        }
    }
}
