import Foundation
import OTLP
import Testing
@testable import Components

@Suite struct KafkaRecordPlanTests {
    func plan(_ yaml: String, _ signal: Signal) throws -> KafkaRecordPlan {
        let config = try decodeConfig(KafkaExporterConfig.self, yaml)
        let (topic, encoding) = config.settings.destination(signal)
        return KafkaRecordPlan(settings: config.settings, signal: signal, topic: topic, encoding: encoding, headerBytes: 0)
    }

    @Test func rawLogsWriteBodiesAndRefuseRecordsWithoutOne() throws {
        var scope = ScopeLogs()
        scope.logRecords = [LogRecord(), LogRecord(), LogRecord()]
        scope.logRecords[0].body.stringValue = "hello"
        scope.logRecords[2].body.bytesValue = Data([1, 2])
        var resource = ResourceLogs()
        resource.scopeLogs = [scope]
        var batch = TelemetryBatch(.logs(.with { $0.resourceLogs = [resource] }))
        let (records, refused) = try plan("logs:\n  encoding: raw\n", .logs).records(for: &batch, messageKey: nil)
        #expect(records.map(\.value) == [Array(#""hello""#.utf8), [1, 2]])
        #expect(refused.map(\.items) == [1])
        #expect(refused.map(\.reason) == ["empty_body"])
    }

    @Test func partsTooLargeForARecordAreSplitByItems() throws {
        let bytes = OTLPRequest.traces(traceRequest(spans: 40, padding: 200)).protobufBytes()
        var batch = try TelemetryBatch(signal: .traces, protobuf: bytes)
        let (records, refused) = try plan("producer:\n  max_message_bytes: 2000\n", .traces).records(for: &batch, messageKey: nil)
        #expect(refused.isEmpty)
        #expect(records.count > 1)
        #expect(records.allSatisfy { $0.value.count <= 2000 })
        #expect(records.reduce(0) { $0 + $1.items } == 40)
    }

    @Test func mergedRequestsAreGroupedWholeIntoRecordsThatFit() throws {
        // Ten requests of about 900 bytes, merged as the batch processor does, with room for two
        // per record; the fourth is too large for any record and is cut into pieces.
        let requests = (0..<10).map { i in OTLPRequest.traces(traceRequest(spans: 4, padding: i == 3 ? 700 : 200)).protobufBytes() }
        let parts = try requests.map { try TelemetryBatch(signal: .traces, protobuf: $0) }
        var batch = try #require(TelemetryBatch.concatenating(parts))
        let (records, refused) = try plan("producer:\n  max_message_bytes: 2000\n", .traces).records(for: &batch, messageKey: nil)
        #expect(refused.isEmpty)
        #expect(records.allSatisfy { $0.value.count <= 2000 })
        #expect(records.reduce(0) { $0 + $1.items } == 40)
        // Whole requests are kept together and in order: the records' values concatenated are the
        // requests concatenated, except for the cut one, whose spans are all still there.
        let whole = records.filter { $0.message.valueParts.count > 1 }
        #expect(!whole.isEmpty)
        #expect(whole.allSatisfy { record in record.message.valueParts.allSatisfy { requests.contains($0) } })
        let decoded = try records.flatMap { try ExportTraceServiceRequest(serializedBytes: $0.value).resourceSpans.flatMap(\.scopeSpans).flatMap(\.spans) }
        let expected = try requests.flatMap { try ExportTraceServiceRequest(serializedBytes: $0).resourceSpans.flatMap(\.scopeSpans).flatMap(\.spans) }
        #expect(decoded.map(\.name) == expected.map(\.name))
    }

    func traceRequest(spans: Int, padding: Int) -> ExportTraceServiceRequest {
        var scope = ScopeSpans()
        scope.spans = (0..<spans).map { i in
            var span = Span()
            span.name = "s\(i)" + String(repeating: "x", count: padding)
            return span
        }
        var resource = ResourceSpans()
        resource.scopeSpans = [scope]
        return .with { $0.resourceSpans = [resource] }
    }
}

extension KafkaRecordPlan.Record {
    /// The value as the broker gets it.
    var value: [UInt8] { Array(message.valueParts.joined()) }
}
