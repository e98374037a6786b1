import Foundation
import OTLP
import Testing
@testable import Components

@Suite struct ElasticsearchDocumentTests {
    func attribute(_ key: String, _ value: String) -> KeyValue { .with { $0.key = key; $0.value.stringValue = value } }
    func attribute(_ key: String, int value: Int64) -> KeyValue { .with { $0.key = key; $0.value.intValue = value } }

    func encoder(_ yaml: String = "endpoint: http://localhost:9200\n", options: OtelDocumentEncoder.Options = .init()) throws -> OtelDocumentEncoder {
        OtelDocumentEncoder(router: DataStreamRouter(config: try decodeConfig(ElasticsearchExporterConfig.self, yaml)), options: options)
    }

    /// Each item's action line and document as text.
    func lines(_ body: BulkBody) -> [(action: String, document: String)] {
        body.items.map { item in
            let text = String(decoding: body.bytes[item.range], as: UTF8.self)
            let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
            return (String(parts[0]), String(parts[1]))
        }
    }

    @Test func spanDocumentHasTheOtelShapeAndItsEventIsALogDocument() throws {
        var span = Span()
        span.traceID = Data((1...16).map { UInt8($0) })
        span.spanID = Data([0xAA, 0xBB, 0xCC, 0xDD, 0, 0, 0, 1])
        span.name = "GET /<a>"
        span.kind = .server
        span.startTimeUnixNano = 1_710_273_641_123_000_005
        span.endTimeUnixNano = 1_710_273_641_273_000_005
        span.attributes = [attribute("http.method", "GET"), attribute("data_stream.namespace", "prod"), attribute("http.method", "POST")]
        span.status = .with { $0.code = .error; $0.message = "boom" }
        span.links = [.with { $0.traceID = Data(repeating: 2, count: 16); $0.spanID = Data(repeating: 3, count: 8) }]
        span.events = [.with { $0.name = "exception"; $0.timeUnixNano = 1_710_273_641_200_000_000; $0.attributes = [attribute("exception.type", "E")] }]
        var request = ExportTraceServiceRequest()
        request.resourceSpans = [.with {
            $0.resource.attributes = [attribute("service.name", "api"), attribute("data_stream.dataset", "Shop-Front")]
            $0.scopeSpans = [.with { $0.scope.name = "lib"; $0.spans = [span] }]
        }]
        var encoder = try encoder()
        encoder.encode(request)
        let items = lines(encoder.body)
        #expect(items.count == 2)
        let spanID = BulkBody.contentID(index: "traces-shop_front.otel-prod", document: Array(items[0].document.utf8))
        #expect(items[0].action == #"{"create":{"_id":"\#(spanID)","_index":"traces-shop_front.otel-prod"}}"#)
        #expect(items[0].document == #"{"@timestamp":"1710273641123.000005","data_stream":{"type":"traces","dataset":"shop_front.otel","namespace":"prod"},"trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"aabbccdd00000001","name":"GET /\u003ca\u003e","kind":"Server","duration":150000000,"attributes":{"http.method":"GET"},"links":[{"trace_id":"02020202020202020202020202020202","span_id":"0303030303030303"}],"status":{"message":"boom","code":"Error"},"resource":{"attributes":{"service.name":"api"}},"scope":{"name":"lib"}}"#)
        // Events route by their own attributes, then scope and resource, not by the span's.
        #expect(items[1].action.contains(#""_index":"logs-shop_front.otel-default""#))
        #expect(items[1].document == #"{"@timestamp":"1710273641200.000000","data_stream":{"type":"logs","dataset":"shop_front.otel","namespace":"default"},"trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"aabbccdd00000001","event_name":"exception","attributes":{"exception.type":"E","event.name":"exception"},"resource":{"attributes":{"service.name":"api"}},"scope":{"name":"lib"}}"#)
    }

    func logDocument(_ configure: (inout LogRecord) -> Void) throws -> String {
        var record = LogRecord()
        record.observedTimeUnixNano = 2_000_000_000
        configure(&record)
        var request = ExportLogsServiceRequest()
        request.resourceLogs = [.with { $0.scopeLogs = [.with { $0.logRecords = [record] }] }]
        var encoder = try encoder()
        encoder.encode(request)
        return lines(encoder.body)[0].document
    }

