/// The attribute keys the `elasticapm` rules read (`ReadKey`) and write (`EnrichedKey`), found
/// from a key's bytes in one table: an encoded span's keys are compared as bytes, without making
/// a string of each.
enum ReadKey: Sendable {
    case peerService, serverAddress, serverPort, netPeerName, netPeerPort
    case messagingDestination, messagingOperation, messagingSystem, messagingTemporary
    case httpStatus, httpOther, urlFull, urlOther, urlDomain, urlPort
    case grpcStatusCode, rpcResponseStatus, rpcSystem, rpcService
    case dbOther, dbName, dbSystem, genAISystem
    case type, transactionType, processorEvent, eventOutcome
    case exceptionEscaped, exceptionType, exceptionMessage
}

/// Every key the rules write; at most 64, so that which of them an item has fits in one word.
enum EnrichedKey: Int, CaseIterable, Sendable {
    case timestampUs, processorEvent
    case transactionSampled, transactionID, transactionRoot, transactionName, transactionRepresentativeCount
    case transactionDurationUs, transactionType, transactionResult, transactionMessageQueueName
    case eventOutcome, eventSuccessCount
    case spanRepresentativeCount, spanAction, spanType, spanSubtype, spanDurationUs, spanMessageQueueName
    case serviceTargetType, serviceTargetName, spanDestinationServiceResource, childID
    case errorID, errorExceptionHandled, errorGroupingKey, errorGroupingName

    var name: String { staticName.description }

    /// The key as bytes in the binary: read for every entry written, without a global's
    /// initialisation check or reference counting.
    var utf8: UnsafeRawBufferPointer {
        let name = staticName
        return UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
    }

    private var staticName: StaticString {
        switch self {
        case .timestampUs: "timestamp.us"
        case .processorEvent: "processor.event"
        case .transactionSampled: "transaction.sampled"
        case .transactionID: "transaction.id"
        case .transactionRoot: "transaction.root"
        case .transactionName: "transaction.name"
        case .transactionRepresentativeCount: "transaction.representative_count"
        case .transactionDurationUs: "transaction.duration.us"
        case .transactionType: "transaction.type"
        case .transactionResult: "transaction.result"
        case .transactionMessageQueueName: "transaction.message.queue.name"
        case .eventOutcome: "event.outcome"
        case .eventSuccessCount: "event.success_count"
        case .spanRepresentativeCount: "span.representative_count"
        case .spanAction: "span.action"
        case .spanType: "span.type"
        case .spanSubtype: "span.subtype"
        case .spanDurationUs: "span.duration.us"
        case .spanMessageQueueName: "span.message.queue.name"
        case .serviceTargetType: "service.target.type"
        case .serviceTargetName: "service.target.name"
        case .spanDestinationServiceResource: "span.destination.service.resource"
        case .childID: "child.id"
        case .errorID: "error.id"
        case .errorExceptionHandled: "error.exception.handled"
        case .errorGroupingKey: "error.grouping_key"
        case .errorGroupingName: "error.grouping_name"
        }
    }

    var bit: UInt64 { 1 << UInt64(rawValue) }
}

enum APMKeys {
    /// What a key is to the rules: read, written, or both.
    struct Entry: Sendable {
        let read: ReadKey?
        let written: EnrichedKey?
    }

    static let read: [(String, ReadKey)] = [
        ("peer.service", .peerService), ("service.peer.name", .peerService), ("server.address", .serverAddress),
        ("server.port", .serverPort), ("net.peer.name", .netPeerName), ("net.peer.port", .netPeerPort),
        ("messaging.destination.name", .messagingDestination), ("messaging.operation", .messagingOperation),
        ("messaging.operation.name", .messagingOperation), ("messaging.system", .messagingSystem),
        ("messaging.destination.temporary", .messagingTemporary),
        ("http.status_code", .httpStatus), ("http.response.status_code", .httpStatus),
        ("http.method", .httpOther), ("http.request.method", .httpOther), ("http.target", .httpOther),
        ("http.scheme", .httpOther), ("http.flavor", .httpOther), ("net.host.name", .httpOther),
        ("url.full", .urlFull), ("http.url", .urlFull), ("url.scheme", .urlOther), ("url.path", .urlOther),
        ("url.query", .urlOther), ("url.domain", .urlDomain), ("url.port", .urlPort),
        ("rpc.grpc.status_code", .grpcStatusCode), ("rpc.response.status_code", .rpcResponseStatus),
        ("rpc.system", .rpcSystem), ("rpc.system.name", .rpcSystem), ("rpc.service", .rpcService), ("rpc.method", .rpcService),
        ("db.statement", .dbOther), ("db.user", .dbOther), ("db.query.text", .dbOther),
        ("db.name", .dbName), ("db.namespace", .dbName), ("db.system", .dbSystem), ("db.system.name", .dbSystem),
        ("gen_ai.system", .genAISystem), ("gen_ai.provider.name", .genAISystem),
        ("type", .type), ("transaction.type", .transactionType), ("processor.event", .processorEvent),
        ("event.outcome", .eventOutcome),
        ("exception.escaped", .exceptionEscaped), ("exception.type", .exceptionType), ("exception.message", .exceptionMessage),
    ]

    static let table: KeyTable<Entry> = {
        var entries: [String: (ReadKey?, EnrichedKey?)] = [:]
        for (key, fact) in read { entries[key, default: (nil, nil)].0 = fact }
        for key in EnrichedKey.allCases { entries[key.name, default: (nil, nil)].1 = key }
        return KeyTable(entries.map { (key: $0.key, value: Entry(read: $0.value.0, written: $0.value.1)) })
    }()

    @inline(__always)
    static func lookup(_ key: UnsafeRawBufferPointer) -> Entry? { table.value(key) }
}
