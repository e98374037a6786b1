import Crypto
import Foundation
import OTLP
import Pipeline
import Testing
@testable import Components

/// The `elasticapm` processor against the golden cases of Elastic's repository
/// (processor/elasticapmprocessor/testdata/elastic_{txn,span}_{http,db,messaging}): the same
/// input spans, and the fields the current rules add, written here as attribute tables.
@Suite struct ElasticAPMProcessorTests {
    typealias Value = AnyValue.OneOf_Value

    static let start: UInt64 = 1_581_452_772_000_000_321
    static let end: UInt64 = 1_581_452_773_000_000_789
    static let eventTime: UInt64 = 1_581_452_773_000_000_123
    static let spanID = Data([0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x00])
    static let parentID = Data([0xbc, 0xff, 0x49, 0x7b, 0x5a, 0x47, 0x31, 0x0f])

    /// The golden files' span: three events, the given attributes and parent.
    static func goldenSpan(_ name: String, parent: Data, _ attributes: [(String, Value)]) -> Span {
        .with {
            $0.name = name
            $0.traceID = Data((0..<16).map { UInt8($0 * 17) })
            $0.spanID = spanID
            $0.parentSpanID = parent
            $0.startTimeUnixNano = start
            $0.endTimeUnixNano = end
            $0.attributes = attributes.map { kv($0.0, $0.1) }
            $0.events = [
                .with { $0.name = "event1"; $0.timeUnixNano = eventTime; $0.attributes = [kv("event.attr1", .stringValue("foo1")), kv("event.attr2", .stringValue("bar1"))] },
                .with { $0.name = "event2"; $0.timeUnixNano = eventTime; $0.attributes = [kv("event.attr1", .stringValue("foo2")), kv("event.attr2", .stringValue("bar2"))] },
                .with { $0.name = "event-with-no-attrs"; $0.timeUnixNano = eventTime },
            ]
        }
    }

    static func kv(_ key: String, _ value: Value) -> KeyValue { .with { $0.key = key; $0.value.value = value } }

    static func table(_ attributes: [KeyValue]) -> [String: Value] {
        Dictionary(attributes.compactMap { entry in entry.value.value.map { (entry.key, $0) } }, uniquingKeysWith: { first, _ in first })
    }

    /// Runs spans through a processor made from `yaml`, once encoded and once decoded; both must
    /// give the same request (random error ids aside). Returns the resource, scope and spans out.
    static func run(_ spans: [Span], resource: [KeyValue] = [kv("resource.required", .stringValue("foo"))],
                    scope: InstrumentationScope = InstrumentationScope(), yaml: String = "{}") async throws -> (resource: [KeyValue], scope: InstrumentationScope, spans: [Span]) {
        let request = ExportTraceServiceRequest.with {
            $0.resourceSpans = [.with { $0.resource.attributes = resource; $0.scopeSpans = [.with { $0.scope = scope; $0.spans = spans }] }]
        }
        func output(_ batch: TelemetryBatch) async throws -> ExportTraceServiceRequest {
            let sink = RecordingConsumer()
            let processor = ElasticAPMProcessor(config: try decodeConfig(ElasticAPMProcessorConfig.self, yaml), logger: .init(label: "test"), next: sink)
            try await processor.consume(batch)
            var out = try #require(sink.received.withLock { $0.first })
            #expect(out.isDecoded == batch.isDecoded, "an encoded batch is enriched without decoding it")
            guard case .traces(let traces) = try out.model() else { throw TestFailure("not traces") }
            return traces
        }
        let encoded = try await output(try TelemetryBatch(signal: .traces, protobuf: try request.serializedBytes()))
        let decoded = try await output(TelemetryBatch(.traces(request)))
        #expect(withoutErrorIDs(encoded) == withoutErrorIDs(decoded), "the encoded and the decoded path agree")
        let entry = encoded.resourceSpans[0]
        return (entry.resource.attributes, entry.scopeSpans[0].scope, entry.scopeSpans[0].spans)
    }

    static func withoutErrorIDs(_ request: ExportTraceServiceRequest) -> ExportTraceServiceRequest {
        var request = request
        for r in request.resourceSpans.indices {
            for s in request.resourceSpans[r].scopeSpans.indices {
                for i in request.resourceSpans[r].scopeSpans[s].spans.indices {
                    for e in request.resourceSpans[r].scopeSpans[s].spans[i].events.indices {
                        request.resourceSpans[r].scopeSpans[s].spans[i].events[e].attributes.removeAll { $0.key == "error.id" }
                    }
                }
            }
        }
        return request
    }