    @Test func logBodiesFollowTheStructuredAndTextRules() throws {
        let map = AnyValue.with { $0.kvlistValue.values = [attribute("a", int: 1)] }
        #expect(try logDocument { $0.body = map }.hasSuffix(#""body":{"structured":{"a":1}}}"#))
        #expect(try logDocument { $0.body.arrayValue.values = [map, map] }.hasSuffix(#""body":{"structured":[{"a":1},{"a":1}]}}"#))
        #expect(try logDocument { $0.body.arrayValue.values = [map, .with { $0.intValue = 2 }] }.hasSuffix(#""body":{"structured":{"value":[{"a":1},2]}}}"#))
        #expect(try logDocument { $0.body.stringValue = "line\n" }.hasSuffix(#""body":{"text":"line\n"}}"#))
        #expect(try logDocument { $0.body.bytesValue = Data([0xDE, 0xAD]) }.hasSuffix(#""body":{"text":"dead"}}"#))
        #expect(try logDocument { $0.body.doubleValue = 3 }.hasSuffix(#""body":{"text":3.0}}"#))
    }

    @Test func logRecordWithoutTimeIsPlacedAtItsObservedTime() throws {
        let document = try logDocument { $0.severityNumber = .warn; $0.severityText = "WARN"; $0.attributes = [attribute("event.name", "login")] }
        #expect(document == #"{"@timestamp":"2000.000000","observed_timestamp":"2000.000000","data_stream":{"type":"logs","dataset":"generic.otel","namespace":"default"},"severity_text":"WARN","severity_number":13,"attributes":{"event.name":"login"},"event_name":"login","resource":{},"scope":{}}"#)
    }

    func metricsRequest(_ metrics: [Metric]) -> ExportMetricsServiceRequest {
        .with { $0.resourceMetrics = [.with { $0.scopeMetrics = [.with { $0.metrics = metrics }] }] }
    }

    func gauge(_ name: String, _ value: Double, time: UInt64 = 5_000_000, attributes: [KeyValue] = []) -> Metric {
        .with { metric in
            metric.name = name
            metric.gauge.dataPoints = [.with { $0.asDouble = value; $0.timeUnixNano = time; $0.attributes = attributes }]
        }
    }

    @Test func metricPointsOfOneSeriesAndTimeShareADocument() throws {
        let host = [attribute("host", "a")]
        var cumulative = Metric()
        cumulative.name = "latency"
        cumulative.histogram.aggregationTemporality = .cumulative
        cumulative.histogram.dataPoints = [HistogramDataPoint(), HistogramDataPoint()]
        var counter = Metric()
        counter.name = "requests"
        counter.sum.isMonotonic = true
        counter.sum.aggregationTemporality = .cumulative
        counter.sum.dataPoints = [.with { $0.asInt = 7; $0.timeUnixNano = 5_000_000; $0.attributes = host }]
        var encoder = try encoder()
        encoder.encode(metricsRequest([gauge("cpu", 1, attributes: host), counter, gauge("cpu", 2, time: 6_000_000, attributes: host), cumulative, gauge("cpu", .nan)]))
        let items = lines(encoder.body)
        #expect(items.count == 2)
        #expect(items[0].action.contains(#""dynamic_templates":{"metrics.cpu":"gauge_double","metrics.requests":"counter_long"}"#))
        #expect(items[0].document.contains(#""@timestamp":5,"data_stream":{"type":"metrics","dataset":"generic.otel","namespace":"default"},"attributes":{"host":"a"},"resource":{},"scope":{},"metrics":{"cpu":1.0,"requests":7}"#))
        #expect(items[1].document.contains(#""metrics":{"cpu":2.0}"#))
        #expect(encoder.dropped["cumulative_histogram"]?.count == 2)
        #expect(encoder.dropped["not_a_number"]?.count == 1)
    }

