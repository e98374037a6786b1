import Foundation
import OTLP
import Testing
@testable import Components

/// How the kafka receiver picks a record's pipeline on a topic several signals share.
@Suite struct TopicRoutingTests {
    static func traces() throws -> [UInt8] {
        var batch = traceBatch(spans: 1)
        return batch.encodedParts().flatMap(\.bytes)
    }

    /// One point of a sum, or of a gauge.
    static func metrics(name: String = "requests", gauge: Bool = false) throws -> [UInt8] {
        var point = NumberDataPoint()
        point.asInt = 7
        point.timeUnixNano = 1_700_000_000_000_000_000
        var metric = Metric()
        metric.name = name
        if gauge { metric.gauge.dataPoints = [point] } else { metric.sum.dataPoints = [point] }
        var scope = ScopeMetrics()
        scope.metrics = [metric]
        var resource = ResourceMetrics()
        resource.scopeMetrics = [scope]
        var request = ExportMetricsServiceRequest()
        request.resourceMetrics = [resource]
        return Array(try request.serializedData())
    }

    static func logs() throws -> [UInt8] {
        var record = LogRecord()
        record.timeUnixNano = 1_700_000_000_000_000_000
        record.body.stringValue = "hello"
        record.severityNumber = .info
        var scope = ScopeLogs()
        scope.logRecords = [record]
        var resource = ResourceLogs()
        resource.scopeLogs = [scope]
        var request = ExportLogsServiceRequest()
        request.resourceLogs = [resource]
        return Array(try request.serializedData())
    }

    static let shared = TopicRouting(sources: ["otel-otlp": Signal.allCases.map { .init(signal: $0, encoding: .otlpProto) },
                                               "otlp_spans": [.init(signal: .traces, encoding: .otlpProto)],
                                               "json": [.init(signal: .traces, encoding: .otlpJSON), .init(signal: .logs, encoding: .otlpJSON)],
                                               "mixed": [.init(signal: .traces, encoding: .otlpJSON), .init(signal: .logs, encoding: .otlpProto)]])

    @Test func theSignalHeaderDecides() throws {
        let header = [(name: "otelcol.signal", value: Array("metrics".utf8))]
        #expect(Self.shared.decide(topic: "otel-otlp", value: try Self.traces(), headers: header) == .deliver(.metrics, .otlpProto))
        #expect(Self.shared.decide(topic: "otlp_spans", value: [], headers: header) == .notOurs(.metrics))
        #expect(Self.shared.decide(topic: "mixed", value: [], headers: [(name: "otelcol.signal", value: Array("logs".utf8))]) == .deliver(.logs, .otlpProto))
    }

    @Test func withoutAHeaderTheWireSchemaDecides() throws {
        // The scan that decided also validated and counted: no second one.
        #expect(Self.shared.decide(topic: "otel-otlp", value: try Self.traces(), headers: []) == .deliverValidated(.traces, items: 1))
        #expect(Self.shared.decide(topic: "otel-otlp", value: try Self.metrics(), headers: []) == .deliverValidated(.metrics, items: 1))
        #expect(Self.shared.decide(topic: "otel-otlp", value: try Self.logs(), headers: []) == .deliverValidated(.logs, items: 1))
        // An empty request fits every signal and carries nothing.
        #expect(Self.shared.decide(topic: "otel-otlp", value: [], headers: []) == .ambiguous)
        guard case .poison = Self.shared.decide(topic: "otel-otlp", value: Array("not protobuf at all".utf8), headers: []) else {
            Issue.record("garbage was routed")
            return
        }
    }

    /// A gauge's name, description and gauge message sit where a span keeps its trace id, span id
    /// and name: with a 16-byte name the point fits both schemas, and only the span identifiers tell.
    @Test func aGaugeThatFitsTheSpanSchemaGoesToMetrics() throws {
        let value = try Self.metrics(name: "headerless.gauge", gauge: true)
        #expect(try WireScan.itemCount(.traces, in: value) == 1, "the collision this test is about")
        #expect(Self.shared.decide(topic: "otel-otlp", value: value, headers: []) == .deliverValidated(.metrics, items: 1))
        #expect(Self.shared.decide(topic: "otel-otlp", value: try Self.traces(), headers: []) == .deliverValidated(.traces, items: 1))
    }

    @Test func jsonGoesByItsTopLevelKey() {
        let logs = Array(#"{"resourceLogs":[{"scopeLogs":[]}]}"#.utf8)
        let spans = Array(#"{ "resourceSpans": [] }"#.utf8)
        #expect(Self.shared.decide(topic: "json", value: logs, headers: []) == .deliver(.logs, .otlpJSON))
        #expect(Self.shared.decide(topic: "json", value: spans, headers: []) == .deliver(.traces, .otlpJSON))
        #expect(Self.shared.decide(topic: "json", value: Array(#"{"resourceMetrics":[]}"#.utf8), headers: []) == .notOurs(.metrics))
        #expect(Self.shared.decide(topic: "json", value: Array(#"{"resource_logs":[]}"#.utf8), headers: []) == .deliver(.logs, .otlpJSON))
        // rotel's bare list of resource entries; a key quoted inside a string value does not count.
        let bare = Array(#"[{"resource":{"attributes":[{"key":"note","value":{"stringValue":"see \"scopeLogs\""}}]},"scopeSpans":[]}]"#.utf8)
        #expect(Self.shared.decide(topic: "json", value: bare, headers: []) == .deliver(.traces, .otlpJSON))
    }

    @Test func aTopicOfOneSignalDecodesAsItAndOnlyAFailureIsLookedAtAgain() throws {
        #expect(Self.shared.decide(topic: "otlp_spans", value: try Self.metrics(), headers: []) == .deliver(.traces, .otlpProto))
        #expect(Self.shared.reclassify(topic: "otlp_spans", value: try Self.metrics(), failure: "x") == .notOurs(.metrics))
        #expect(Self.shared.reclassify(topic: "otlp_spans", value: Array("junk".utf8), failure: "bad wire type") == .poison("bad wire type"))
    }

    @Test func severalEncodingsOnOneTopicNeedTheHeader() {
        guard case .poison(let message) = Self.shared.decide(topic: "mixed", value: [], headers: []) else {
            Issue.record("a record of a mixed-encoding topic was routed without a header")
            return
        }
        #expect(message.contains("otelcol.signal"))
    }
}
