import Foundation
import Testing
@testable import OTLP

@Suite struct WireScanTests {
    static func sampleTraces(resources: Int = 2, scopes: Int = 2, spans: Int = 3) -> ExportTraceServiceRequest {
        var request = ExportTraceServiceRequest()
        for r in 0..<resources {
            var rs = ResourceSpans()
            var kv = KeyValue()
            kv.key = "service.name"
            kv.value.stringValue = "svc-\(r)"
            rs.resource.attributes = [kv]
            for s in 0..<scopes {
                var ss = ScopeSpans()
                ss.scope.name = "scope-\(s)"
                for i in 0..<spans {
                    var span = Span()
                    span.traceID = Data(repeating: UInt8(r + 1), count: 16)
                    span.spanID = Data(repeating: UInt8(i + 1), count: 8)
                    span.name = "span-\(r)-\(s)-\(i)"
                    span.startTimeUnixNano = 1_000
                    span.endTimeUnixNano = 2_000
                    var attr = KeyValue()
                    attr.key = "n"
                    attr.value.arrayValue.values = [AnyValue(), AnyValue()]
                    span.attributes = [attr]
                    var event = Span.Event()
                    event.name = "e"
                    span.events = [event]
                    ss.spans.append(span)
                }
                rs.scopeSpans.append(ss)
            }
            request.resourceSpans.append(rs)
        }
        return request
    }

    @Test func countsSpansWithoutDecoding() throws {
        let bytes = OTLPRequest.traces(Self.sampleTraces()).protobufBytes()
        #expect(try WireScan.itemCount(.traces, in: bytes) == 12)
    }

    @Test func countsEveryMetricPointType() throws {
        var request = ExportMetricsServiceRequest()
        var scope = ScopeMetrics()
        var gauge = Metric(); gauge.gauge.dataPoints = [NumberDataPoint(), NumberDataPoint()]
        var sum = Metric(); sum.sum.dataPoints = [NumberDataPoint()]
        var histogram = Metric(); histogram.histogram.dataPoints = [HistogramDataPoint()]
        histogram.histogram.dataPoints[0].bucketCounts = [1, 2, 3]
        histogram.histogram.dataPoints[0].explicitBounds = [1.5, 2.5]
        var exponential = Metric(); exponential.exponentialHistogram.dataPoints = [.init(), .init(), .init()]
        exponential.exponentialHistogram.dataPoints[0].positive.bucketCounts = [4, 5]
        var summary = Metric(); summary.summary.dataPoints = [.init()]
        summary.summary.dataPoints[0].quantileValues = [.init()]
        scope.metrics = [gauge, sum, histogram, exponential, summary]
        var resource = ResourceMetrics()
        resource.scopeMetrics = [scope]
        request.resourceMetrics = [resource]
        let bytes = OTLPRequest.metrics(request).protobufBytes()
        #expect(try WireScan.itemCount(.metrics, in: bytes) == 8)
        #expect(OTLPRequest.metrics(request).itemCount == 8)
    }

    @Test func countsLogRecords() throws {
        var request = ExportLogsServiceRequest()
        var scope = ScopeLogs()
        scope.logRecords = (0..<5).map { i in var r = LogRecord(); r.body.stringValue = "line \(i)"; return r }
        var resource = ResourceLogs()
        resource.scopeLogs = [scope, scope]
        request.resourceLogs = [resource]
        #expect(try WireScan.itemCount(.logs, in: OTLPRequest.logs(request).protobufBytes()) == 10)
    }

    @Test func emptyRequestHasNoItems() throws {
        #expect(try WireScan.itemCount(.traces, in: [UInt8]()) == 0)
    }