    /// The shape Elastic's APM connector writes: three `us` metrics of one series, hinted so that
    /// Elasticsearch's own templates take them.
    @Test func mappingHintsGiveDocCountAndAggregateMetricDouble() throws {
        func hints(_ names: String...) -> KeyValue {
            .with { $0.key = "elasticsearch.mapping.hints"; $0.value.arrayValue.values = names.map { name in .with { $0.stringValue = name } } }
        }
        let series = [attribute("transaction.type", "request"), attribute("data_stream.dataset", "service_transaction.1m")]
        var exponential = Metric()
        exponential.name = "transaction.duration.histogram"
        exponential.unit = "us"
        exponential.exponentialHistogram.aggregationTemporality = .delta
        exponential.exponentialHistogram.dataPoints = [.with {
            $0.timeUnixNano = 60_000_000_000; $0.count = 5; $0.sum = 500; $0.scale = 0
            $0.positive.offset = 6; $0.positive.bucketCounts = [5]
            $0.attributes = series + [hints("_doc_count")]
        }]
        var summary = Metric()
        summary.name = "transaction.duration.summary"
        summary.unit = "us"
        summary.histogram.aggregationTemporality = .delta
        summary.histogram.dataPoints = [.with {
            $0.timeUnixNano = 60_000_000_000; $0.count = 5; $0.sum = 500; $0.explicitBounds = [1]; $0.bucketCounts = [0, 5]
            $0.attributes = series + [hints("aggregate_metric_double")]
        }]
        var success = summary
        success.name = "event.success_count"
        success.histogram.dataPoints[0].sum = 4
        var unhinted = summary
        unhinted.name = "latency"
        unhinted.unit = "ms"
        unhinted.histogram.dataPoints[0].attributes = series + [.with { $0.key = "elasticsearch.mapping.hints"; $0.value.stringValue = "aggregate_metric_double" }]
        var encoder = try encoder()
        encoder.encode(metricsRequest([exponential, summary, success, unhinted]))
        let items = lines(encoder.body)
        #expect(items.count == 2, "the three us metrics share one document; the ms one has its own")
        #expect(items[0].action.contains(#""_index":"metrics-service_transaction.1m.otel-default""#))
        #expect(items[0].action.contains(#""dynamic_templates":{"metrics.transaction.duration.histogram":"histogram","metrics.transaction.duration.summary":"summary","metrics.event.success_count":"summary"}"#))
        #expect(items[0].document.contains(#""attributes":{"transaction.type":"request"}"#), "hints and data_stream are no attributes")
        #expect(items[0].document.contains(#""metrics":{"transaction.duration.histogram":{"counts":[5],"values":[96.0]},"transaction.duration.summary":{"sum":500.0,"value_count":5},"event.success_count":{"sum":4.0,"value_count":5}},"_doc_count":5"#))
        #expect(items[1].document.contains(#""metrics":{"latency":{"counts":[5],"values":[1.0]}}"#), "a hint that is no list is none")
        #expect(!items[1].document.contains("_doc_count"))
    }

    @Test func histogramsBecomeCountsAtBucketMidpoints() {
        let (counts, values) = OtelDocumentEncoder.histogramBuckets(counts: [1, 0, 3, 2], bounds: [10, 20, 40], sum: 0, count: 6)
        #expect(counts == [1, 3, 2])
        #expect(values == [5, 30, 40])
        let (meanCounts, meanValues) = OtelDocumentEncoder.histogramBuckets(counts: [4], bounds: [], sum: 10, count: 4)
        #expect(meanCounts == [4] && meanValues == [2.5])
        var point = Opentelemetry_Proto_Metrics_V1_ExponentialHistogramDataPoint()
        point.scale = 0
        point.zeroCount = 1
        point.positive.offset = 1
        point.positive.bucketCounts = [2]
        point.negative.bucketCounts = [3]
        let (expCounts, expValues) = OtelDocumentEncoder.exponentialBuckets(point)
        #expect(expCounts == [3, 1, 2])
        #expect(expValues == [-1.5, 0, 3])
    }

    @Test func routingPrecedenceAndSanitising() throws {
        let router = DataStreamRouter(config: try decodeConfig(ElasticsearchExporterConfig.self, "endpoint: http://x:9200\n"))
        let scope = InstrumentationScope.with { $0.name = "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/cpuscraper" }
        let defaults = router.scopeDefaults(scope: scope, resource: [attribute("data_stream.namespace", "Team A")])
        #expect(router.route(.metrics, record: [], defaults: defaults).index == "metrics-hostmetricsreceiver.otel-team_a")
        #expect(router.route(.logs, record: [attribute("data_stream.dataset", "my-app")], defaults: defaults).index == "logs-my_app.otel-team_a")
        let indexed = router.scopeDefaults(scope: .with { $0.attributes = [attribute("elasticsearch.index", "scope-index")] },
                                           resource: [attribute("elasticsearch.index", "resource-index")])
        #expect(router.route(.logs, record: [], defaults: indexed) == Route(index: "scope-index"))
        #expect(router.route(.logs, record: [attribute("elasticsearch.index", "own")], defaults: indexed) == Route(index: "own"))
        let long = String(repeating: "x", count: 200)
        #expect(router.route(.logs, record: [attribute("data_stream.dataset", long)], defaults: defaults).dataStream?.dataset == String(repeating: "x", count: 95) + ".otel")

        let static_ = DataStreamRouter(config: try decodeConfig(ElasticsearchExporterConfig.self, """
            endpoint: http://x:9200
            logs_index: app-logs
            logstash_format: {enabled: true}
            """), now: Date(timeIntervalSince1970: 1_700_000_000))
        #expect(static_.route(.logs, record: [], defaults: defaults) == Route(index: "app-logs-2023.11.14"))
    }

