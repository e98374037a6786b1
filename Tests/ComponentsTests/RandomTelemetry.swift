import Foundation
import OTLP

/// Reproducible random OTLP requests for comparing the encoded and decoded processor paths.
///
/// Values come from small pools so that conditions match some items and not others. Requests are
/// written level by level, so that every message can carry unknown fields (numbers below and above
/// the ones OTLP uses) and containers can be empty or lack their resource or scope.
struct RandomTelemetry {
    private var state: UInt64
    let vocabulary: Vocabulary

    init(seed: UInt64, vocabulary: Vocabulary = .general) {
        state = seed
        self.vocabulary = vocabulary
    }

    /// The pools values are drawn from. Each draw takes one random number whatever the pool's
    /// size, so that every vocabulary gives requests of the same shapes for a seed.
    struct Vocabulary {
        let names: [String]
        let keys: [String]
        let strings: [String]
        let traceStates: [String]
        let flags: [UInt32]

        static let general = Vocabulary(
            names: ["a", "b", "retry", "cache.miss", "internal-job", "GET /orders", "drop.me", "cpu", "", "healthcheck ok"],
            keys: ["http.route", "db.system", "service.name", "host", "url.path", "m", "user_agent.original", "k"],
            strings: ["/health", "/orders/42", "a", "b", "", "/api/v1/checkout", "Mozilla/5.0 " + String(repeating: "x", count: 80)],
            traceStates: ["k=v", "x=y,k=w", "k=v, z=1"], flags: [0, 0x100])

