/// The OTLP message types as the wire scanner sees them: which fields hold which sub-messages,
/// and which messages are the signal's items. Field numbers are those of proto/.
enum WireMessage: UInt8, CaseIterable, Sendable {
    case exportTraces, resourceSpans, scopeSpans, span, spanEvent, spanLink, spanStatus
    case exportMetrics, resourceMetrics, scopeMetrics, metric, gauge, sum, histogram
    case exponentialHistogram, summary, numberPoint, histogramPoint, exponentialPoint
    case exponentialBuckets, summaryPoint, quantile, exemplar
    case exportLogs, resourceLogs, scopeLogs, logRecord
    case resource, scope, keyValue, anyValue, arrayValue, keyValueList, entityRef

    static func request(for signal: Signal) -> WireMessage {
        switch signal {
        case .traces: .exportTraces
        case .metrics: .exportMetrics
        case .logs: .exportLogs
        }
    }

    /// True for the messages counted as items: spans, data points, log records.
    var isItem: Bool {
        switch self {
        case .span, .logRecord, .numberPoint, .histogramPoint, .exponentialPoint, .summaryPoint: true
        default: false
        }
    }

    /// The message's name in the OTLP protos, for error messages.
    var name: String {
        switch self {
        case .exportTraces: "ExportTraceServiceRequest"
        case .exportMetrics: "ExportMetricsServiceRequest"
        case .exportLogs: "ExportLogsServiceRequest"
        case .spanEvent: "Span.Event"
        case .spanLink: "Span.Link"
        case .spanStatus: "Status"
        case .numberPoint: "NumberDataPoint"
        case .histogramPoint: "HistogramDataPoint"
        case .exponentialPoint: "ExponentialHistogramDataPoint"
        case .exponentialBuckets: "ExponentialHistogramDataPoint.Buckets"
        case .summaryPoint: "SummaryDataPoint"
        case .quantile: "SummaryDataPoint.ValueAtQuantile"
        case .scope: "InstrumentationScope"
        default:
            // The remaining cases are the proto names in lower camel case.
            String("\(self)".prefix(1).uppercased() + "\(self)".dropFirst())
        }
    }

    /// True for the containers between a request and its items (the only messages a count
    /// without validation needs to enter).
    var leadsToItems: Bool {
        switch self {
        case .exportTraces, .resourceSpans, .scopeSpans, .exportMetrics, .resourceMetrics, .scopeMetrics, .metric,
             .gauge, .sum, .histogram, .exponentialHistogram, .summary, .exportLogs, .resourceLogs, .scopeLogs: true
        default: false
        }
    }

