import Crypto
import Foundation
import OTLP

/// The `elasticapm` processor's span rules: which spans are transactions, and the fields
/// Kibana's APM UI reads on transactions, spans and their events. Every field is added only
/// where the span lacks it, except where a comment says it replaces.
///
/// The rules write through an `APMAttributeSink`, so that the decoded span (`enrich(_:)`) and
/// the encoded one (`SpanEnrichment+Wire.swift`) get the same fields in the same order.
struct SpanEnrichment: Sendable {
    let transaction: ElasticAPMProcessorConfig.TransactionSwitches
    let span: ElasticAPMProcessorConfig.SpanSwitches
    let event: ElasticAPMProcessorConfig.SpanEventSwitches

    /// The span fields the rules read besides its attributes.
    struct Header {
        var start: UInt64 = 0
        var end: UInt64 = 0
        var kind: Span.SpanKind = .unspecified
        var flags: UInt32 = 0
        var status: SpanStatus.StatusCode = .unset
        var parentIsEmpty = true
        var traceState = ""
    }

    /// What a span is to Elastic, decided before any field is written.
    struct Role {
        let isTransaction: Bool
        /// A local root that calls out (client or producer): a transaction that also gets the
        /// span fields, since it is the only record of the call.
        let isExitRoot: Bool
        let representativeCount: Double
        var getsSpanFields: Bool { !isTransaction || isExitRoot }
    }

    func role(_ header: Header, _ facts: SpanFacts) -> Role {
        let isTransaction = Self.isTransaction(header, facts)
        return Role(isTransaction: isTransaction,
                    isExitRoot: isTransaction && (header.kind == .client || header.kind == .producer),
                    representativeCount: RepresentativeCount.of(traceState: header.traceState))
    }

    /// A span is a transaction when it says so (`processor.event`), has no parent, or its parent
    /// is remote; without the remote flag, server and consumer spans are.
    static func isTransaction(_ header: Header, _ facts: SpanFacts) -> Bool {
        if facts.processorEvent == "transaction" { return true }
        if header.parentIsEmpty { return true }
        if header.flags & 0x100 == 0 { return header.kind == .server || header.kind == .consumer }
        return header.flags & 0x200 != 0
    }

    /// Whether links marked as children become `child.id` (and leave the span).
    func movesChildLinks(_ role: Role, _ facts: SpanFacts) -> Bool {
        guard !facts.has(.childID) else { return false }
        return (role.isTransaction && transaction.inferred_spans.enabled) || (role.getsSpanFields && span.inferred_spans.enabled)
    }

    /// The span's fields, in the order Elastic's processor adds them. `childIDs` are the links
    /// taken as children; `name` is read only for transactions.
    func write<Sink: APMAttributeSink>(_ sink: inout Sink, _ header: Header, _ facts: SpanFacts, _ role: Role,
                                       childIDs: [String], name: () -> String, spanID: UnsafeRawBufferPointer) {
        let count = role.representativeCount
        if role.isTransaction {
            let config = transaction
            if config.timestamp_us.enabled { sink.insert(.timestampUs, .intValue(Self.microseconds(header.start))) }
            if config.sampled.enabled { sink.insert(.transactionSampled, .boolValue(true)) }
            if config.id.enabled, !sink.has(.transactionID) { sink.append(.transactionID, hexID: spanID) }
            if config.root.enabled { sink.insert(.transactionRoot, .boolValue(header.parentIsEmpty)) }
            if config.name.enabled { let text = name(); if !text.isEmpty { sink.insert(.transactionName, .stringValue(text)) } }
            if config.processor_event.enabled { sink.insert(.processorEvent, .stringValue("transaction")) }
            if config.representative_count.enabled { sink.insert(.transactionRepresentativeCount, .doubleValue(count)) }
            if config.duration_us.enabled { sink.insert(.transactionDurationUs, .intValue(Self.durationMicroseconds(header))) }
            if config.type.enabled { sink.insert(.transactionType, .stringValue(facts.transactionTypeDerived)) }
            if config.result.enabled { sink.insert(.transactionResult, .stringValue(Self.result(facts, header.status))) }
            if config.event_outcome.enabled { Self.writeOutcome(&sink, facts, header.status, count) }
            if config.inferred_spans.enabled { Self.writeChildIDs(&sink, childIDs) }
            if config.message_queue_name.enabled, !facts.messagingDestination.isEmpty {
                sink.insert(.transactionMessageQueueName, .stringValue(facts.messagingDestination))
            }
            if config.remove_messaging.enabled, facts.isMessaging { sink.removeMessagingKeys() }
        }
        guard role.getsSpanFields else { return }
        let config = span
        var type = "", subtype = ""
        if config.timestamp_us.enabled { sink.insert(.timestampUs, .intValue(Self.microseconds(header.start))) }
        if config.representative_count.enabled { sink.insert(.spanRepresentativeCount, .doubleValue(count)) }
        if config.action.enabled, !facts.messagingOperation.isEmpty { sink.insert(.spanAction, .stringValue(facts.messagingOperation)) }
        if config.type_subtype.enabled {
            (type, subtype) = Self.typeAndSubtype(facts, header.kind)
            sink.insert(.spanType, .stringValue(type))
            if !subtype.isEmpty { sink.insert(.spanSubtype, .stringValue(subtype)) }
        }
        if config.event_outcome.enabled { Self.writeOutcome(&sink, facts, header.status, count) }
        if config.duration_us.enabled { sink.insert(.spanDurationUs, .intValue(Self.durationMicroseconds(header))) }
        if config.service_target.enabled { Self.writeServiceTarget(&sink, facts) }
        if config.destination_service.enabled, let resource = Self.destinationResource(facts) {
            sink.insert(.spanDestinationServiceResource, .stringValue(resource))
        }
        if config.inferred_spans.enabled { Self.writeChildIDs(&sink, childIDs) }
        if config.processor_event.enabled, !role.isExitRoot { sink.insert(.processorEvent, .stringValue("span")) }
        if config.message_queue_name.enabled, !facts.messagingDestination.isEmpty {
            sink.insert(role.isTransaction ? .transactionMessageQueueName : .spanMessageQueueName, .stringValue(facts.messagingDestination))
        }
        if config.remove_messaging.enabled, facts.isMessaging { sink.removeMessagingKeys() }
        // An exit root's type names the call it makes, unless the input gave one.
        if role.isExitRoot, transaction.type.enabled, facts.typeValue.isEmpty, facts.transactionType.isEmpty, !type.isEmpty {
            sink.replace(.transactionType, string: subtype.isEmpty ? type : "\(type).\(subtype)")
        }
    }