    @Test func rejectsTruncatedInput() throws {
        let bytes = OTLPRequest.traces(Self.sampleTraces()).protobufBytes()
        let error = #expect(throws: OTLPDecodingError.self) {
            try WireScan.itemCount(.traces, in: Array(bytes.dropLast(7)))
        }
        #expect(error?.message.contains("runs past the end") == true || error?.message.contains("truncated") == true)
    }

    @Test func rejectsWrongWireTypeWithFieldAndMessage() throws {
        // Field 1 of the request (resource_spans) as a varint instead of a message.
        let error = #expect(throws: OTLPDecodingError.self) { try WireScan.itemCount(.traces, in: [0x08, 0x01]) }
        #expect(error?.message == "invalid protobuf: field 1 of ExportTraceServiceRequest has wire type varint, expected length-delimited")
    }

    @Test func rejectsWrongWireTypeDeepInsideASpan() throws {
        var span = Span()
        span.name = "x"
        var bytes = try span.serializedBytes() as [UInt8]
        bytes += [0x38, 0x05] // field 7 (start_time_unix_nano, fixed64) as a varint
        var scope = [UInt8](); scope += [0x12, UInt8(bytes.count)] + bytes
        var resource = [UInt8](); resource += [0x12, UInt8(scope.count)] + scope
        let request: [UInt8] = [0x0A, UInt8(resource.count)] + resource
        let error = #expect(throws: OTLPDecodingError.self) { try WireScan.itemCount(.traces, in: request) }
        #expect(error?.message == "invalid protobuf: field 7 of Span has wire type varint, expected 64-bit")
    }

    @Test func skipsUnknownFields() throws {
        var bytes = OTLPRequest.traces(Self.sampleTraces(resources: 1, scopes: 1, spans: 1)).protobufBytes()
        bytes += [0xF8, 0x01, 0x07] // field 31 varint: unknown, must be skipped
        #expect(try WireScan.itemCount(.traces, in: bytes) == 1)
    }

    @Test func concatenatedEncodingsMergeTheLists() throws {
        let a = OTLPRequest.traces(Self.sampleTraces(resources: 1, scopes: 1, spans: 2))
        let b = OTLPRequest.traces(Self.sampleTraces(resources: 2, scopes: 1, spans: 1))
        let merged = try #require(TelemetryBatch.concatenating([TelemetryBatch(a), TelemetryBatch(b)]))
        #expect(merged.itemCount == 4)
        var copy = merged
        guard case .traces(let decoded) = try copy.model() else { Issue.record("wrong signal"); return }
        #expect(decoded.resourceSpans.count == 3)
        #expect(!merged.isDecoded)
    }

    @Test func batchDecodesAtMostOnceAndKeepsBytes() throws {
        let bytes = OTLPRequest.traces(Self.sampleTraces()).protobufBytes()
        var batch = try TelemetryBatch(signal: .traces, protobuf: bytes)
        #expect(!batch.isDecoded)
        _ = try batch.model()
        #expect(batch.isDecoded)
        #expect(batch.encoded() == bytes) // no re-encoding while unchanged
    }

    @Test func splitKeepsOrderAndContainers() throws {
        let request = OTLPRequest.traces(Self.sampleTraces(resources: 2, scopes: 2, spans: 3))
        let (head, tail) = request.split(first: 5)
        #expect(head.itemCount == 5)
        #expect(tail.itemCount == 7)
        guard case .traces(let h) = head, case .traces(let t) = tail else { Issue.record("wrong signal"); return }
        #expect(h.resourceSpans.count == 1)
        #expect(h.resourceSpans[0].scopeSpans.map(\.spans.count) == [3, 2])
        #expect(t.resourceSpans[0].scopeSpans.map(\.spans.count) == [1])
        #expect(t.resourceSpans[0].resource == h.resourceSpans[0].resource)
        #expect(t.resourceSpans[0].scopeSpans[0].spans[0].name == "span-0-1-2")
    }
}

@Suite struct WireSplitTests {
    /// Spans of three traces interleaved across two resources with two scopes each.
    static func interleaved() -> ExportTraceServiceRequest {
        var request = WireScanTests.sampleTraces(resources: 2, scopes: 2, spans: 6)
        for r in request.resourceSpans.indices {
            request.resourceSpans[r].schemaURL = "https://schema/\(r)"
            for s in request.resourceSpans[r].scopeSpans.indices {
                for i in request.resourceSpans[r].scopeSpans[s].spans.indices {
                    request.resourceSpans[r].scopeSpans[s].spans[i].traceID = Data(repeating: UInt8(i % 3 + 1), count: 16)
                }
            }
        }
        return request
    }

    @Test func byteRegroupingEqualsModelRegrouping() throws {
        let request = OTLPRequest.traces(Self.interleaved())
        let wire = try #require(try WireScan.splitByTraceID(.traces, request.protobufBytes()))
        let model = request.splitByTraceID()
        #expect(wire.count == 3)
        #expect(wire.map(\.traceID) == model.map { [UInt8]($0.traceID) })
        for (w, m) in zip(wire, model) {
            #expect(try OTLPRequest(signal: .traces, protobuf: w.bytes) == m.request)
            #expect(w.items == m.request.itemCount)
        }
    }

    @Test func logsRegroupByTheirTraceIDField() throws {
        var scope = ScopeLogs()
        scope.logRecords = (0..<5).map { i in
            var record = LogRecord()
            record.body.stringValue = "\(i)"
            if i % 2 == 0 { record.traceID = Data(repeating: 9, count: 16) }
            return record
        }
        var resource = ResourceLogs()
        resource.scopeLogs = [scope]
        let request = OTLPRequest.logs(.with { $0.resourceLogs = [resource] })
        let parts = try #require(try WireScan.splitByTraceID(.logs, request.protobufBytes()))
        #expect(parts.map(\.items) == [3, 2])
        #expect(parts[1].traceID.isEmpty)
    }

    @Test func packingKeepsEveryEntryAndRespectsTheLimit() throws {
        let request = OTLPRequest.traces(WireScanTests.sampleTraces(resources: 8, scopes: 1, spans: 4))
        let bytes = request.protobufBytes()
        let entries = try WireScan.resourceEntries(.traces, in: bytes)
        let limit = entries[0].range.count * 3 + 1
        let pieces = try WireScan.pack(.traces, bytes, limit: limit)
        #expect(pieces.count == 3)
        #expect(pieces.allSatisfy { $0.bytes.count <= limit })
        #expect(pieces.map(\.items) == [12, 12, 8])
        #expect(pieces.flatMap(\.bytes) == bytes)
    }
}