    @Test func contentIDsAreStableAndDependOnTargetAndContent() {
        let document = Array(#"{"a":1}"#.utf8)
        let id = BulkBody.contentID(index: "logs-a", document: document)
        #expect(id == BulkBody.contentID(index: "logs-a", document: document))
        #expect(id.count == 22)
        // URL-safe base64 of the two hashes, big-endian, without padding (Foundation's encoder as
        // the reference, over documents whose hashes cover many bit patterns).
        let seed = XXHash64.hash(Array("logs-a".utf8))
        for document in [document] + (0..<64).map({ Array(#"{"n":\#($0)}"#.utf8) }) {
            let raw = [XXHash64.hash(document, seed: seed), XXHash64.hash(document, seed: seed ^ 0x9E37_79B9_7F4A_7C15)]
                .flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * $0)) } }
            let expected = Data(raw).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(BulkBody.contentID(index: "logs-a", document: document) == expected)
        }
        #expect(id != BulkBody.contentID(index: "logs-b", document: document))
        #expect(id != BulkBody.contentID(index: "logs-a", document: Array(#"{"a":2}"#.utf8)))
    }

    @Test func chunksStayUnderTheByteLimit() {
        var body = BulkBody()
        for n in 0..<10 { Array(#"{"n":\#(n)}"#.utf8).withUnsafeBytes { body.create(document: $0, route: Route(index: "i"), contentID: false) } }
        let size = body.items[0].range.count
        let chunks = body.chunks(of: Array(0..<10), maxBytes: size * 3)
        #expect(chunks == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]])
        #expect(Array(body.body(of: [1, 3])) == Array(body.bytes[body.items[1].range]) + Array(body.bytes[body.items[3].range]))
        #expect(Array(body.body(of: [1, 2])) == Array(body.bytes[body.items[1].range.lowerBound..<body.items[2].range.upperBound]))
    }

    @Test func jsonWriterEscapesLikeGoAndKeepsARadixPoint() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.string("a\"b\\c\u{1}<&>\u{2028}é")
        writer.double(2)
        writer.double(1e-7)
        writer.double(.infinity)
        writer.int(-3)
        writer.int(0)
        writer.int(.min)
        writer.uint(.max)
        writer.hex(Data([0x00, 0xAB, 0xFF]))
        writer.endArray()
        #expect(String(decoding: writer.bytes, as: UTF8.self)
            == #"["a\"b\\c\u0001\u003c\u0026\u003e\u2028é",2.0,1e-07,null,-3,0,-9223372036854775808,18446744073709551615,"00abff"]"#)
    }

    /// Strings of every length up to 40 with characters that need escaping (or look like they
    /// might) at every position, against a byte-by-byte reference: the writer copies clean runs
    /// eight bytes at a time and checks a string's end as its last eight bytes.
    @Test func jsonWriterEscapesAtEveryPositionAndLength() {
        func reference(_ text: [UInt8]) -> String {
            var out = "\""
            var index = 0
            while index < text.count {
                let byte = text[index]
                switch byte {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                case 0x00..<0x20, 0x3C, 0x3E, 0x26: out += String(format: "\\u%04x", byte)
                case 0xE2 where index + 2 < text.count && text[index + 1] == 0x80 && (text[index + 2] == 0xA8 || text[index + 2] == 0xA9):
                    out += text[index + 2] == 0xA8 ? "\\u2028" : "\\u2029"
                    index += 2
                default:
                    let length = byte < 0x80 ? 1 : byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
                    out += String(decoding: text[index..<(index + length)], as: UTF8.self)
                    index += length - 1
                }
                index += 1
            }
            return out + "\""
        }
        let specials: [[UInt8]] = ["\"", "\\", "\n", "\u{1}", "<", "&", ">", "é", "\u{2028}", "\u{2029}", "€", "\u{7F}"].map { Array($0.utf8) }
        var checked = 0
        for length in 0...40 {
            let plain = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            for special in specials {
                for position in 0...length {
                    let text = Array(plain[..<position]) + special + Array(plain[position...])
                    var writer = JSONWriter()
                    let written = text.withUnsafeBytes { writer.string(utf8: $0) }
                    #expect(written)
                    #expect(String(decoding: writer.bytes, as: UTF8.self) == reference(text), "\(text)")
                    checked += 1
                }
            }
            var writer = JSONWriter()
            writer.string(String(decoding: plain, as: UTF8.self))
            #expect(writer.bytes == Array(reference(plain).utf8))
        }
        #expect(checked > 5000)
    }

    @Test func jsonWriterRefusesInvalidUTF8AndWritesNothing() {
        for length in [1, 7, 8, 9, 16, 23] {
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("a")
            writer.int(1)
            var invalid = [UInt8](repeating: UInt8(ascii: "x"), count: length)
            invalid[length / 2] = 0xFF
            #expect(!invalid.withUnsafeBytes { writer.key(utf8: $0) })
            #expect(!invalid.withUnsafeBytes { writer.string(utf8: $0) })
            writer.key("b")
            #expect("ok".utf8.withContiguousStorageIfAvailable { writer.string(utf8: UnsafeRawBufferPointer($0)) } == true)
            writer.endObject()
            #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"a":1,"b":"ok"}"#, "length \(length)")
        }
    }

    @Test func twoSeedHashesEqualTwoRuns() {
        let bytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for length in 0...bytes.count {
            let prefix = Array(bytes[..<length])
            let pair = prefix.withUnsafeBytes { XXHash64.hashes($0, seeds: (7, 0x9E37_79B9_7F4A_7C15)) }
            #expect(pair.0 == XXHash64.hash(prefix, seed: 7))
            #expect(pair.1 == XXHash64.hash(prefix, seed: 0x9E37_79B9_7F4A_7C15))
        }
    }

    @Test func jsonWriterSeparatesMembersAtAnyDepth() {
        // Deeper than the 64 levels the writer tracks in one word: each level holds two members,
        // the second written after coming back from the nested one.
        let depth = 70
        var writer = JSONWriter()
        for _ in 0..<depth { writer.beginArray(); writer.int(1) }
        for _ in 0..<depth { writer.int(2); writer.endArray() }
        let expected = String(repeating: "[1,", count: depth) + "2" + String(repeating: "],2", count: depth - 1) + "]"
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
    }

    @Test func bulkResponsesAreReadPerItem() {
        let ok = Array(#"{"errors":false,"items":[{"create":{"status":201}}]}"#.utf8)
        #expect(BulkResponse.parse(ok, expectedItems: 1) == [BulkItemResult(status: 201)])
        let mixed = Array(#"{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":429,"error":{"type":"es_rejected_execution_exception"}}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad"}}}]}"#.utf8)
        #expect(BulkResponse.parse(mixed, expectedItems: 3) == [
            BulkItemResult(status: 201),
            BulkItemResult(status: 429, errorType: "es_rejected_execution_exception"),
            BulkItemResult(status: 400, errorType: "mapper_parsing_exception", errorReason: "bad"),
        ])
        #expect(BulkResponse.parse(Array("<html>".utf8), expectedItems: 1) == nil)
    }

    @Test func serverIsRecognisedFromItsRootAnswer() {
        let opensearch = ElasticsearchServer.from(rootResponse: Array(#"{"version":{"distribution":"opensearch","number":"3.8.0"}}"#.utf8))
        #expect(opensearch == ElasticsearchServer(distribution: .opensearch, major: 3, minor: 8))
        #expect(opensearch?.acceptsRequireDataStream == false)
        let elastic = ElasticsearchServer.from(rootResponse: Array(#"{"version":{"number":"8.11.4","build_flavor":"default"}}"#.utf8))
        #expect(elastic?.acceptsRequireDataStream == false)
        #expect(ElasticsearchServer.from(rootResponse: Array(#"{"version":{"number":"9.1.0"}}"#.utf8))?.acceptsRequireDataStream == true)
    }
}