    struct TestFailure: Error { let message: String; init(_ message: String) { self.message = message } }

    static let eventAdditions: [String: Value] = ["timestamp.us": .intValue(1_581_452_773_000_000)]

    struct Golden: Sendable, CustomStringConvertible {
        let name: String
        let parent: Data
        let input: [(String, Value)]
        let added: [String: Value]
        let removed: [String]
        var description: String { name }
    }

    static let goldens: [Golden] = [
        Golden(name: "elastic_txn_http", parent: Data(), input: [
            ("http.request.method", .stringValue("POST")),
            ("url.full", .stringValue("https://www.foo.bar/search?q=OpenTelemetry#SemConv")),
            ("http.response.status_code", .intValue(201)),
        ], added: [
            "timestamp.us": .intValue(1_581_452_772_000_000), "transaction.sampled": .boolValue(true),
            "transaction.id": .stringValue("abcdef0123456700"), "transaction.root": .boolValue(true),
            "transaction.name": .stringValue("elastic_txn_http"), "processor.event": .stringValue("transaction"),
            "transaction.representative_count": .doubleValue(1), "transaction.duration.us": .intValue(1_000_000),
            "transaction.type": .stringValue("request"), "transaction.result": .stringValue("HTTP 2xx"),
            "event.outcome": .stringValue("success"), "event.success_count": .intValue(1),
        ], removed: []),
        Golden(name: "elastic_span_http", parent: parentID, input: [
            ("http.request.method", .stringValue("POST")),
            ("url.full", .stringValue("https://www.foo.bar/search?q=OpenTelemetry#SemConv")),
            ("http.response.status_code", .intValue(201)),
        ], added: [
            "timestamp.us": .intValue(1_581_452_772_000_000), "span.representative_count": .doubleValue(1),
            "span.type": .stringValue("external"), "span.subtype": .stringValue("http"),
            "event.outcome": .stringValue("success"), "event.success_count": .intValue(1),
            "span.duration.us": .intValue(1_000_000), "service.target.type": .stringValue("http"),
            "service.target.name": .stringValue("www.foo.bar"), "span.destination.service.resource": .stringValue("www.foo.bar"),
            "processor.event": .stringValue("span"),
        ], removed: []),
        Golden(name: "elastic_txn_db", parent: Data(), input: [
            ("db.name", .stringValue("main")), ("db.system", .stringValue("mysql")),
        ], added: [
            "timestamp.us": .intValue(1_581_452_772_000_000), "transaction.sampled": .boolValue(true),
            "transaction.id": .stringValue("abcdef0123456700"), "transaction.root": .boolValue(true),
            "transaction.name": .stringValue("elastic_txn_db"), "processor.event": .stringValue("transaction"),
            "transaction.representative_count": .doubleValue(1), "transaction.duration.us": .intValue(1_000_000),
            "transaction.type": .stringValue("unknown"), "transaction.result": .stringValue("Success"),
            "event.outcome": .stringValue("success"), "event.success_count": .intValue(1),
        ], removed: []),
        Golden(name: "elastic_span_db", parent: parentID, input: [
            ("db.name", .stringValue("main")), ("db.system", .stringValue("mysql")),
        ], added: [
            "timestamp.us": .intValue(1_581_452_772_000_000), "span.representative_count": .doubleValue(1),
            "span.type": .stringValue("db"), "span.subtype": .stringValue("mysql"),
            "event.outcome": .stringValue("success"), "event.success_count": .intValue(1),
            "span.duration.us": .intValue(1_000_000), "service.target.type": .stringValue("mysql"),
            "service.target.name": .stringValue("main"), "span.destination.service.resource": .stringValue("mysql"),
            "processor.event": .stringValue("span"),
        ], removed: []),
        Golden(name: "elastic_txn_messaging", parent: Data(), input: [
            ("messaging.system", .stringValue("kafka")), ("messaging.destination.name", .stringValue("TestTopic")),
        ], added: [
            "timestamp.us": .intValue(1_581_452_772_000_000), "transaction.sampled": .boolValue(true),
            "transaction.id": .stringValue("abcdef0123456700"), "transaction.root": .boolValue(true),
            "transaction.name": .stringValue("elastic_txn_messaging"), "processor.event": .stringValue("transaction"),
            "transaction.representative_count": .doubleValue(1), "transaction.duration.us": .intValue(1_000_000),
            "transaction.type": .stringValue("messaging"), "transaction.result": .stringValue("Success"),
            "event.outcome": .stringValue("success"), "event.success_count": .intValue(1),
            "transaction.message.queue.name": .stringValue("TestTopic"),
        ], removed: ["messaging.system", "messaging.destination.name"]),
        Golden(name: "elastic_span_messaging", parent: parentID, input: [
            ("messaging.system", .stringValue("kafka")), ("messaging.destination.name", .stringValue("TestTopic")),
        ], added: [
            "timestamp.us": .intValue(1_581_452_772_000_000), "span.representative_count": .doubleValue(1),
            "span.type": .stringValue("messaging"), "span.subtype": .stringValue("kafka"),
            "event.outcome": .stringValue("success"), "event.success_count": .intValue(1),
            "span.duration.us": .intValue(1_000_000), "service.target.type": .stringValue("kafka"),
            "service.target.name": .stringValue("TestTopic"), "span.destination.service.resource": .stringValue("kafka/TestTopic"),
            "processor.event": .stringValue("span"), "span.message.queue.name": .stringValue("TestTopic"),
        ], removed: ["messaging.system", "messaging.destination.name"]),
    ]