    /// An event's fields: the time for every event; for an exception with a type or message, the
    /// error fields, and on a transaction its sampling and type.
    func writeEvent<Sink: APMAttributeSink>(_ sink: inout Sink, time: UInt64, _ facts: EventFacts, transactionType: String?) {
        let config = event
        if config.timestamp_us.enabled { sink.insert(.timestampUs, .intValue(Self.microseconds(time))) }
        if config.processor_event.enabled, facts.isException { sink.insert(.processorEvent, .stringValue("error")) }
        guard facts.isException, !facts.type.isEmpty || !facts.message.isEmpty else { return }
        if config.error_id.enabled { sink.insert(.errorID, .stringValue(Self.randomErrorID())) }
        if config.error_exception_handled.enabled { sink.insert(.errorExceptionHandled, .boolValue(!facts.escaped)) }
        if config.error_grouping_key.enabled {
            let digest = Insecure.MD5.hash(data: Array((facts.type.isEmpty ? facts.message : facts.type).utf8))
            sink.insert(.errorGroupingKey, .stringValue(hexString(digest)))
        }
        if config.error_grouping_name.enabled, !facts.message.isEmpty { sink.insert(.errorGroupingName, .stringValue(facts.message)) }
        if let transactionType {
            if config.transaction_sampled.enabled { sink.insert(.transactionSampled, .boolValue(true)) }
            if config.transaction_type.enabled { sink.insert(.transactionType, .stringValue(transactionType)) }
        }
    }

    // MARK: The rules

    /// `transaction.result`: the HTTP status class, else the gRPC status, else the span status.
    static func result(_ facts: SpanFacts, _ status: SpanStatus.StatusCode) -> String {
        var result = ""
        if facts.isHTTP, facts.httpStatusCode > 0 {
            let group = facts.httpStatusCode / 100
            switch group {
            case 1: result = "HTTP 1xx"
            case 2: result = "HTTP 2xx"
            case 3: result = "HTTP 3xx"
            case 4: result = "HTTP 4xx"
            case 5: result = "HTTP 5xx"
            default: result = "HTTP \(facts.httpStatusCode)"
            }
        }
        if facts.isRPC { result = facts.grpcStatus }
        if result.isEmpty { result = status == .error ? "Error" : "Success" }
        return result
    }

    /// `event.outcome` and `event.success_count`, unless the outcome is already `unknown`.
    static func writeOutcome<Sink: APMAttributeSink>(_ sink: inout Sink, _ facts: SpanFacts, _ status: SpanStatus.StatusCode, _ count: Double) {
        if facts.outcome == "unknown" { return }
        let failed = status == .error || (status != .ok && facts.httpStatusCode >= 500)
        sink.insert(.eventOutcome, .stringValue(failed ? "failure" : "success"))
        sink.insert(.eventSuccessCount, .intValue(failed ? 0 : Int64(count)))
    }