    /// What a field of this message must look like on the wire; nil for fields OTLP does not
    /// define here, which are skipped as unknown fields.
    func field(_ number: UInt64) -> WireFieldKind? {
        switch (self, number) {
        // Requests and the resource / scope containers.
        case (.exportTraces, 1): .message(.resourceSpans)
        case (.exportMetrics, 1): .message(.resourceMetrics)
        case (.exportLogs, 1): .message(.resourceLogs)
        case (.resourceSpans, 1), (.resourceMetrics, 1), (.resourceLogs, 1): .message(.resource)
        case (.resourceSpans, 2): .message(.scopeSpans)
        case (.resourceMetrics, 2): .message(.scopeMetrics)
        case (.resourceLogs, 2): .message(.scopeLogs)
        case (.resourceSpans, 3), (.resourceMetrics, 3), (.resourceLogs, 3): .bytes
        case (.scopeSpans, 1), (.scopeMetrics, 1), (.scopeLogs, 1): .message(.scope)
        case (.scopeSpans, 2): .message(.span)
        case (.scopeMetrics, 2): .message(.metric)
        case (.scopeLogs, 2): .message(.logRecord)
        case (.scopeSpans, 3), (.scopeMetrics, 3), (.scopeLogs, 3): .bytes
        // Common.
        case (.resource, 1): .message(.keyValue)
        case (.resource, 2): .scalar(.varint)
        case (.resource, 3): .message(.entityRef)
        case (.entityRef, 1...4): .bytes
        case (.scope, 1), (.scope, 2): .bytes
        case (.scope, 3): .message(.keyValue)
        case (.scope, 4): .scalar(.varint)
        case (.keyValue, 1): .bytes
        case (.keyValue, 2): .message(.anyValue)
        case (.anyValue, 1), (.anyValue, 7): .bytes
        case (.anyValue, 2), (.anyValue, 3): .scalar(.varint)
        case (.anyValue, 4): .scalar(.fixed64)
        case (.anyValue, 5): .message(.arrayValue)
        case (.anyValue, 6): .message(.keyValueList)
        case (.arrayValue, 1): .message(.anyValue)
        case (.keyValueList, 1): .message(.keyValue)
        // Traces.
        case (.span, 1), (.span, 2), (.span, 3), (.span, 4), (.span, 5): .bytes
        case (.span, 6), (.span, 10), (.span, 12), (.span, 14): .scalar(.varint)
        case (.span, 7), (.span, 8): .scalar(.fixed64)
        case (.span, 9): .message(.keyValue)
        case (.span, 11): .message(.spanEvent)
        case (.span, 13): .message(.spanLink)
        case (.span, 15): .message(.spanStatus)
        case (.span, 16): .scalar(.fixed32)
        case (.spanEvent, 1): .scalar(.fixed64)
        case (.spanEvent, 2): .bytes
        case (.spanEvent, 3): .message(.keyValue)
        case (.spanEvent, 4): .scalar(.varint)
        case (.spanLink, 1), (.spanLink, 2), (.spanLink, 3): .bytes
        case (.spanLink, 4): .message(.keyValue)
        case (.spanLink, 5): .scalar(.varint)
        case (.spanLink, 6): .scalar(.fixed32)
        case (.spanStatus, 2): .bytes
        case (.spanStatus, 3): .scalar(.varint)
        // Metrics.
        case (.metric, 1), (.metric, 2), (.metric, 3): .bytes
        case (.metric, 5): .message(.gauge)
        case (.metric, 7): .message(.sum)
        case (.metric, 9): .message(.histogram)
        case (.metric, 10): .message(.exponentialHistogram)
        case (.metric, 11): .message(.summary)
        case (.metric, 12): .message(.keyValue)
        case (.gauge, 1), (.sum, 1): .message(.numberPoint)
        case (.sum, 2), (.sum, 3), (.histogram, 2), (.exponentialHistogram, 2): .scalar(.varint)
        case (.histogram, 1): .message(.histogramPoint)
        case (.exponentialHistogram, 1): .message(.exponentialPoint)
        case (.summary, 1): .message(.summaryPoint)
        case (.numberPoint, 7): .message(.keyValue)
        case (.numberPoint, 2), (.numberPoint, 3), (.numberPoint, 4), (.numberPoint, 6): .scalar(.fixed64)
        case (.numberPoint, 5): .message(.exemplar)
        case (.numberPoint, 8): .scalar(.varint)
        case (.histogramPoint, 9): .message(.keyValue)
        case (.histogramPoint, 2), (.histogramPoint, 3), (.histogramPoint, 4), (.histogramPoint, 5),
             (.histogramPoint, 11), (.histogramPoint, 12): .scalar(.fixed64)
        case (.histogramPoint, 6), (.histogramPoint, 7): .packable(.fixed64)
        case (.histogramPoint, 8): .message(.exemplar)
        case (.histogramPoint, 10): .scalar(.varint)
        case (.exponentialPoint, 1): .message(.keyValue)
        case (.exponentialPoint, 2), (.exponentialPoint, 3), (.exponentialPoint, 4), (.exponentialPoint, 5),
             (.exponentialPoint, 7), (.exponentialPoint, 12), (.exponentialPoint, 13),
             (.exponentialPoint, 14): .scalar(.fixed64)
        case (.exponentialPoint, 6), (.exponentialPoint, 10): .scalar(.varint)
        case (.exponentialPoint, 8), (.exponentialPoint, 9): .message(.exponentialBuckets)
        case (.exponentialPoint, 11): .message(.exemplar)
        case (.exponentialBuckets, 1): .scalar(.varint)
        case (.exponentialBuckets, 2): .packable(.varint)
        case (.summaryPoint, 7): .message(.keyValue)
        case (.summaryPoint, 2), (.summaryPoint, 3), (.summaryPoint, 4), (.summaryPoint, 5): .scalar(.fixed64)
        case (.summaryPoint, 6): .message(.quantile)
        case (.summaryPoint, 8): .scalar(.varint)
        case (.quantile, 1), (.quantile, 2): .scalar(.fixed64)
        case (.exemplar, 7): .message(.keyValue)
        case (.exemplar, 2), (.exemplar, 3), (.exemplar, 6): .scalar(.fixed64)
        case (.exemplar, 4), (.exemplar, 5): .bytes
        // Logs.
        case (.logRecord, 1), (.logRecord, 11): .scalar(.fixed64)
        case (.logRecord, 2), (.logRecord, 7): .scalar(.varint)
        case (.logRecord, 3), (.logRecord, 9), (.logRecord, 10), (.logRecord, 12): .bytes
        case (.logRecord, 5): .message(.anyValue)
        case (.logRecord, 6): .message(.keyValue)
        case (.logRecord, 8): .scalar(.fixed32)
        default: nil
        }
    }
}

enum WireFieldKind: Sendable {
    /// A sub-message, validated recursively.
    case message(WireMessage)
    /// A string or bytes field.
    case bytes
    /// A single scalar of this wire type.
    case scalar(WireType)
    /// A repeated scalar, accepted both packed and one element per tag.
    case packable(WireType)
}

/// `WireMessage.field` as a flat table of one byte per (message, field number below 32), built
/// once: the scanner's inner loop indexes it instead of running the switch for every field.
enum WireFieldCodes {
    static let unknown: UInt8 = 0
    static let bytes: UInt8 = 1
    static let varint: UInt8 = 2
    static let fixed64: UInt8 = 3
    static let fixed32: UInt8 = 4
    static let packedFixed64: UInt8 = 5
    static let packedVarint: UInt8 = 6
    /// Set for sub-messages; the low bits are the child's raw value.
    static let message: UInt8 = 0x80

    static let fieldsPerMessage = 32

    static let table: [UInt8] = {
        var table = [UInt8](repeating: unknown, count: WireMessage.allCases.count * fieldsPerMessage)
        for parent in WireMessage.allCases {
            for number in 1..<fieldsPerMessage {
                let code: UInt8
                switch parent.field(UInt64(number)) {
                case nil: code = unknown
                case .message(let child): code = message | child.rawValue
                case .bytes: code = bytes
                case .scalar(.fixed64): code = fixed64
                case .scalar(.fixed32): code = fixed32
                case .scalar: code = varint
                case .packable(.fixed64): code = packedFixed64
                case .packable: code = packedVarint
                }
                table[Int(parent.rawValue) * fieldsPerMessage + number] = code
            }
        }
        return table
    }()

    /// True at the raw values of the messages counted as items.
    static let items: [Bool] = WireMessage.allCases.map(\.isItem)
}
