import Foundation
import OTLP
import Testing
@testable import Components

/// Span documents written from the encoded request must be the bytes the model path writes:
/// content ids are hashes of them, so any difference would duplicate documents across versions.
@Suite struct ElasticsearchWireTracesTests {
    func attribute(_ key: String, _ value: AnyValue) -> KeyValue { .with { $0.key = key; $0.value = value } }
    func string(_ text: String) -> AnyValue { .with { $0.stringValue = text } }

    func encoder(_ options: OtelDocumentEncoder.Options = .init()) throws -> OtelDocumentEncoder {
        let config = try decodeConfig(ElasticsearchExporterConfig.self, "endpoint: http://localhost:9200\n")
        return OtelDocumentEncoder(router: DataStreamRouter(config: config), options: options)
    }

    /// Encodes `request` both ways; returns the wire path's body after checking it equals the model's.
    @discardableResult
    func expectSameDocuments(_ request: ExportTraceServiceRequest, options: OtelDocumentEncoder.Options = .init(),
                             sourceLocation: SourceLocation = #_sourceLocation) throws -> BulkBody {
        var model = try encoder(options)
        model.encode(request)
        var wire = try encoder(options)
        let written = wire.encodeTraces(wire: try request.serializedBytes())
        #expect(written, sourceLocation: sourceLocation)
        #expect(wire.body.items.map(\.index) == model.body.items.map(\.index), sourceLocation: sourceLocation)
        #expect(wire.body.items.indices.map(wire.body.id(of:)) == model.body.items.indices.map(model.body.id(of:)), sourceLocation: sourceLocation)
        #expect(wire.body.items.indices.allSatisfy { wire.body.id(of: $0) != nil }, sourceLocation: sourceLocation)
        #expect(String(decoding: wire.body.bytes, as: UTF8.self) == String(decoding: model.body.bytes, as: UTF8.self),
                sourceLocation: sourceLocation)
        return wire.body
    }

    var everyKindOfValue: [KeyValue] {
        let nested = AnyValue.with {
            $0.kvlistValue.values = [attribute("k", string("first")), attribute("k", string("second")),
                                     attribute("list", .with { $0.arrayValue.values = [string("x"), .with { $0.intValue = -1 }, AnyValue()] })]
        }
        return [
            attribute("http.method", string("GET")),
            attribute("escaped", string("quote \" backslash \\ tab \t <html> & \u{2028} \u{1F600} é")),
            attribute("flag", .with { $0.boolValue = true }),
            attribute("off", .with { $0.boolValue = false }),
            attribute("negative", .with { $0.intValue = -42 }),
            attribute("whole", .with { $0.doubleValue = 3 }),
            attribute("fraction", .with { $0.doubleValue = 0.1 }),
            attribute("huge", .with { $0.doubleValue = 1e300 }),
            attribute("nan", .with { $0.doubleValue = .nan }),
            attribute("bytes", .with { $0.bytesValue = Data([0x00, 0xFF, 0x10]) }),
            attribute("empty", AnyValue()),
            attribute("", string("empty key")),
            attribute("map", nested),
            attribute("http.method", string("duplicate, dropped")),
            KeyValue.with { $0.key = "no value" },
        ]
    }

    func span(_ number: UInt8, configure: (inout Span) -> Void = { _ in }) -> Span {
        var span = Span()
        span.traceID = Data(repeating: number, count: 16)
        span.spanID = Data(repeating: number &+ 1, count: 8)
        span.name = "span \(number)"
        span.startTimeUnixNano = 1_700_000_000_000_000_000 + UInt64(number)
        span.endTimeUnixNano = span.startTimeUnixNano + 1_234_567
        configure(&span)
        return span
    }

    @Test func everyFieldAndValueKindMatchesTheModelPath() throws {
        let full = span(1) {
            $0.traceState = "a=b"
            $0.parentSpanID = Data(repeating: 9, count: 8)
            $0.kind = .client
            $0.attributes = everyKindOfValue
            $0.droppedAttributesCount = 3
            $0.droppedEventsCount = 4
            $0.droppedLinksCount = 5
            $0.status = .with { $0.code = .ok; $0.message = "fine" }
            $0.links = [
                .with { $0.traceID = Data(repeating: 2, count: 16); $0.spanID = Data(repeating: 3, count: 8); $0.traceState = "x=y"
                        $0.attributes = [attribute("link.kind", string("follows"))]; $0.droppedAttributesCount = 1 },
                Span.Link(),
            ]
            $0.events = [
                .with { $0.name = "exception"; $0.timeUnixNano = 1_700_000_000_500_000_000; $0.attributes = everyKindOfValue; $0.droppedAttributesCount = 2 },
                .with { $0.name = "named twice"; $0.attributes = [attribute("event.name", string("from the attribute"))] },
                .with { $0.timeUnixNano = 7 },
            ]
        }
        let bare = span(2) { $0.kind = Span.SpanKind(rawValue: 9) ?? .unspecified; $0.status.code = SpanStatus.StatusCode(rawValue: 7) ?? .unset }
        let backwards = span(3) { $0.endTimeUnixNano = $0.startTimeUnixNano - 1; $0.traceID = Data(count: 16); $0.spanID = Data() }
        var request = ExportTraceServiceRequest()
        request.resourceSpans = [
            .with {
                $0.schemaURL = "https://opentelemetry.io/schemas/1.21.0"
                $0.resource.attributes = [attribute("service.name", string("api")), attribute("data_stream.dataset", string("Shop"))]
                $0.resource.droppedAttributesCount = 1
                $0.scopeSpans = [
                    .with { $0.scope.name = "lib"; $0.scope.version = "1.0"; $0.schemaURL = "s"; $0.spans = [full, bare] },
                    .with { $0.scope.attributes = [attribute("data_stream.namespace", string("prod"))]; $0.spans = [backwards] },
                ]
            },
            .with { $0.scopeSpans = [.with { $0.spans = [span(4)] }, ScopeSpans()] },
            ResourceSpans(),
        ]
        let body = try expectSameDocuments(request)
        // 4 spans and 3 events, in order: a span, then its events.
        #expect(body.items.map(\.index) == ["traces-shop.otel-default", "logs-shop.otel-default", "logs-shop.otel-default",
                                            "logs-shop.otel-default", "traces-shop.otel-default", "traces-shop.otel-prod",
                                            "traces-generic.otel-default"])
    }

    @Test func spansWithRoutingAttributesAndAttributeIDsMatchTheModelPath() throws {
        let routed = span(1) { $0.attributes = [attribute("data_stream.dataset", string("checkout")), attribute("elasticsearch.index", string(""))] }
        let eventRouted = span(2) { $0.events = [.with { $0.name = "e"; $0.attributes = [attribute("data_stream.namespace", string("qa"))] }] }
        let withID = span(3) { $0.attributes = [attribute("elasticsearch.document_id", string("doc-1"))] }
        let plain = span(4)
        let request = ExportTraceServiceRequest.with {
            $0.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [routed, eventRouted, withID, plain] }] }]
        }
        let body = try expectSameDocuments(request)
        #expect(body.items.map(\.index) == ["traces-checkout.otel-default", "traces-generic.otel-default", "logs-generic.otel-qa",
                                            "traces-generic.otel-default", "traces-generic.otel-default"])
        var options = OtelDocumentEncoder.Options()
        options.dynamicSpanIDs = true
        let withIDs = try expectSameDocuments(request, options: options)
        let ids = withIDs.items.indices.map(withIDs.id(of:))
        #expect(ids[3] == "doc-1")
    }

    @Test func concatenatedRequestsAreOneRequest() throws {
        let first = ExportTraceServiceRequest.with { $0.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [span(1)] }] }] }
        let second = ExportTraceServiceRequest.with { $0.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [span(2), span(3)] }] }] }
        var wire = try encoder()
        let written = wire.encodeTraces(wire: try first.serializedBytes() + second.serializedBytes())
        #expect(written)
        var model = try encoder()
        model.encode(.with { $0.resourceSpans = first.resourceSpans + second.resourceSpans })
        #expect(wire.body.bytes == model.body.bytes)
        #expect(wire.body.items.count == 3)
    }

    @Test func stringsThatAreNotUTF8SendTheRequestToTheModelPath() throws {
        var request = ExportTraceServiceRequest.with {
            $0.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [span(1) { $0.name = "ab" }] }] }]
        }
        var bytes: [UInt8] = try request.serializedBytes()
        // "ab" preceded by its tag (field 5, length-delimited) and length 2.
        let at = try #require((0..<(bytes.count - 3)).first { bytes[$0...$0 + 3].elementsEqual([0x2A, 0x02, 0x61, 0x62]) })
        bytes[at + 2] = 0xC3
        bytes[at + 3] = 0x28
        var wire = try encoder()
        let refused = !wire.encodeTraces(wire: bytes)
        #expect(refused)
        // The model decoder refuses the same bytes, which is what the exporter then reports.
        #expect(throws: (any Error).self) { try ExportTraceServiceRequest(serializedBytes: bytes) }
        request.resourceSpans[0].scopeSpans[0].spans[0].name = "ok"
        wire = try encoder()
        let accepted = wire.encodeTraces(wire: try request.serializedBytes())
        #expect(accepted)
    }
}
