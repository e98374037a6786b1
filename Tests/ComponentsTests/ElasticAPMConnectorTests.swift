import Foundation
import OTLP
import Pipeline
import Synchronization
import Testing
@testable import Components

/// The `elasticapm` connector's metric sets against Elastic's golden case
/// (connector/elasticapmconnector/testdata/traces/transaction_metrics), its windows on an
/// injected clock, its histograms and its cardinality limits.
@Suite struct ElasticAPMConnectorTests {
    typealias Value = AnyValue.OneOf_Value

    static func kv(_ key: String, _ value: Value) -> KeyValue { .with { $0.key = key; $0.value.value = value } }
    static func table(_ attributes: [KeyValue]) -> [String: Value] {
        Dictionary(attributes.compactMap { entry in entry.value.value.map { (entry.key, $0) } }, uniquingKeysWith: { first, _ in first })
    }

    static let resource = [kv("service.name", .stringValue("foo")), kv("deployment.environment", .stringValue("qa")),
                           kv("telemetry.sdk.language", .stringValue("go")), kv("agent.name", .stringValue("otlp/go")),
                           kv("agent.version", .stringValue("unknown"))]

    /// The golden input's spans: two root transactions of 11 s, one 2xx success and one 5xx failure.
    static func goldenSpan(status: Int64, result: String, outcome: String) -> Span {
        .with {
            $0.name = "http-span"
            $0.startTimeUnixNano = 1_581_452_772_000_000_321
            $0.endTimeUnixNano = 1_581_452_783_000_000_789
            $0.attributes = [
                kv("http.request.method", .stringValue("POST")), kv("http.response.status_code", .intValue(status)),
                kv("transaction.root", .boolValue(true)), kv("transaction.name", .stringValue("http-span")),
                kv("processor.event", .stringValue("transaction")), kv("transaction.type", .stringValue("request")),
                kv("transaction.result", .stringValue(result)), kv("event.outcome", .stringValue(outcome)),
            ]
        }
    }

    final class Clock: Sendable {
        let value = Mutex<UInt64>(0)
        func set(_ seconds: Double) { value.withLock { $0 = UInt64(seconds * 1e9) } }
        var now: UInt64 { value.withLock { $0 } }
    }

    static func connector(_ yaml: String = "{}", clock: Clock, sink: RecordingConsumer) throws -> ElasticAPMConnector {
        ElasticAPMConnector(config: try decodeConfig(ElasticAPMConnectorConfig.self, yaml), settings: settings("elasticapm", .connector),
                            next: sink, now: { clock.now })
    }

    static func traces(_ spans: [Span], resource: [KeyValue] = resource, traceState: String = "") -> TelemetryBatch {
        let spans = spans.map { span in var span = span; span.traceState = traceState; return span }
        return TelemetryBatch(.traces(.with { $0.resourceSpans = [.with { $0.resource.attributes = resource; $0.scopeSpans = [.with { $0.spans = spans }] }] }))
    }

    /// Every exported metric by (interval label, metric name), with its resource.
    static func exported(_ sink: RecordingConsumer) throws -> [(resource: [String: Value], metric: Metric)] {
        var out: [(resource: [String: Value], metric: Metric)] = []
        for var batch in sink.received.withLock({ $0 }) {
            guard case .metrics(let data) = try batch.model() else { continue }
            for entry in data.resourceMetrics {
                #expect(entry.scopeMetrics.map(\.scope.name) == [IntervalAggregation.scopeName])
                for scope in entry.scopeMetrics { for metric in scope.metrics { out.append((table(entry.resource.attributes), metric)) } }
            }
        }
        return out
    }

    /// The interval labels of everything exported so far.
    static func intervals(_ sink: RecordingConsumer) throws -> Set<String> {
        Set(try exported(sink).compactMap { entry -> String? in
            guard case .stringValue(let label)? = attributes(of: entry.metric).first?["metricset.interval"] else { return nil }
            return label
        })
    }