        /// What the elasticapm rules read and write: semantic-convention keys, their own output
        /// keys arriving already set, exception events, child-link markers, sampling thresholds.
        static let apm = Vocabulary(
            names: ["exception", "GET /orders", "", "checkout", "a"],
            keys: ["http.request.method", "http.response.status_code", "url.full", "server.address", "server.port", "db.system",
                   "db.name", "messaging.system", "messaging.destination.name", "messaging.operation", "rpc.system", "rpc.service",
                   "rpc.grpc.status_code", "peer.service", "type", "transaction.type", "processor.event", "event.outcome",
                   "exception.type", "exception.message", "exception.escaped", "is_child", "elastic.is_child", "child.id",
                   "timestamp.us", "transaction.name", "k"],
            strings: ["GET", "https://api.example.com:8443/x?y#z", "http://[::1]:80/", "db.local", "mysql", "orders", "kafka",
                      "transaction", "unknown", "java.io.IOException", "", "a b\u{7}"],
            traceStates: ["ot=th:8", "ot=p:3", "k=v,ot=th:c;rv:0123456789abcd", "ot=th:zz", "ot=p:63"], flags: [0, 0x100, 0x300])
    }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ values: [T]) -> T { values[int(0...values.count - 1)] }


    mutating func anyValue(depth: Int = 0) -> AnyValue {
        switch int(0...(depth > 2 ? 5 : 8)) {
        case 0, 1: return .with { $0.stringValue = pick(vocabulary.strings) }
        case 2: return .with { $0.intValue = Int64(int(-3...3)) * 1_000_000_007 }
        case 3: return .with { $0.doubleValue = Double(int(-100...100)) / 8 }
        case 4: return .with { $0.boolValue = chance(50) }
        case 5: return chance(50) ? .with { $0.bytesValue = Data((0..<int(0...4)).map { _ in UInt8(truncatingIfNeeded: next()) }) } : AnyValue()
        case 6: return .with { $0.arrayValue.values = (0..<int(0...3)).map { _ in anyValue(depth: depth + 1) } }
        default: return .with { $0.kvlistValue.values = attributes(depth: depth + 1) }
        }
    }

    mutating func attributes(depth: Int = 0, upTo count: Int = 6) -> [KeyValue] {
        (0..<int(0...count)).map { _ in
            let key = pick(vocabulary.keys)
            let value = depth == 0 && chance(60) ? .with { $0.stringValue = pick(vocabulary.strings) } : anyValue(depth: depth)
            return KeyValue.with { $0.key = key; $0.value = value }
        }
    }

    mutating func id(_ count: Int) -> Data {
        chance(10) ? Data() : Data((0..<count).map { _ in UInt8(truncatingIfNeeded: next()) })
    }

    /// Fields no OTLP message defines: a varint numbered 19 (inside the range `WireFields` indexes)
    /// and a length-delimited field numbered 99.
    mutating func unknownFields() -> [UInt8] {
        var writer = WireWriter()
        if chance(25) { writer.varint(19 << 3); writer.varint(UInt64(int(0...300))) }
        if chance(25) { writer.lengthDelimited(field: 99, Array("unknown".utf8)) }
        return writer.bytes
    }

    mutating func span() -> [UInt8] {
        let start = UInt64(1_700_000_000_000_000_000) + UInt64(int(0...1000)) * 1_000_000
        let span = Span.with { span in
            span.traceID = id(16)
            span.spanID = id(8)
            if chance(30) { span.parentSpanID = id(8) }
            if chance(30) { span.traceState = pick(vocabulary.traceStates) }
            span.name = pick(vocabulary.names)
            span.kind = .init(rawValue: int(0...5)) ?? .unspecified
            span.startTimeUnixNano = start
            span.endTimeUnixNano = start + UInt64(pick([0, 1_000_000, 600_000_000, 2_000_000_000]))
            span.attributes = attributes()
            span.droppedAttributesCount = UInt32(int(0...1))
            span.events = (0..<int(0...3)).map { _ in
                .with { $0.name = pick(vocabulary.names); $0.timeUnixNano = start + 5; $0.attributes = attributes(upTo: 2) }
            }
            span.links = (0..<int(0...2)).map { _ in .with { $0.traceID = id(16); $0.spanID = id(8); $0.attributes = attributes(upTo: 2) } }
            if chance(70) { span.status = .with { $0.code = .init(rawValue: int(0...2)) ?? .unset; $0.message = pick(["", "boom"]) } }
            span.flags = pick(vocabulary.flags)
        }
        return ((try? span.serializedBytes()) ?? []) + unknownFields()
    }

    mutating func logRecord() -> [UInt8] {
        let record = LogRecord.with { record in
            record.timeUnixNano = UInt64(int(0...1)) * 1_700_000_000_000_000_000
            record.observedTimeUnixNano = 1_700_000_000_000_000_001
            record.severityNumber = .init(rawValue: int(0...24)) ?? .unspecified
            record.severityText = pick(["", "INFO", "ERROR"])
            if chance(80) { record.body = chance(60) ? .with { $0.stringValue = pick(vocabulary.names) } : anyValue() }
            record.attributes = attributes()
            record.traceID = id(16)
            record.spanID = id(8)
            record.flags = UInt32(int(0...1))
            if chance(20) { record.eventName = pick(vocabulary.names) }
        }
        return ((try? record.serializedBytes()) ?? []) + unknownFields()
    }

    mutating func metric() -> [UInt8] {
        func numberPoints(_ generator: inout RandomTelemetry) -> [NumberDataPoint] {
            (0..<generator.int(0...3)).map { _ in
                var point = NumberDataPoint()
                point.attributes = generator.attributes(upTo: 2)
                point.timeUnixNano = 1_700_000_000_000_000_000
                if generator.chance(50) { point.asInt = Int64(generator.int(0...9)) } else { point.asDouble = 0.5 }
                return point
            }
        }
        var metric = Metric()
        metric.name = pick(vocabulary.names)
        metric.unit = pick(["", "1", "ms"])
        if chance(30) { metric.description_p = "about it" }
        switch int(0...5) {
        case 0: metric.gauge.dataPoints = numberPoints(&self)
        case 1:
            metric.sum.dataPoints = numberPoints(&self)
            metric.sum.isMonotonic = chance(50)
            metric.sum.aggregationTemporality = .init(rawValue: int(0...2)) ?? .unspecified
        case 2:
            metric.histogram.aggregationTemporality = .init(rawValue: int(0...2)) ?? .unspecified
            metric.histogram.dataPoints = (0..<int(0...2)).map { _ in .with { $0.count = 3; $0.bucketCounts = [1, 2]; $0.explicitBounds = [1] } }
        case 3:
            metric.exponentialHistogram.aggregationTemporality = .delta
            metric.exponentialHistogram.dataPoints = [.with { $0.count = 1; $0.scale = 2; $0.positive.bucketCounts = [1] }]
        case 4: metric.summary.dataPoints = [.with { $0.count = 2; $0.sum = 3 }]
        default: break
        }
        if chance(20) { metric.metadata = attributes(upTo: 1) }
        return ((try? metric.serializedBytes()) ?? []) + unknownFields()
    }

    /// An export request of the signal: 0–3 resource entries of 0–3 scopes of 0–5 items.
    mutating func request(_ signal: Signal) -> [UInt8] {
        var request = WireWriter()
        for _ in 0..<int(0...3) {
            var entry = WireWriter()
            if chance(85) {
                let resource = Resource.with { $0.attributes = attributes(upTo: 3); $0.droppedAttributesCount = UInt32(int(0...1)) }
                entry.lengthDelimited(field: 1, ((try? resource.serializedBytes()) ?? []) + unknownFields())
            }
            for _ in 0..<int(0...3) {
                var scopeEntry = WireWriter()
                if chance(80) {
                    let scope = InstrumentationScope.with { $0.name = pick(vocabulary.names); $0.version = pick(["", "1"]); $0.attributes = attributes(upTo: 2) }
                    scopeEntry.lengthDelimited(field: 1, ((try? scope.serializedBytes()) ?? []) + unknownFields())
                }
                for _ in 0..<int(0...5) {
                    let item = switch signal {
                    case .traces: span()
                    case .logs: logRecord()
                    case .metrics: metric()
                    }
                    scopeEntry.lengthDelimited(field: 2, item)
                }
                if chance(30) { scopeEntry.lengthDelimited(field: 3, Array("https://schema/1".utf8)) }
                scopeEntry.bytes += unknownFields()
                entry.lengthDelimited(field: 2, scopeEntry.bytes)
            }
            entry.bytes += unknownFields()
            request.lengthDelimited(field: 1, entry.bytes)
        }
        return request.bytes
    }
}