    static func typeAndSubtype(_ facts: SpanFacts, _ kind: Span.SpanKind) -> (String, String) {
        if facts.isDB { return ("db", facts.dbSystem) }
        if facts.isMessaging { return ("messaging", facts.messagingSystem) }
        if facts.isRPC { return ("external", facts.rpcSystem) }
        if facts.isHTTP { return ("external", "http") }
        if facts.isGenAI { return ("genai", facts.genAISystem) }
        return kind == .internal ? ("app", "internal") : ("unknown", "")
    }

    /// `service.target.type` and `.name`, both written when either is known.
    static func writeServiceTarget<Sink: APMAttributeSink>(_ sink: inout Sink, _ facts: SpanFacts) {
        var type = "", name = facts.peerService
        if facts.isDB {
            type = facts.dbSystem.isEmpty ? "db" : facts.dbSystem
            if !facts.dbName.isEmpty { name = facts.dbName }
        } else if facts.isMessaging {
            type = facts.messagingSystem.isEmpty ? "messaging" : facts.messagingSystem
            if !facts.messagingDestinationTemporary, !facts.messagingDestination.isEmpty { name = facts.messagingDestination }
        } else if facts.isRPC {
            type = facts.rpcSystem.isEmpty ? "external" : facts.rpcSystem
            if !facts.rpcService.isEmpty { name = facts.rpcService }
        } else if facts.isHTTP {
            type = "http"
            let hostPort = facts.hostPort
            if !hostPort.isEmpty { name = hostPort }
        }
        guard !type.isEmpty || !name.isEmpty else { return }
        sink.insert(.serviceTargetType, .stringValue(type))
        sink.insert(.serviceTargetName, .stringValue(name))
    }

    /// `span.destination.service.resource`: `peer.service`, else what the call reaches.
    static func destinationResource(_ facts: SpanFacts) -> String? {
        var resource = facts.peerService
        if facts.isDB {
            if resource.isEmpty { resource = facts.dbSystem }
        } else if facts.isMessaging {
            if resource.isEmpty { resource = facts.messagingSystem }
            // A temporary destination still counts here, unlike for service.target.
            if !resource.isEmpty, !facts.messagingDestination.isEmpty { resource += "/" + facts.messagingDestination }
        } else if facts.isRPC || facts.isHTTP {
            if resource.isEmpty {
                let hostPort = facts.hostPort
                resource = hostPort.isEmpty ? facts.rpcService : hostPort
            }
        }
        return resource.isEmpty ? nil : resource
    }

    static func writeChildIDs<Sink: APMAttributeSink>(_ sink: inout Sink, _ ids: [String]) {
        guard !ids.isEmpty else { return }
        sink.insert(.childID, .arrayValue(.with { $0.values = ids.map { id in .with { $0.stringValue = id } } }))
    }

    /// The messaging keys the rules read, which leave a messaging span once read (the first
    /// entry of each, as a map's remove takes it).
    static let messagingKeys = ["messaging.operation", "messaging.operation.name", "messaging.system", "messaging.destination.name"]

    /// Whether a link is marked as a child: its first `is_child` or `elastic.is_child` entry is
    /// true and it names a span.
    static func isChildLink<Value: APMValue>(marker: Value?, spanIDIsEmpty: Bool) -> Bool {
        guard let marker, !spanIDIsEmpty else { return false }
        return marker.boolOrFalse
    }

    // MARK: Values

    static func isEmptyID(_ id: some Collection<UInt8>) -> Bool { id.allSatisfy { $0 == 0 } }

    /// An ID as pdata prints it: lowercase hex, "" for the empty ID.
    static func hexID(_ id: some Collection<UInt8>) -> String { isEmptyID(id) ? "" : hexString(id) }

    static func microseconds(_ nanoseconds: UInt64) -> Int64 { Int64(nanoseconds / 1000) }

    /// Go's `int64(end-start) / 1000` on unsigned times: an end before the start wraps, then
    /// reads as negative.
    static func durationMicroseconds(_ header: Header) -> Int64 {
        Int64(bitPattern: header.end &- header.start) / 1000
    }

    static func randomErrorID() -> String {
        var generator = SystemRandomNumberGenerator()
        return hexString((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}

/// What the event rules read from an event's attributes (the last entry of each key), and which
/// of the written keys it has.
struct EventFacts {
    var isException = false
    var escaped = false
    var type = ""
    var message = ""
    var present: UInt64 = 0

    init(isException: Bool) { self.isException = isException }

    mutating func absorb<Value: APMValue>(_ key: UnsafeRawBufferPointer, _ value: Value) {
        guard let entry = APMKeys.lookup(key) else { return }
        if let written = entry.written { present |= written.bit }
        guard isException else { return }
        switch entry.read {
        case .exceptionEscaped?: escaped = value.boolOrFalse
        case .exceptionType?: type = value.stringOrEmpty
        case .exceptionMessage?: message = value.stringOrEmpty
        default: break
        }
    }
}
