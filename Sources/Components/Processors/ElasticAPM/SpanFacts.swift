import OTLP

/// What the `elasticapm` enrichments read from a span's attributes, gathered in one pass over
/// them (decoded or encoded). Keys of semantic conventions 1.12 to 1.39 are read, old and new; of
/// two keys for one fact, the later entry wins unless a comment says otherwise, as in Elastic's
/// processor.
struct SpanFacts {
    var peerService = ""
    var serverAddress = ""
    var serverPort: Int64 = 0
    var url: GoURLHost?
    var urlDomain = ""
    var urlPort: Int64 = 0
    var rpcSystem = ""
    var rpcService = ""
    var grpcStatus = ""
    var dbName = ""
    var dbSystem = ""
    var messagingOperation = ""
    var messagingSystem = ""
    var messagingDestination = ""
    var messagingDestinationTemporary = false
    var genAISystem = ""
    var typeValue = ""
    var transactionType = ""
    var httpStatusCode: Int64 = 0

    var isMessaging = false
    var isRPC = false
    var isHTTP = false
    var isDB = false
    var isGenAI = false

    /// Which of the keys the rules write the span has.
    var present: UInt64 = 0
    /// The first `processor.event` and `event.outcome`, as a lookup finds them.
    var processorEvent: String?
    var outcome: String?

    init() {}

    init(_ attributes: [KeyValue]) {
        for entry in attributes {
            var key = entry.key
            key.withUTF8 { absorb(UnsafeRawBufferPointer($0), entry.value) }
        }
        finish()
    }

    /// The entry's value is read only for a key whose value a rule reads: most entries of a span
    /// are of other keys.
    mutating func absorb<Value: APMValue>(_ key: UnsafeRawBufferPointer, _ readValue: @autoclosure () -> Value) {
        guard let entry = APMKeys.lookup(key) else { return }
        if let written = entry.written { present |= written.bit }
        guard let read = entry.read else { return }
        var value: Value { readValue() }
        switch read {
        case .peerService: peerService = value.stringOrEmpty
        case .serverAddress: serverAddress = value.stringOrEmpty
        case .serverPort: serverPort = value.intOrZero
        // The deprecated keys count only while the current ones are unset.
        case .netPeerName: if serverAddress.isEmpty { serverAddress = value.stringOrEmpty }
        case .netPeerPort: if serverPort == 0 { serverPort = value.intOrZero }
        case .messagingDestination: isMessaging = true; messagingDestination = value.stringOrEmpty
        case .messagingOperation: isMessaging = true; messagingOperation = value.stringOrEmpty
        case .messagingSystem: isMessaging = true; messagingSystem = value.stringOrEmpty
        case .messagingTemporary: isMessaging = true; messagingDestinationTemporary = true
        case .httpStatus: isHTTP = true; httpStatusCode = value.intOrZero
        case .httpOther, .urlOther: isHTTP = true
        case .urlFull: isHTTP = true; url = GoURLHost(value.stringOrEmpty)
        case .urlDomain: isHTTP = true; urlDomain = value.stringOrEmpty
        case .urlPort: isHTTP = true; urlPort = value.intOrZero
        case .grpcStatusCode: isRPC = true; grpcStatus = Self.grpcCodeName(value.intOrZero)
        case .rpcResponseStatus: isRPC = true; grpcStatus = value.stringOrEmpty
        case .rpcSystem: isRPC = true; rpcSystem = value.stringOrEmpty
        // `rpc.method` fills the service too: in semantic conventions 1.39 it holds the fully
        // qualified method, which names the service.
        case .rpcService: isRPC = true; rpcService = value.stringOrEmpty
        case .dbOther: isDB = true
        case .dbName: isDB = true; dbName = value.stringOrEmpty
        case .dbSystem: isDB = true; dbSystem = value.stringOrEmpty
        case .genAISystem: isGenAI = true; genAISystem = value.stringOrEmpty
        case .type: typeValue = value.stringOrEmpty
        case .transactionType: transactionType = value.stringOrEmpty
        case .processorEvent: if processorEvent == nil { processorEvent = value.stringOrEmpty }
        case .eventOutcome: if outcome == nil { outcome = value.stringOrEmpty }
        case .exceptionEscaped, .exceptionType, .exceptionMessage: break
        }
    }

    /// What follows from all the entries together.
    mutating func finish() {
        if rpcSystem.isEmpty, !grpcStatus.isEmpty { rpcSystem = "grpc" }
    }

    func has(_ key: EnrichedKey) -> Bool { present & key.bit != 0 }

    /// `transaction.type`: the span's own `type`, else what its attributes say it is.
    var transactionTypeDerived: String {
        if !typeValue.isEmpty { return typeValue }
        if isMessaging { return "messaging" }
        if isRPC || isHTTP { return "request" }
        return "unknown"
    }

    /// The destination as host[:port]: from the URL, else `url.domain`/`url.port`, else
    /// `server.address`/`server.port`.
    var hostPort: String {
        if let url { return url.host }
        if !urlDomain.isEmpty { return Self.joinHostPort(urlDomain, urlPort) }
        if !serverAddress.isEmpty { return Self.joinHostPort(serverAddress, serverPort) }
        return ""
    }

    private static func joinHostPort(_ host: String, _ port: Int64) -> String {
        guard port != 0 else { return host }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// gRPC's name of a status code, as grpc-go spells it.
    static func grpcCodeName(_ code: Int64) -> String {
        let names = ["OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
                     "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
                     "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"]
        // grpc-go holds codes as uint32: what does not fit is named by its 32-bit pattern.
        let code32 = UInt32(truncatingIfNeeded: code)
        return code32 < names.count ? names[Int(code32)] : "Code(\(code32))"
    }
}
