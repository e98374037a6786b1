import Foundation
import Testing
@testable import OTLP

@Suite struct OTLPJSONTests {
    /// The trace example of the OTLP specification's examples directory, in shape.
    static let specTraces = """
    {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
     "scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute","value":{"stringValue":"some scope attribute"}}]},
      "spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"EEE19B7EC3C1B173",
        "name":"I'm a server span","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,"kind":2,
        "attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}},{"key":"traceId","value":{"stringValue":"not-an-id"}},
                      {"key":"count","value":{"intValue":"42"}},{"key":"ratio","value":{"doubleValue":0.5}},
                      {"key":"ok","value":{"boolValue":true}},{"key":"raw","value":{"bytesValue":"AAEC"}},
                      {"key":"list","value":{"arrayValue":{"values":[{"intValue":1},{"stringValue":"x"}]}}},
                      {"key":"map","value":{"kvlistValue":{"values":[{"key":"inner","value":{"stringValue":"y"}}]}}}],
        "status":{"code":2,"message":"boom"},"unknownField":{"ignored":true}}]}]}]}
    """

    /// Every byte value, at every offset of a word and in every tail length, against Foundation's
    /// formatting; the bytes after the hex are left as they were.
    @Test func hexOfEveryByteAndLength() {
        let all = (0...255).map(UInt8.init) + (0...255).reversed().map(UInt8.init)
        for length in [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 32, 33, all.count] {
            for start in [0, 1, 2, 3, 100, all.count - length] where start + length <= all.count {
                let bytes = Array(all[start..<(start + length)])
                let expected = bytes.map { String(format: "%02x", $0) }.joined()
                var out = [UInt8](repeating: 0xEE, count: 2 * length + 3)
                bytes.withUnsafeBytes { source in out.withUnsafeMutableBytes { writeHex(source, into: $0) } }
                #expect(String(decoding: out[..<(2 * length)], as: UTF8.self) == expected, "\(length) bytes from \(start)")
                #expect(out[(2 * length)...].allSatisfy { $0 == 0xEE }, "nothing written past the hex")
            }
        }
    }

    @Test func decodesSpecExampleWithHexIdsAndMixedIntForms() throws {
        guard case .traces(let request) = try OTLPJSON.decode(.traces, Array(Self.specTraces.utf8)) else {
            Issue.record("wrong signal"); return
        }
        let span = try #require(request.resourceSpans.first?.scopeSpans.first?.spans.first)
        #expect(hexString(span.traceID) == "5b8efff798038103d269b633813fc60c")
        #expect(hexString(span.spanID) == "eee19b7ec3c1b174")
        #expect(hexString(span.parentSpanID) == "eee19b7ec3c1b173")
        #expect(span.startTimeUnixNano == 1_544_712_660_000_000_000)
        #expect(span.endTimeUnixNano == 1_544_712_661_000_000_000)
        #expect(span.kind == .server)
        #expect(span.status.code == .error)
        #expect(span.attributes[1].value.stringValue == "not-an-id")
        #expect(span.attributes[2].value.intValue == 42)
        #expect(span.attributes[5].value.bytesValue == Data([0, 1, 2]))
        #expect(span.attributes[7].value.kvlistValue.values[0].value.stringValue == "y")
    }

    @Test func encodesPerTheSpec() throws {
        let request = try OTLPJSON.decode(.traces, Array(Self.specTraces.utf8))
        let json = String(decoding: OTLPJSON.encode(request), as: UTF8.self)
        #expect(json.contains(#""traceId":"5b8efff798038103d269b633813fc60c""#))
        #expect(json.contains(#""kind":2"#))
        #expect(json.contains(#""startTimeUnixNano":"1544712660000000000""#))
        #expect(json.contains(#""intValue":"42""#))
        #expect(json.contains("resourceSpans"))
        #expect(!json.contains("resource_spans"))
    }

    @Test func jsonProtoJsonRoundTripIsLossless() throws {
        let first = try OTLPJSON.decode(.traces, Array(Self.specTraces.utf8))
        let bytes = first.protobufBytes()
        let viaProto = try OTLPRequest(signal: .traces, protobuf: bytes)
        let json = OTLPJSON.encode(viaProto)
        let second = try OTLPJSON.decode(.traces, json)
        #expect(second == first)
        #expect(OTLPJSON.encode(second) == json)
    }

    @Test func logsAndMetricsRoundTrip() throws {
        let logs = #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","severityNumber":9,"body":{"stringValue":"hi"},"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708"}]}]}]}"#
        let decodedLogs = try OTLPJSON.decode(.logs, Array(logs.utf8))
        #expect(try OTLPJSON.decode(.logs, OTLPJSON.encode(decodedLogs)) == decodedLogs)
        let metrics = #"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"asInt":"7","timeUnixNano":"5","exemplars":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","asDouble":1.5}]}]}}]}]}]}"#
        let decodedMetrics = try OTLPJSON.decode(.metrics, Array(metrics.utf8))
        #expect(decodedMetrics.itemCount == 1)
        #expect(try OTLPJSON.decode(.metrics, OTLPJSON.encode(decodedMetrics)) == decodedMetrics)
    }

    @Test func rejectsBadIdsAndBadJSON() throws {
        let shortID = #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"abcd"}]}]}]}"#
        let error = #expect(throws: OTLPDecodingError.self) { try OTLPJSON.decode(.traces, Array(shortID.utf8)) }
        #expect(error?.message == #"invalid JSON: traceId must be 32 hex characters, got "abcd""#)
        #expect(throws: OTLPDecodingError.self) { try OTLPJSON.decode(.traces, Array("{\"resourceSpans\": [".utf8)) }
        #expect(throws: OTLPDecodingError.self) { try OTLPJSON.decode(.traces, []) }
    }
}