    @Test(arguments: goldens)
    func goldenCase(_ golden: Golden) async throws {
        let out = try await Self.run([Self.goldenSpan(golden.name, parent: golden.parent, golden.input)])
        #expect(Self.table(out.resource) == [
            "resource.required": .stringValue("foo"), "agent.name": .stringValue("otlp"), "agent.version": .stringValue("unknown"),
        ])
        let span = try #require(out.spans.first)
        var expected = Dictionary(golden.input, uniquingKeysWith: { first, _ in first })
        for key in golden.removed { expected[key] = nil }
        expected.merge(golden.added) { _, new in new }
        #expect(Self.table(span.attributes) == expected)
        #expect(span.attributes.count == expected.count, "no key written twice")
        for event in span.events {
            let input = Self.goldenSpan(golden.name, parent: golden.parent, golden.input).events.first { $0.name == event.name }
            let before = Self.table(input?.attributes ?? [])
            #expect(Self.table(event.attributes) == before.merging(Self.eventAdditions) { _, new in new })
        }
        #expect(span.spanID == Self.spanID, "the span ID stays (clear_span_id is off by default)")
        #expect(span.name == golden.name)
    }

    @Test func transactionDecisionFollowsParentFlagsAndKind() {
        func isTransaction(parent: Data, flags: UInt32, kind: Span.SpanKind, event: String? = nil) -> Bool {
            let span = Span.with {
                $0.parentSpanID = parent
                $0.flags = flags
                $0.kind = kind
                if let event { $0.attributes = [Self.kv("processor.event", .stringValue(event))] }
            }
            let header = SpanEnrichment.Header(kind: span.kind, flags: span.flags, parentIsEmpty: SpanEnrichment.isEmptyID(span.parentSpanID))
            return SpanEnrichment.isTransaction(header, SpanFacts(span.attributes))
        }
        #expect(isTransaction(parent: Data(), flags: 0, kind: .client), "no parent")
        #expect(isTransaction(parent: Data(count: 8), flags: 0, kind: .client), "an all-zero parent is none")
        #expect(isTransaction(parent: Self.parentID, flags: 0, kind: .server))
        #expect(isTransaction(parent: Self.parentID, flags: 0, kind: .consumer))
        #expect(!isTransaction(parent: Self.parentID, flags: 0, kind: .internal))
        #expect(isTransaction(parent: Self.parentID, flags: 0x300, kind: .internal), "remote parent")
        #expect(!isTransaction(parent: Self.parentID, flags: 0x100, kind: .server), "known local parent")
        #expect(isTransaction(parent: Self.parentID, flags: 0x100, kind: .internal, event: "transaction"))
    }

    @Test func representativeCountFromTraceState() {
        #expect(RepresentativeCount.of(traceState: "") == 1)
        #expect(RepresentativeCount.of(traceState: "ot=th:0") == 1)
        #expect(RepresentativeCount.of(traceState: "ot=th:8") == 2)
        #expect(RepresentativeCount.of(traceState: "vendor=x, ot=th:c;rv:0123456789abcd") == 4)
        #expect(RepresentativeCount.of(traceState: "ot=th:fd70a3d70a3d71") == 0x1p56 / Double(UInt64(1) << 56 - 0xfd70a3d70a3d71))
        #expect(RepresentativeCount.of(traceState: "ot=p:3") == 8)
        #expect(RepresentativeCount.of(traceState: "ot=p:63") == 0)
        #expect(RepresentativeCount.of(traceState: "ot=p:99") == 0, "out of range reads as 63")
        #expect(RepresentativeCount.of(traceState: "ot=p:x") == 1)
        #expect(RepresentativeCount.of(traceState: "ot=th:G") == 1, "an invalid threshold counts 1")
        #expect(RepresentativeCount.of(traceState: "ot=th:123456789abcdef") == 1, "more than 14 digits")
        #expect(RepresentativeCount.of(traceState: "ot=th:8;p:3") == 2, "the threshold wins over p")
    }

    @Test func sampledTraceStateWeighsCountsAndSuccess() async throws {
        var span = Self.goldenSpan("weighted", parent: Data(), [("http.response.status_code", .intValue(200))])
        span.traceState = "ot=th:c"
        let out = try await Self.run([span])
        let table = Self.table(out.spans[0].attributes)
        #expect(table["transaction.representative_count"] == .doubleValue(4))
        #expect(table["event.success_count"] == .intValue(4))
    }

    @Test func exitRootIsATransactionWithSpanFields() async throws {
        var span = Self.goldenSpan("GET", parent: Data(), [("http.request.method", .stringValue("GET")),
                                                           ("server.address", .stringValue("api.internal")),
                                                           ("server.port", .intValue(8443)),
                                                           ("http.response.status_code", .intValue(503))])
        span.kind = .client
        let table = Self.table(try await Self.run([span]).spans[0].attributes)
        #expect(table["processor.event"] == .stringValue("transaction"))
        #expect(table["transaction.type"] == .stringValue("external.http"), "replaced by the call's type")
        #expect(table["span.type"] == .stringValue("external"))
        #expect(table["service.target.name"] == .stringValue("api.internal:8443"))
        #expect(table["span.destination.service.resource"] == .stringValue("api.internal:8443"))
        #expect(table["transaction.result"] == .stringValue("HTTP 5xx"))
        #expect(table["event.outcome"] == .stringValue("failure"))
        #expect(table["event.success_count"] == .intValue(0))
        #expect(table["span.representative_count"] == .doubleValue(1))

        var typed = span
        typed.attributes.append(Self.kv("type", .stringValue("job")))
        let kept = Self.table(try await Self.run([typed]).spans[0].attributes)
        #expect(kept["transaction.type"] == .stringValue("job"), "an input type is not replaced")
    }

    @Test func grpcAndStatusDecideResultAndOutcome() async throws {
        let grpc = Self.goldenSpan("rpc", parent: Data(), [("rpc.grpc.status_code", .intValue(13)), ("rpc.service", .stringValue("Orders"))])
        var failed = Self.goldenSpan("failed", parent: Data(), [])
        failed.status.code = .error
        var okDespite500 = Self.goldenSpan("ok", parent: Self.parentID, [("http.status_code", .intValue(500))])
        okDespite500.status.code = .ok
        let spans = try await Self.run([grpc, failed, okDespite500]).spans.map { Self.table($0.attributes) }
        #expect(spans[0]["transaction.result"] == .stringValue("Internal"))
        #expect(spans[0]["transaction.type"] == .stringValue("request"))
        #expect(spans[1]["transaction.result"] == .stringValue("Error"))
        #expect(spans[1]["event.outcome"] == .stringValue("failure"))
        #expect(spans[2]["event.outcome"] == .stringValue("success"), "an Ok status wins over the HTTP code")
        #expect(SpanFacts.grpcCodeName(16) == "Unauthenticated")
        #expect(SpanFacts.grpcCodeName(42) == "Code(42)")
    }

    @Test func existingValuesAreKeptAndUnknownOutcomeStays() async throws {
        let span = Self.goldenSpan("mine", parent: Data(), [("transaction.name", .stringValue("given")),
                                                            ("event.outcome", .stringValue("unknown")),
                                                            ("processor.event", .stringValue("transaction"))])
        let attributes = try await Self.run([span]).spans[0].attributes
        let table = Self.table(attributes)
        #expect(table["transaction.name"] == .stringValue("given"))
        #expect(table["event.outcome"] == .stringValue("unknown"))
        #expect(table["event.success_count"] == nil, "no count beside an unknown outcome")
        #expect(attributes.filter { $0.key == "processor.event" }.count == 1)
    }

    @Test func exceptionEventsBecomeErrors() async throws {
        var span = Self.goldenSpan("checkout", parent: Data(), [("http.request.method", .stringValue("POST"))])
        span.events = [
            .with {
                $0.name = "exception"
                $0.timeUnixNano = Self.eventTime
                $0.attributes = [Self.kv("exception.type", .stringValue("java.io.IOException")),
                                 Self.kv("exception.message", .stringValue("disk full")),
                                 Self.kv("exception.escaped", .boolValue(true))]
            },
            .with { $0.name = "exception"; $0.timeUnixNano = Self.eventTime; $0.attributes = [Self.kv("exception.message", .stringValue("only a message"))] },
            .with { $0.name = "exception"; $0.timeUnixNano = Self.eventTime },
        ]
        let events = try await Self.run([span]).spans[0].events.map { Self.table($0.attributes) }
        let md5 = { (text: String) in hexString(Insecure.MD5.hash(data: Array(text.utf8))) }
        guard case .stringValue(let id)? = events[0]["error.id"] else { Issue.record("no error.id"); return }
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
        var first = events[0]
        first["error.id"] = nil
        #expect(first == [
            "exception.type": .stringValue("java.io.IOException"), "exception.message": .stringValue("disk full"),
            "exception.escaped": .boolValue(true), "timestamp.us": .intValue(1_581_452_773_000_000),
            "processor.event": .stringValue("error"), "error.exception.handled": .boolValue(false),
            "error.grouping_key": .stringValue(md5("java.io.IOException")), "error.grouping_name": .stringValue("disk full"),
            "transaction.sampled": .boolValue(true), "transaction.type": .stringValue("request"),
        ])
        #expect(events[1]["error.grouping_key"] == .stringValue(md5("only a message")))
        #expect(events[1]["error.exception.handled"] == .boolValue(true))
        #expect(events[2] == ["timestamp.us": .intValue(1_581_452_773_000_000), "processor.event": .stringValue("error")],
                "an exception event without type or message is no error")
    }

    @Test func childLinksBecomeChildIDs() async throws {
        var span = Self.goldenSpan("parent", parent: Data(), [])
        span.links = [
            .with { $0.spanID = Data([1, 2, 3, 4, 5, 6, 7, 8]); $0.attributes = [Self.kv("is_child", .boolValue(true))] },
            .with { $0.spanID = Data([9, 9, 9, 9, 9, 9, 9, 9]); $0.attributes = [Self.kv("elastic.is_child", .boolValue(false))] },
            .with { $0.spanID = Data([0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x10, 0x11]); $0.attributes = [Self.kv("elastic.is_child", .boolValue(true))] },
        ]
        let out = try await Self.run([span]).spans[0]
        #expect(out.links.map(\.spanID) == [Data([9, 9, 9, 9, 9, 9, 9, 9])])
        let ids = out.attributes.first { $0.key == "child.id" }?.value.arrayValue.values.map(\.stringValue)
        #expect(ids == ["0102030405060708", "0a0b0c0d0e0f1011"])
    }

    @Test func messagingSpanFields() async throws {
        let span = Self.goldenSpan("send", parent: Self.parentID, [("messaging.system", .stringValue("rabbitmq")),
                                                                    ("messaging.operation.name", .stringValue("publish")),
                                                                    ("messaging.destination.name", .stringValue("amq.gen-1")),
                                                                    ("messaging.destination.temporary", .boolValue(true)),
                                                                    ("peer.service", .stringValue("broker"))])
        let table = Self.table(try await Self.run([span]).spans[0].attributes)
        #expect(table["span.action"] == .stringValue("publish"))
        #expect(table["service.target.name"] == .stringValue("broker"), "a temporary destination does not name the target")
        #expect(table["span.destination.service.resource"] == .stringValue("broker/amq.gen-1"))
        #expect(table["messaging.operation.name"] == nil)
        #expect(table["messaging.destination.temporary"] == .boolValue(true), "only the four keys read are removed")
    }

    @Test func switchesTurnEnrichmentsOff() async throws {
        let yaml = """
            elastic_transaction: {clear_span_id: {enabled: true}, clear_span_name: {enabled: true}, result: {enabled: false}}
            span_event: {timestamp_us: {enabled: false}}
            resource: {agent_version: {enabled: false}}
            """
        let out = try await Self.run([Self.goldenSpan("cleared", parent: Data(), [])], yaml: yaml)
        let span = out.spans[0]
        #expect(span.spanID.isEmpty && span.name.isEmpty)
        #expect(Self.table(span.attributes)["transaction.id"] == .stringValue("abcdef0123456700"))
        #expect(Self.table(span.attributes)["transaction.name"] == .stringValue("cleared"))
        #expect(Self.table(span.attributes)["transaction.result"] == nil)
        #expect(span.events.allSatisfy { $0.attributes.first { $0.key == "timestamp.us" } == nil })
        #expect(Self.table(out.resource)["agent.version"] == nil)
    }

    @Test func resourceAndScopeFields() async throws {
        let resource = [Self.kv("telemetry.sdk.name", .stringValue("opentelemetry")), Self.kv("telemetry.sdk.language", .stringValue("java")),
                        Self.kv("telemetry.sdk.version", .stringValue("1.40.0")), Self.kv("telemetry.distro.name", .stringValue("elastic")),
                        Self.kv("telemetry.distro.version", .stringValue("1.2.0")), Self.kv("host.name", .stringValue("vm-1")),
                        Self.kv("k8s.node.name", .stringValue("node-7")), Self.kv("deployment.environment.name", .stringValue("prod"))]
        let scope = InstrumentationScope.with { $0.name = "io.opentelemetry.spring-webmvc-6.0"; $0.version = "2.3.0" }
        let out = try await Self.run([Self.goldenSpan("r", parent: Data(), [])], resource: resource, scope: scope)
        let table = Self.table(out.resource)
        #expect(table["agent.name"] == .stringValue("opentelemetry/java/elastic"))
        #expect(table["agent.version"] == .stringValue("1.2.0"))
        #expect(table["host.name"] == .stringValue("node-7"))
        #expect(table["deployment.environment"] == .stringValue("prod"))
        #expect(table["service.instance.id"] == .stringValue("vm-1"), "from the host name as it arrived")
        #expect(Self.table(out.scope.attributes) == ["service.framework.name": .stringValue("io.opentelemetry.spring-webmvc-6.0"),
                                                     "service.framework.version": .stringValue("2.3.0")])

        let distroWithoutLanguage = [Self.kv("telemetry.distro.name", .stringValue("edot")), Self.kv("container.id", .stringValue("c0ffee")),
                                     Self.kv("host.name", .stringValue("vm-2"))]
        let other = Self.table(try await Self.run([Self.goldenSpan("r", parent: Data(), [])], resource: distroWithoutLanguage).resource)
        #expect(other["agent.name"] == .stringValue("otlp/unknown/edot"))
        #expect(other["agent.version"] == .stringValue("unknown"), "a distro without a version does not fall back to the SDK's")
        #expect(other["service.instance.id"] == .stringValue("c0ffee"))
    }

    @Test func logsAndMetricsGetResourceFieldsUnlessSkipped() async throws {
        let sink = RecordingConsumer()
        let processor = ElasticAPMProcessor(config: ElasticAPMProcessorConfig(), logger: .init(label: "test"), next: sink)
        try await processor.consume(TelemetryBatch(.logs(.with { $0.resourceLogs = [.with { $0.scopeLogs = [.with { $0.logRecords = [LogRecord()] }] }] })))
        try await processor.consume(TelemetryBatch(.metrics(.with { $0.resourceMetrics = [.with { $0.scopeMetrics = [.with { $0.metrics = [Metric()] }] }] })))
        var batches = sink.received.withLock { $0 }
        guard case .logs(let logs) = try batches[0].model(), case .metrics(let metrics) = try batches[1].model() else {
            Issue.record("signals changed"); return
        }
        #expect(Self.table(logs.resourceLogs[0].resource.attributes) == ["agent.name": .stringValue("otlp"), "agent.version": .stringValue("unknown")])
        #expect(Self.table(metrics.resourceMetrics[0].resource.attributes) == [
            "agent.name": .stringValue("otlp"), "agent.version": .stringValue("unknown"), "metricset.name": .stringValue("app"),
        ])

        let skipping = RecordingConsumer()
        let skipper = ElasticAPMProcessor(config: try decodeConfig(ElasticAPMProcessorConfig.self, "skip_enrichment: true"),
                                          logger: .init(label: "test"), next: skipping)
        let logBytes: [UInt8] = try ExportLogsServiceRequest.with { $0.resourceLogs = [.with { $0.scopeLogs = [.with { $0.logRecords = [LogRecord()] }] }] }.serializedBytes()
        try await skipper.consume(try TelemetryBatch(signal: .logs, protobuf: logBytes))
        var passed = try #require(skipping.received.withLock { $0.first })
        #expect(!passed.isDecoded)
        #expect(passed.encoded() == logBytes, "skipped logs pass as they came")
    }

    @Test func configKeysAndErrors() throws {
        let config = try decodeConfig(ElasticAPMProcessorConfig.self, "{}")
        #expect(config.elastic_transaction.clear_span_id.enabled == false)
        #expect(config.elastic_span.service_target.enabled)
        #expect(config.resource.host_os_type.enabled == false)
        #expect(config.warnings().isEmpty)
        #expect(try decodeConfig(ElasticAPMProcessorConfig.self, "scope: {service_framework_version: {enabled: false}}").warnings().count == 1,
                "a switch Elastic's processor does not read either is named")
        #expect(throws: (any Error).self) { try decodeConfig(ElasticAPMProcessorConfig.self, "elastic_span: {no_such_field: {enabled: true}}") }
        #expect(throws: (any Error).self) { try decodeConfig(ElasticAPMProcessorConfig.self, "resource: {agent_name: {enabled: maybe}}") }
    }

    @Test func urlHostsAsGoParsesThem() {
        #expect(GoURLHost("https://www.foo.bar/search?q=x#y")?.host == "www.foo.bar")
        #expect(GoURLHost("http://user:pw@db.local:5432/x")?.host == "db.local:5432")
        #expect(GoURLHost("http://[::1]:8080/")?.host == "[::1]:8080")
        #expect(GoURLHost("/relative/path")?.host == "")
        #expect(GoURLHost("mailto:someone@example.com")?.host == "", "opaque")
        #expect(GoURLHost("http://host:port/") == nil, "a port that is not digits")
        #expect(GoURLHost("http://bad host/") == nil)
        #expect(GoURLHost("http://a\u{7}b/") == nil, "a control character")
        #expect(GoURLHost("1.2.3.4:80/x") == nil, "a colon in the first segment without a scheme")
        #expect(GoURLHost(":8080") == nil, "missing scheme")
        #expect(GoURLHost("http://www.foo%2Ebar/")?.host == "www.foo.bar")
    }

    /// The added entries' memory keeps what was written when it grows, and a replacement in the
    /// middle moves what follows, longer or shorter.
    @Test func entryBytesGrowAndReplaceInPlace() {
        let bytes = EntryBytes(capacity: 8)
        bytes.append(Array(0..<5))
        #expect(bytes.append(room: 300) { room in
            for index in 0..<200 { room[index] = UInt8(truncatingIfNeeded: 5 + index) }
            return 200
        })
        #expect(Array(bytes.bytes) == (0..<205).map { UInt8(truncatingIfNeeded: $0) })
        #expect(!bytes.append(room: 16) { _ in nil }, "nothing written")
        #expect(bytes.count == 205)
        bytes.replaceSubrange(1..<4, with: [9, 9, 9, 9, 9, 9])
        #expect(Array(bytes.bytes.prefix(9)) == [0, 9, 9, 9, 9, 9, 9, 4, 5])
        #expect(bytes.count == 208 && bytes.bytes.last == 204)
        bytes.replaceSubrange(1..<7, with: [7])
        #expect(Array(bytes.bytes.prefix(4)) == [0, 7, 4, 5] && bytes.count == 203 && bytes.bytes.last == 204)
        bytes.removeAll()
        #expect(bytes.isEmpty)
    }
}