    static func attributes(of metric: Metric) -> [[String: Value]] {
        switch metric.data {
        case .sum(let data): data.dataPoints.map { table($0.attributes) }
        case .histogram(let data): data.dataPoints.map { table($0.attributes) }
        case .exponentialHistogram(let data): data.dataPoints.map { table($0.attributes) }
        default: []
        }
    }

    @Test func goldenTransactionMetrics() async throws {
        let clock = Clock(), sink = RecordingConsumer()
        clock.set(1_000)
        let connector = try Self.connector(clock: clock, sink: sink)
        try await connector.consume(Self.traces([Self.goldenSpan(status: 201, result: "HTTP 2xx", outcome: "success"),
                                                 Self.goldenSpan(status: 503, result: "HTTP 5xx", outcome: "failure")]))
        await connector.shutdown()
        let metrics = try Self.exported(sink)
        let oneMinute = metrics.filter { Self.attributes(of: $0.metric).first?["metricset.interval"] == .stringValue("1m") }
        #expect(try Self.intervals(sink) == ["1m", "10m", "60m"])
        #expect(metrics.count == 3 * oneMinute.count, "the same metrics in each interval")

        let common: [String: Value] = ["agent.name": .stringValue("otlp/go"), "deployment.environment": .stringValue("qa"),
                                       "service.name": .stringValue("foo"), "telemetry.sdk.language": .stringValue("go")]
        let summary = try #require(oneMinute.first { $0.metric.name == "service_summary" })
        #expect(summary.resource == common)
        #expect(summary.metric.sum.aggregationTemporality == .delta)
        #expect(summary.metric.sum.dataPoints.map(\.asInt) == [2])
        #expect(Self.attributes(of: summary.metric) == [[
            "data_stream.dataset": .stringValue("service_summary.1m"), "metricset.interval": .stringValue("1m"),
            "metricset.name": .stringValue("service_summary"), "processor.event": .stringValue("metric"),
        ]])
        #expect(summary.metric.sum.dataPoints[0].timeUnixNano == 1_000_000_000_000)

        let serviceTransaction = oneMinute.filter { $0.resource == common && Self.attributes(of: $0.metric).first?["metricset.name"] == .stringValue("service_transaction") }
        let histogram = try #require(serviceTransaction.first { $0.metric.name == "transaction.duration.histogram" }?.metric)
        #expect(histogram.description_p == "APM service transaction aggregated metrics as histogram" && histogram.unit == "us")
        let point = try #require(histogram.exponentialHistogram.dataPoints.first)
        #expect(point.count == 2 && point.sum == 2.2e7 && point.min == 1.1e7 && point.max == 1.1e7)
        #expect(point.scale == 20 && point.positive.offset == 24_527_241 && point.positive.bucketCounts == [2])
        #expect(Self.table(point.attributes) == [
            "data_stream.dataset": .stringValue("service_transaction.1m"), "metricset.interval": .stringValue("1m"),
            "metricset.name": .stringValue("service_transaction"), "processor.event": .stringValue("metric"),
            "transaction.root": .boolValue(true), "transaction.type": .stringValue("request"),
            "elasticsearch.mapping.hints": .arrayValue(.with { $0.values = [.with { $0.stringValue = "_doc_count" }] }),
        ])
        let durationSummary = try #require(serviceTransaction.first { $0.metric.name == "transaction.duration.summary" }?.metric.histogram.dataPoints.first)
        #expect(durationSummary.explicitBounds == [1] && durationSummary.bucketCounts == [0, 2] && durationSummary.sum == 2.2e7 && durationSummary.count == 2)
        let success = try #require(serviceTransaction.first { $0.metric.name == "event.success_count" }?.metric.histogram.dataPoints.first)
        #expect(success.bucketCounts == [2, 0] && success.sum == 1 && success.count == 2)

        let transaction = oneMinute.filter { Self.attributes(of: $0.metric).first?["metricset.name"] == .stringValue("transaction") }
        let transactionHistogram = try #require(transaction.first { $0.metric.name == "transaction.duration.histogram" }?.metric)
        #expect(transactionHistogram.description_p == "APM transaction aggregated metrics as histogram")
        let outcomes = transactionHistogram.exponentialHistogram.dataPoints.map { (Self.table($0.attributes)["event.outcome"], Self.table($0.attributes)["transaction.result"], $0.count) }
        #expect(outcomes.count == 2)
        #expect(outcomes.contains { $0.0 == .stringValue("success") && $0.1 == .stringValue("HTTP 2xx") && $0.2 == 1 })
        #expect(outcomes.contains { $0.0 == .stringValue("failure") && $0.1 == .stringValue("HTTP 5xx") && $0.2 == 1 })
        #expect(oneMinute.allSatisfy { $0.metric.name != "span.destination.service.response_time.count" }, "no span has a destination")
    }

    @Test func windowsCloseOnTheClockAndShutdownFlushesTheRest() async throws {
        let clock = Clock(), sink = RecordingConsumer()
        clock.set(30)
        let connector = try Self.connector(clock: clock, sink: sink)
        // A sampling threshold of 8 (one in two kept): each span counts twice.
        try await connector.consume(Self.traces([Self.goldenSpan(status: 200, result: "HTTP 2xx", outcome: "success")], traceState: "ot=th:8"))
        await connector.export(connector.harvest(now: 59_000_000_000))
        #expect(sink.received.withLock { $0.isEmpty }, "no window has ended")
        await connector.export(connector.harvest(now: 60_000_000_000))
        #expect(try Self.intervals(sink) == ["1m"])
        let summary = try #require(try Self.exported(sink).first { $0.metric.name == "service_summary" })
        #expect(summary.metric.sum.dataPoints.map(\.asInt) == [2], "weighted by the adjusted count")
        await connector.export(connector.harvest(now: 600_000_000_000))
        #expect(try Self.intervals(sink) == ["1m", "10m"])
        await connector.shutdown()
        #expect(try Self.intervals(sink) == ["1m", "10m", "60m"])
        sink.received.withLock { $0 = [] }
        await connector.shutdown()
        #expect(sink.received.withLock { $0.isEmpty }, "nothing is exported twice")
    }

    /// 1,000 transactions of two services, 5% failing: exact counts and success ratios.
    /// Two services' spans, in a request each or as two resource entries of one request (whose
    /// series differ only by their resource).
    @Test(arguments: [false, true])
    func successRatiosPerService(oneRequest: Bool) async throws {
        let clock = Clock(), sink = RecordingConsumer()
        clock.set(120)
        let connector = try Self.connector("aggregation: {intervals: [1m]}", clock: clock, sink: sink)
        var entries: [ResourceSpans] = []
        for service in ["cart", "payment"] {
            var resource = Self.resource
            resource[0] = Self.kv("service.name", .stringValue(service))
            let spans = (0..<500).map { index in
                index % 20 == 0 ? Self.goldenSpan(status: 500, result: "HTTP 5xx", outcome: "failure")
                    : Self.goldenSpan(status: 200, result: "HTTP 2xx", outcome: "success")
            }
            entries.append(.with { $0.resource.attributes = resource; $0.scopeSpans = [.with { $0.spans = spans }] })
        }
        let requests = oneRequest ? [entries] : entries.map { [$0] }
        for request in requests {
            var batch = TelemetryBatch(.traces(.with { $0.resourceSpans = request }))
            try await connector.consume(try TelemetryBatch(signal: .traces, protobuf: batch.encoded()))
        }
        await connector.shutdown()
        let metrics = try Self.exported(sink)
        for service in ["cart", "payment"] {
            let success = try #require(metrics.first {
                $0.resource["service.name"] == .stringValue(service) && $0.metric.name == "event.success_count"
                    && Self.attributes(of: $0.metric).first?["metricset.name"] == .stringValue("service_transaction")
            })
            let point = try #require(success.metric.histogram.dataPoints.first)
            #expect(point.count == 500 && point.sum == 475, "\(service): 475 of 500 succeeded")
            let summary = try #require(metrics.first { $0.resource["service.name"] == .stringValue(service) && $0.metric.name == "service_summary" })
            #expect(summary.metric.sum.dataPoints.map(\.asInt) == [500])
        }
    }

    @Test func logsAndMetricsCountInTheServiceSummary() async throws {
        let clock = Clock(), sink = RecordingConsumer()
        let connector = try Self.connector(clock: clock, sink: sink)
        try await connector.consume(TelemetryBatch(.logs(.with {
            $0.resourceLogs = [.with { $0.resource.attributes = [Self.kv("service.name", .stringValue("api"))]; $0.scopeLogs = [.with { $0.logRecords = [LogRecord(), LogRecord(), LogRecord()] }] }]
        })))
        try await connector.consume(TelemetryBatch(.metrics(.with {
            $0.resourceMetrics = [.with {
                $0.resource.attributes = [Self.kv("service.name", .stringValue("api"))]
                $0.scopeMetrics = [.with { $0.metrics = [.with { $0.name = "m"; $0.gauge.dataPoints = [NumberDataPoint(), NumberDataPoint()] }] }]
            }]
        })))
        await connector.shutdown()
        let summaries = try Self.exported(sink).filter { $0.metric.name == "service_summary" }
        #expect(summaries.count == 3)
        #expect(summaries.allSatisfy { $0.metric.sum.dataPoints.map(\.asInt) == [5] })
        #expect(summaries.allSatisfy { $0.resource == ["service.name": .stringValue("api"), "agent.name": .stringValue("unknown")] },
                "agent.name defaults to unknown; absent resource keys are left out")
    }

    @Test func cardinalityLimitsOverflowIntoOtherAndCounts() async throws {
        let clock = Clock(), sink = RecordingConsumer()
        let yaml = "aggregation: {intervals: [1m], limits: {resource: {max_cardinality: 2}, datapoint: {max_cardinality: 1}}}"
        let connector = try Self.connector(yaml, clock: clock, sink: sink)
        for service in ["a", "b", "c", "d"] {
            var resource = Self.resource
            resource[0] = Self.kv("service.name", .stringValue(service))
            try await connector.consume(Self.traces([Self.goldenSpan(status: 200, result: "HTTP 2xx", outcome: "success"),
                                                     Self.goldenSpan(status: 500, result: "HTTP 5xx", outcome: "failure")], resource: resource))
        }
        await connector.shutdown()
        let metrics = try Self.exported(sink)
        let services = Set(metrics.compactMap { entry -> String? in
            guard case .stringValue(let name)? = entry.resource["service.name"] else { return nil }
            return name
        })
        #expect(services == ["a", "b", "_other"])
        let other = try #require(metrics.first { $0.resource["service.name"] == .stringValue("_other") && $0.metric.name == "service_summary" })
        #expect(other.resource["overflow"] == .stringValue("resource"))
        #expect(other.metric.sum.dataPoints.map(\.asInt) == [4], "c and d together")
        let overflow = metrics.filter { $0.metric.name == "_overflow_datapoints" && $0.resource["service.name"] == .stringValue("a") }
        #expect(overflow.count == 1)
        #expect(overflow.first?.metric.sum.dataPoints.map(\.asInt) == [3], "the failure series of the three transaction metrics")
        #expect(Self.attributes(of: try #require(overflow.first?.metric)).first?["data_stream.dataset"] == .stringValue("<nil>.1m"))
    }

    /// Spans of every set, with thresholds, composite spans, custom keys, values of several types
    /// and repeated keys: summing a batch per series first must export what one span per batch
    /// does.
    @Test func aBatchSummedFirstExportsWhatOneSpanAtATimeDoes() async throws {
        let spans: [Span] = (0..<400).map { index in
            var span = Self.goldenSpan(status: 200, result: index % 3 == 0 ? "HTTP 5xx" : "HTTP 2xx", outcome: index % 3 == 0 ? "failure" : "success")
            span.name = "op-\(index % 4)"
            span.startTimeUnixNano = 1_000_000_000
            span.endTimeUnixNano = 1_000_000_000 + 1 + UInt64(index) * 12_345_678_901 % 5_000_000_000
            if index % 2 == 1 {
                span.parentSpanID = Data([1, 2, 3, 4, 5, 6, 7, 8])
                span.attributes = [
                    Self.kv("service.target.type", .stringValue("db")), Self.kv("service.target.name", .stringValue("orders-\(index % 3)")),
                    Self.kv("span.destination.service.resource", .stringValue("postgresql")), Self.kv("event.outcome", .stringValue("success")),
                    Self.kv("event.outcome", .stringValue("ignored: the first entry counts")),
                ]
                if index % 5 == 0 { span.attributes += [Self.kv("span.composite.count", .intValue(3)), Self.kv("span.composite.sum.us", .doubleValue(1500.5))] }
            }
            if index % 7 == 0 { span.attributes.append(Self.kv("team", .intValue(Int64(index % 2)))) }
            if index % 11 == 0 { span.attributes.append(Self.kv("team", .arrayValue(.with { $0.values = [.with { $0.boolValue = true }] }))) }
            span.traceState = index % 4 == 0 ? "ot=th:8" : ""
            return span
        }
        func export(_ batches: [[Span]]) async throws -> [Metric] {
            let clock = Clock(), sink = RecordingConsumer()
            clock.set(30)
            let connector = try Self.connector("custom_span_attributes: [team]", clock: clock, sink: sink)
            for spans in batches {
                try await connector.consume(TelemetryBatch(.traces(.with {
                    $0.resourceSpans = [.with { $0.resource.attributes = Self.resource; $0.scopeSpans = [.with { $0.spans = spans }] }]
                })))
            }
            await connector.shutdown()
            return try Self.exported(sink).map(\.metric)
        }
        let together = try await export([spans])
        let apart = try await export(spans.map { [$0] })
        #expect(Set(together.map(\.name)) == ["service_summary", "transaction.duration.histogram", "transaction.duration.summary", "event.success_count",
                                               "span.destination.service.response_time.sum.us", "span.destination.service.response_time.count"])
        #expect(together.count == apart.count)
        for (one, other) in zip(together, apart) { #expect(one == other, "\(one.name)") }
        let composite = together.first { $0.name == "span.destination.service.response_time.count" }?.sum.dataPoints.reduce(0) { $0 + $1.asInt } ?? 0
        #expect(composite == 160 + 40 * 3, "200 destination spans, 40 of them composites of 3 calls")
    }

    /// A span's fields are read whatever their shape: fields of two-byte tags (unknown ones and
    /// the span's flags) before and after the others, a start time given twice (the last counts,
    /// as when decoded), an attribute entry over 127 bytes. The same spans written plainly give
    /// the same metrics.
    @Test func spansAreReadTheSameInAnyShape() async throws {
        let spans: [Span] = (0..<6).map { index in
            var span = Self.goldenSpan(status: 200, result: "HTTP 2xx", outcome: index % 2 == 0 ? "success" : "failure")
            span.name = "op-\(index % 2)"
            if index % 3 == 0 { span.attributes.append(Self.kv("long", .stringValue(String(repeating: "x", count: 200)))) }
            return span
        }
        func export(shaped: Bool) async throws -> [Metric] {
            var scope = WireWriter()
            for span in spans {
                var body: [UInt8] = []
                if shaped {
                    body += [0xA0, 0x06, 0x01]  // field 100, varint 1
                    body += [0x39] + withUnsafeBytes(of: UInt64(5).littleEndian, Array.init)  // start_time, overwritten below
                }
                body += try span.serializedBytes() as [UInt8]
                if shaped { body += [0x85, 0x01, 1, 0, 0, 0, 0xFA, 0x06, 0x02, 0x68, 0x69] }  // flags; field 111, "hi"
                scope.lengthDelimited(field: 2, body)
            }
            var resourceSpans = WireWriter()
            resourceSpans.lengthDelimited(field: 1, try Resource.with { $0.attributes = Self.resource }.serializedBytes() as [UInt8])
            resourceSpans.lengthDelimited(field: 2, scope.bytes)
            var request = WireWriter()
            request.lengthDelimited(field: 1, resourceSpans.bytes)
            let clock = Clock(), sink = RecordingConsumer()
            clock.set(30)
            let connector = try Self.connector("custom_span_attributes: [long]", clock: clock, sink: sink)
            try await connector.consume(try TelemetryBatch(signal: .traces, protobuf: request.bytes))
            await connector.shutdown()
            return try Self.exported(sink).map(\.metric)
        }
        let plain = try await export(shaped: false), shaped = try await export(shaped: true)
        #expect(plain.count > 0 && plain.count == shaped.count)
        for (one, other) in zip(plain, shaped) { #expect(one == other, "\(one.name)") }
        let summary = try #require(shaped.first { $0.name == "service_summary" })
        #expect(summary.sum.dataPoints.map(\.asInt) == [6])
    }

    /// Keys are told apart by their length and their first and last eight bytes before their
    /// bytes are compared: keys that agree on those but differ inside, short keys, and a custom
    /// key that is also one of the sets' own.
    @Test func customKeysAreFoundByTheirWholeBytes() async throws {
        let clock = Clock(), sink = RecordingConsumer()
        let custom = ["team", "cluster1", "transaction.type", "a.sixteen.bytes!", "seventeen.bytes.k", "team"]
        let connector = try Self.connector("custom_span_attributes: [\(custom.joined(separator: ", "))]", clock: clock, sink: sink)
        var span = Self.goldenSpan(status: 200, result: "HTTP 2xx", outcome: "success")
        span.attributes += [
            Self.kv("seventeen.XXXXX.k", .stringValue("same ends, other middle")), Self.kv("teal", .stringValue("no")),
            Self.kv("cluster2", .stringValue("no")), Self.kv("team", .intValue(7)), Self.kv("cluster1", .boolValue(true)),
            Self.kv("a.sixteen.bytes!", .doubleValue(0.5)), Self.kv("seventeen.bytes.k", .stringValue("yes")), Self.kv("team", .intValue(8)),
        ]
        try await connector.consume(Self.traces([span]))
        await connector.shutdown()
        let histogram = try #require(try Self.exported(sink).first {
            $0.metric.name == "transaction.duration.histogram" && Self.attributes(of: $0.metric).first?["metricset.name"] == .stringValue("transaction")
        })
        let point = try #require(histogram.metric.exponentialHistogram.dataPoints.first)
        let table = Self.table(point.attributes)
        #expect(table["team"] == .intValue(7), "the first entry of a key")
        #expect(table["cluster1"] == .boolValue(true) && table["a.sixteen.bytes!"] == .doubleValue(0.5))
        #expect(table["seventeen.bytes.k"] == .stringValue("yes"))
        #expect(table["transaction.type"] == .stringValue("request"))
        #expect(point.attributes.filter { $0.key == "transaction.type" || $0.key == "team" }.count == 2,
                "a key listed twice, or one of the set's own listed as custom, is held once, as in a pdata map")
        #expect(table["teal"] == nil && table["cluster2"] == nil && table["seventeen.XXXXX.k"] == nil)
    }

    /// A custom resource key that the sets copy anyway is held once.
    @Test func customResourceKeysAreHeldOnce() async throws {
        let clock = Clock(), sink = RecordingConsumer()
        let connector = try Self.connector("custom_resource_attributes: [host.name, service.name, host.name, team]", clock: clock, sink: sink)
        try await connector.consume(Self.traces([Self.goldenSpan(status: 200, result: "HTTP 2xx", outcome: "success")],
                                                resource: Self.resource + [Self.kv("host.name", .stringValue("h1")), Self.kv("team", .stringValue("a"))]))
        await connector.shutdown()
        let exported = try Self.exported(sink)
        #expect(!exported.isEmpty)
        var keys = Set<String>()
        for var batch in sink.received.withLock({ $0 }) {
            guard case .metrics(let data) = try batch.model() else { continue }
            for entry in data.resourceMetrics {
                let names = entry.resource.attributes.map(\.key)
                #expect(names.count == Set(names).count, "\(names)")
                keys.formUnion(names)
            }
        }
        #expect(keys.isSuperset(of: ["host.name", "team", "service.name"]))
    }

    /// Series keys keep every attribute type, whether made from decoded or encoded attributes.
    @Test func seriesKeysHoldTheirAttributes() throws {
        let values: [KeyValue] = [
            Self.kv("s", .stringValue("text")), Self.kv("", .stringValue("")), Self.kv("t", .boolValue(true)), Self.kv("f", .boolValue(false)),
            // Longer than the entries written whole on the stack.
            Self.kv("long", .stringValue(String(repeating: "ü", count: 200))),
            Self.kv("i", .intValue(-42)), Self.kv("d", .doubleValue(2.5)), Self.kv("b", .bytesValue(Data([0xFF, 0x00]))),
            Self.kv("a", .arrayValue(.with { $0.values = [.with { $0.intValue = 1 }, .with { $0.stringValue = "x" }] })),
            Self.kv("m", .kvlistValue(.with { $0.values = [Self.kv("k", .doubleValue(1))] })), KeyValue.with { $0.key = "empty"; $0.value = AnyValue() },
        ]
        let key = SeriesKey(values)
        #expect(key.attributes == values)
        var encoded: [UInt8] = []
        let span = Span.with { $0.attributes = values }
        let bytes: [UInt8] = try span.serializedBytes()
        try bytes.withUnsafeBytes { buffer in
            try WireFields(buffer, 0..<buffer.count).forEachOccurrence(9) { _, entry in
                // An empty key is not written at all.
                let (name, value) = WireFields.keyValue(buffer, entry)
                guard let value else { return false }
                SeriesKey.append(key: UnsafeRawBufferPointer(rebasing: buffer[name ?? 0..<0]), value: WireAnyValue(buffer, value), to: &encoded)
                return true
            }
        }
        #expect(SeriesKey(encoded) == key, "an attribute read from its encoding keys the same series")
    }

    @Test func exponentialHistogramsStayWithin160BucketsAndMergeAsTheyAdd() {
        var direct = ExponentialHistogramState()
        var left = ExponentialHistogramState(), right = ExponentialHistogramState()
        for (index, value) in stride(from: 1.0, to: 1e9, by: 7_919_123.5).enumerated() {
            direct.add(value, count: 2)
            if index % 2 == 0 { left.add(value, count: 2) } else { right.add(value, count: 2) }
        }
        #expect(direct.positive.counts.count <= 160)
        #expect(direct.scale < ExponentialHistogramState.initialScale)
        #expect(direct.positive.counts.reduce(0, +) == direct.count)
        left.merge(right)
        #expect(left.count == direct.count && left.scale == direct.scale && left.positive == direct.positive)
        #expect(left.min == direct.min && left.max == direct.max)
        var one = ExponentialHistogramState()
        one.add(1.1e7, count: 1)
        #expect(one.positive.offset == 24_527_241, "log2(1.1e7)·2^20, rounded up, less one")
        #expect(ExponentialHistogramState.index(4, scale: 0) == 1, "an exact power of the base falls in the bucket below")
    }

    @Test func configKeysAndErrors() throws {
        let config = try decodeConfig(ElasticAPMConnectorConfig.self, "custom_resource_attributes: [team, {key: region}]")
        #expect(config.custom_resource_attributes.map(\.key) == ["team", "region"])
        #expect(config.aggregation.limits.resource.max_cardinality == 8000)
        #expect(config.aggregation.intervals.map(\.nanoseconds) == [60_000_000_000, 600_000_000_000, 3_600_000_000_000])
        #expect(throws: ConfigError.self) { try decodeConfig(ElasticAPMConnectorConfig.self, "aggregation: {intervals: [1m, 90s]}") }
        #expect(throws: ConfigError.self) { try decodeConfig(ElasticAPMConnectorConfig.self, "aggregation: {intervals: [10m, 1m]}") }
        #expect(throws: (any Error).self) { try decodeConfig(ElasticAPMConnectorConfig.self, "custom_resource_attributes: [{keys_expression: 'x'}]") }
        #expect(throws: (any Error).self) { try decodeConfig(ElasticAPMConnectorConfig.self, "aggregation: {no_such_key: 1}") }
        let many = (0...SpanReading.maxCustomKeys).map { "k\($0)" }.joined(separator: ", ")
        #expect(throws: ConfigError.self) { try decodeConfig(ElasticAPMConnectorConfig.self, "custom_span_attributes: [\(many)]") }
    }
}
