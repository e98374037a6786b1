import Foundation
import OTLP
import Pipeline
import Testing
@testable import Components

@Suite struct TailSamplingPolicyTests {
    func policy(_ yaml: String) throws -> SamplingPolicy {
        let config = try decodeConfig(TailSamplingConfig.self, "policies:\n  - name: p\n" + yaml.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n")
        return try SamplingPolicies.build(config.policies, path: "policies")[0]
    }

    /// The spans as one trace held from an encoded request, as the processor holds them.
    func trace(_ spans: [Span], resource: [KeyValue] = [], id: Data = Data(repeating: 1, count: 16)) -> TraceView {
        let request = ExportTraceServiceRequest.with {
            $0.resourceSpans = [.with {
                $0.resource.attributes = resource
                $0.scopeSpans = [.with { $0.spans = spans.map { span in var span = span; span.traceID = id; return span } }]
            }]
        }
        let held = try! HeldRequest.hold(try! request.serializedBytes())
        precondition(held.count == 1 && held[0].1.count == spans.count)
        var open = RequestOpener()
        return try! TraceView(traceID: held[0].0, spans: held[0].1, &open)
    }

    func span(ms start: UInt64 = 0, _ duration: UInt64 = 10, status: SpanStatus.StatusCode = .unset, attributes: [KeyValue] = [],
              traceState: String = "") -> Span {
        .with {
            $0.startTimeUnixNano = start * 1_000_000
            $0.endTimeUnixNano = (start + duration) * 1_000_000
            $0.status.code = status
            $0.attributes = attributes
            $0.traceState = traceState
        }
    }

    func kv(_ key: String, _ value: String) -> KeyValue { .with { $0.key = key; $0.value.stringValue = value } }
    func kv(_ key: String, int: Int64) -> KeyValue { .with { $0.key = key; $0.value.intValue = int } }
    func kv(_ key: String, bool: Bool) -> KeyValue { .with { $0.key = key; $0.value.boolValue = bool } }

    @Test func latencySpansTheWholeTrace() throws {
        let p = try policy("type: latency\nlatency: {threshold_ms: 100}")
        #expect(p.decide(trace([span(ms: 0, 50), span(ms: 80, 40)])) == .sampled, "0 ms to 120 ms")
        #expect(p.decide(trace([span(ms: 0, 50)])) == .notSampled)
        let bounded = try policy("type: latency\nlatency: {threshold_ms: 100, upper_threshold_ms: 200}")
        #expect(bounded.decide(trace([span(ms: 0, 100)])) == .notSampled, "the lower bound is exclusive with an upper bound")
        #expect(bounded.decide(trace([span(ms: 0, 200)])) == .sampled)
        #expect(bounded.decide(trace([span(ms: 0, 201)])) == .notSampled)
    }

    /// A trace whose spans lie under two resources and three scopes of one request, in an order
    /// that goes back to an earlier scope: each span is read with its own scope and resource.
    @Test func spansAreReadWithTheirOwnScopeAndResource() throws {
        let id = Data(repeating: 7, count: 16)
        func spans(_ names: [String]) -> [Span] { names.map { name in .with { $0.name = name; $0.traceID = id } } }
        let request = ExportTraceServiceRequest.with {
            $0.resourceSpans = [
                .with {
                    $0.resource.attributes = [kv("service.name", "web")]
                    $0.scopeSpans = [.with { $0.scope.name = "a"; $0.spans = spans(["w1"]) },
                                     .with { $0.scope.name = "b"; $0.spans = spans(["w2"]) }]
                },
                .with {
                    $0.resource.attributes = [kv("service.name", "db"), kv("tier", "backend")]
                    $0.scopeSpans = [.with { $0.scope.name = "c"; $0.spans = spans(["d1", "d2"]) }]
                },
            ]
        }
        let held = try HeldRequest.hold(try request.serializedBytes())
        try #require(held.count == 1 && held[0].1.count == 4)
        // Held in another order than received, coming back to the first scope at the end.
        let order = [held[0].1[2], held[0].1[0], held[0].1[3], held[0].1[1], held[0].1[0]]
        var open = RequestOpener()
        let view = try TraceView(traceID: held[0].0, spans: order, &open)
        #expect(view.envelopes.count == 3, "one envelope per scope entry, however often its spans come")
        #expect(view.spans.map { view.scope($0).string(1) } == ["c", "a", "c", "b", "a"])
        #expect(view.spans.map { ScalarValue(view.resource($0), 1, Array("service.name".utf8)).map { value -> String in
            guard case .string(let text) = value else { return "?" }
            return String(decoding: text, as: UTF8.self)
        } } == ["db", "web", "db", "web", "web"])
        let tier = try policy("type: string_attribute\nstring_attribute: {key: tier, values: [backend]}")
        #expect(tier.decide(view) == .sampled, "an attribute of the second resource")
        let ottl = try policy("type: ottl_condition\nottl_condition: {span: ['resource.attributes[\"service.name\"] == \"web\" and scope.name == \"b\" and name == \"w2\"']}")
        #expect(ottl.decide(view) == .sampled)
        let none = try policy("type: ottl_condition\nottl_condition: {span: ['resource.attributes[\"service.name\"] == \"db\" and scope.name != \"c\"']}")
        #expect(none.decide(view) == .notSampled)
    }

    @Test func attributePolicies() throws {
        let numeric = try policy("type: numeric_attribute\nnumeric_attribute: {key: http.status_code, min_value: 500}")
        #expect(numeric.decide(trace([span(attributes: [kv("http.status_code", int: 503)])])) == .sampled)
        #expect(numeric.decide(trace([span(attributes: [kv("http.status_code", int: 200)])])) == .notSampled)
        #expect(numeric.decide(trace([span()], resource: [kv("http.status_code", int: 500)])) == .sampled, "resource attributes count")
        let inverted = try policy("type: numeric_attribute\nnumeric_attribute: {key: n, min_value: 1, max_value: 5, invert_match: true}")
        #expect(inverted.decide(trace([span(attributes: [kv("n", int: 3)])])) == .invertNotSampled)
        #expect(inverted.decide(trace([span(attributes: [kv("n", int: 9)])])) == .invertSampled)
        let strings = try policy("type: string_attribute\nstring_attribute: {key: route, values: [/checkout, /pay]}")
        #expect(strings.decide(trace([span(attributes: [kv("route", "/pay")])])) == .sampled)
        #expect(strings.decide(trace([span(attributes: [kv("route", "/payment")])])) == .notSampled, "exact match")
        let regex = try policy("type: string_attribute\nstring_attribute: {key: route, values: ['pay'], enabled_regex_matching: true}")
        #expect(regex.decide(trace([span(attributes: [kv("route", "/api/payment")])])) == .sampled, "unanchored")
        let named = try policy("type: string_attribute\nstring_attribute: {key: route, values: ['^/(?P<area>api)/\\d+$'], enabled_regex_matching: true}")
        #expect(named.decide(trace([span(attributes: [kv("route", "/api/42")])])) == .sampled, "Go's named groups and ASCII \\d")
        #expect(named.decide(trace([span(attributes: [kv("route", "/api/\u{0664}\u{0662}")])])) == .notSampled, "\\d is ASCII, as in Go")
        let boolean = try policy("type: boolean_attribute\nboolean_attribute: {key: debug, value: true}")
        #expect(boolean.decide(trace([span(attributes: [kv("debug", bool: true)])])) == .sampled)
        #expect(boolean.decide(trace([span(attributes: [kv("debug", bool: false)])])) == .notSampled)
    }

    @Test func statusSpanCountTraceStateAndOTTL() throws {
        let status = try policy("type: status_code\nstatus_code: {status_codes: [ERROR]}")
        #expect(status.decide(trace([span(), span(status: .error)])) == .sampled)
        #expect(status.decide(trace([span(status: .ok)])) == .notSampled)
        let count = try policy("type: span_count\nspan_count: {min_spans: 2, max_spans: 3}")
        #expect(count.decide(trace([span()])) == .notSampled)
        #expect(count.decide(trace([span(), span(), span()])) == .sampled)
        #expect(count.decide(trace([span(), span(), span(), span()])) == .notSampled)
        let state = try policy("type: trace_state\ntrace_state: {key: vendor, values: [keep]}")
        #expect(state.decide(trace([span(traceState: "other=1,vendor=keep")])) == .sampled)
        #expect(state.decide(trace([span(traceState: "vendor=drop")])) == .notSampled)
        let ottl = try policy("type: ottl_condition\nottl_condition:\n  span: ['attributes[\"tenant\"] == \"vip\"']")
        #expect(ottl.decide(trace([span(), span(attributes: [kv("tenant", "vip")])])) == .sampled)
        #expect(ottl.decide(trace([span()])) == .notSampled)
        let events = try policy("type: ottl_condition\nottl_condition:\n  spanevent: ['name == \"exception\" and attributes[\"fatal\"] == true']")
        var failing = span()
        failing.events = [.with { $0.name = "retry" }, .with { $0.name = "exception"; $0.attributes = [kv("fatal", bool: true)] }]
        #expect(events.decide(trace([span(), failing])) == .sampled, "an event condition holds for the second event of the second span")
        failing.events[1].attributes = [kv("fatal", bool: false)]
        #expect(events.decide(trace([failing])) == .notSampled)
        #expect(throws: ConfigError.self) { try policy("type: status_code\nstatus_code: {status_codes: [FAILED]}") }
        #expect(throws: ConfigError.self) { try policy("type: no_such_policy") }
    }

    @Test func probabilisticSamplesTheTracesTheGoHashSamples() throws {
        // Trace ids i = ((i·31 + j·17 + i·j) mod 256 for byte j); the indices sampled at 25% with
        // the default salt and with "tier-2" were computed with FNV-1a 64 as the Go processor does.
        let ids: [Data] = (0..<200).map { (i: Int) -> Data in
            var bytes: [UInt8] = []
            for j in 0..<16 { bytes.append(UInt8((i * 31 + j * 17 + i * j) % 256)) }
            return Data(bytes)
        }
        let p = try policy("type: probabilistic\nprobabilistic: {sampling_percentage: 25}")
        let sampled = ids.indices.filter { p.decide(trace([span()], id: ids[$0])) == .sampled }
        #expect(sampled.count == 54)
        #expect(Array(sampled.prefix(12)) == [9, 17, 23, 26, 32, 34, 35, 36, 40, 49, 56, 60])
        let salted = try policy("type: probabilistic\nprobabilistic: {sampling_percentage: 25, hash_salt: tier-2}")
        let second = ids.indices.filter { salted.decide(trace([span()], id: ids[$0])) == .sampled }
        #expect(second.count == 43)
        #expect(Array(second.prefix(12)) == [5, 6, 14, 16, 17, 21, 23, 26, 30, 33, 36, 43])
        #expect(ProbabilisticHash.hash(salt: Array("default-hash-seed".utf8), traceID: TraceID(Array(1...16))) == 0xdbcf_64d5_420f_4cad)
        #expect(ProbabilisticHash.threshold(percentage: 10) == 1_844_674_407_370_955_263)
        #expect(ProbabilisticHash.threshold(percentage: 50) == 9_223_372_036_854_775_807)
        #expect(ProbabilisticHash.threshold(percentage: 100) == .max)
    }

    @Test func rateLimitsAndCompositeBudgets() throws {
        let limited = try policy("type: rate_limiting\nrate_limiting: {spans_per_second: 5}")
        let three = trace([span(), span(), span()])
        let decisions = (0..<3).map { _ in limited.decide(three) }
        // 3 < 5 samples; 3 + 3 is not below 5. (A second boundary between calls can reset it.)
        #expect(decisions.first == .sampled)
        #expect(decisions.filter { $0 == .sampled }.count <= 2)
        let composite = try policy("""
            type: composite
            composite:
              max_total_spans_per_second: 1000
              composite_sub_policy:
                - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
                - {name: rest, type: always_sample}
              rate_allocation:
                - {policy: errors, percent: 100}
                - {policy: rest, percent: 1}
            """)
        #expect(composite.decide(trace([span(status: .error)])) == .sampled)
        let big = trace((0..<20).map { _ in span() })
        #expect(composite.decide(big) == .notSampled, "20 spans exceed the 10 spans/s of its sub-policy")
    }

    /// One sample per policy type (the switch in `SamplingPolicies.build` covers every case, so
    /// this table must too), each sampling a trace made to match it.
    static let samples: [PolicyConfig.PolicyType: String] = [
        .alwaysSample: "type: always_sample",
        .latency: "type: latency\nlatency: {threshold_ms: 5}",
        .numericAttribute: "type: numeric_attribute\nnumeric_attribute: {key: code, min_value: 500, max_value: 599}",
        .probabilistic: "type: probabilistic\nprobabilistic: {sampling_percentage: 100}",
        .statusCode: "type: status_code\nstatus_code: {status_codes: [ERROR]}",
        .stringAttribute: "type: string_attribute\nstring_attribute: {key: route, values: [\"/(?P<area>orders)\"], enabled_regex_matching: true}",
        .booleanAttribute: "type: boolean_attribute\nboolean_attribute: {key: retried, value: true}",
        .rateLimiting: "type: rate_limiting\nrate_limiting: {spans_per_second: 100}",
        .spanCount: "type: span_count\nspan_count: {min_spans: 1}",
        .traceState: "type: trace_state\ntrace_state: {key: tenant, values: [a]}",
        .ottlCondition: "type: ottl_condition\nottl_condition: {span: ['attributes[\"route\"] == \"/orders\"']}",
        .and: "type: and\nand: {and_sub_policy: [{name: s, type: status_code, status_code: {status_codes: [ERROR]}}]}",
        .drop: "type: drop\ndrop: {drop_sub_policy: [{name: s, type: status_code, status_code: {status_codes: [ERROR]}}]}",
        .composite: "type: composite\ncomposite: {max_total_spans_per_second: 100, composite_sub_policy: [{name: all, type: always_sample}]}",
    ]

    @Test func everyPolicyTypeBuildsAndDecides() throws {
        #expect(Set(Self.samples.keys) == Set(PolicyConfig.PolicyType.allCases))
        let matching = trace([span(ms: 0, 10, status: .error, attributes: [kv("route", "/orders"), kv("code", int: 503), kv("retried", bool: true)],
                                   traceState: "tenant=a")])
        for (type, yaml) in Self.samples.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let decision = try policy(yaml).decide(matching)
            #expect(decision == (type == .drop ? .dropped : .sampled), "\(type.rawValue) decided \(decision)")
        }
    }

    @Test func anUnknownPolicyTypeListsTheKnownOnes() throws {
        #expect(throws: ConfigError.self) { try policy("type: sometimes") }
        do { _ = try policy("type: sometimes") } catch let error as ConfigError {
            #expect(error.path == "policies[0].type")
            #expect(error.message.hasPrefix("invalid value \"sometimes\": must be one of always_sample, latency,"))
        }
    }

    @Test func decisionPrecedence() throws {
        let config = try decodeConfig(TailSamplingConfig.self, """
            policies:
              - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
              - {name: not-health, type: string_attribute, string_attribute: {key: route, values: [/health], invert_match: true}}
              - name: drop-synthetic
                type: drop
                drop:
                  drop_sub_policy:
                    - {name: synthetic, type: boolean_attribute, boolean_attribute: {key: synthetic, value: true}}
            """)
        let policies = try SamplingPolicies.build(config.policies, path: "policies")
        func keep(_ view: TraceView) -> Bool { SamplingPolicies.combine(policies, view, sampleOnFirstMatch: false) { _, _ in } }
        #expect(keep(trace([span(status: .error, attributes: [kv("route", "/orders")])])))
        #expect(!keep(trace([span(status: .error, attributes: [kv("route", "/health")])])), "an inverted not-sampled beats sampled")
        #expect(!keep(trace([span(status: .error, attributes: [kv("synthetic", bool: true)])])), "drop beats everything")
        #expect(!keep(trace([span(status: .ok, attributes: [kv("route", "/orders")])])), "invert-sampled with a plain not-sampled is not sampled")
    }
}

@Suite struct TailSamplingProcessorTests {
    func processor(_ extra: String = "") throws -> (TailSamplingProcessor, RecordingConsumer) {
        let config = try decodeConfig(TailSamplingConfig.self, """
            decision_wait: 200ms
            \(extra)
            policies:
              - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
            """)
        let sink = RecordingConsumer()
        return (try TailSamplingProcessor(settings: settings("tail_sampling"), config: config, next: sink), sink)
    }

    /// Spans of trace `trace` (one byte repeated), `error` marking the trace's error span.
    func batch(_ spans: [(trace: UInt8, name: String, error: Bool)]) -> TelemetryBatch {
        TelemetryBatch(.traces(.with {
            $0.resourceSpans = [.with {
                $0.resource.attributes = [.with { $0.key = "service.name"; $0.value.stringValue = "api" }]
                $0.scopeSpans = [.with {
                    $0.spans = spans.map { entry in .with {
                        $0.traceID = Data(repeating: entry.trace, count: 16)
                        $0.name = entry.name
                        $0.status.code = entry.error ? .error : .unset
                    } }
                }]
            }]
        }))
    }

    func names(_ sink: RecordingConsumer) -> [String] {
        sink.received.withLock { batches in
            batches.flatMap { batch -> [String] in
                var batch = batch
                guard case .traces(let request)? = try? batch.model() else { return [] }
                return request.resourceSpans.flatMap { $0.scopeSpans.flatMap { $0.spans.map(\.name) } }
            }
        }
    }

    @Test func wholeTracesAreKeptOrDroppedAndLateSpansFollowTheDecision() async throws {
        let (processor, sink) = try processor()
        try await processor.start()
        try await processor.consume(batch([(1, "a1", false), (2, "b1", false)]))
        try await processor.consume(batch([(1, "a2", true), (2, "b2", false)]))
        #expect(names(sink).isEmpty, "nothing leaves before decision_wait")
        try await waitUntil { self.names(sink).count == 2 }
        #expect(names(sink).sorted() == ["a1", "a2"], "every span of the error trace, none of the other")
        try await processor.consume(batch([(1, "a3", false), (2, "b3", true)]))
        #expect(names(sink).sorted() == ["a1", "a2", "a3"], "a late span of a sampled trace goes at once; of a dropped one, never")
        await processor.shutdown()
    }

    @Test func theOldestTraceIsDecidedEarlyWhenFull() async throws {
        let (processor, sink) = try processor("num_traces: 2")
        try await processor.consume(batch([(1, "a", true)]))
        try await processor.consume(batch([(2, "b", false)]))
        try await processor.consume(batch([(3, "c", true)]))
        #expect(names(sink) == ["a"], "trace 1 made room, decided on what had arrived")
        await processor.shutdown()
        #expect(names(sink).sorted() == ["a", "c"], "pending traces are decided at shutdown")
    }

    @Test func decisionCachesRememberDecidedTraces() async throws {
        let (processor, sink) = try processor("decision_cache: {sampled_cache_size: 10, non_sampled_cache_size: 10}\nnum_traces: 1")
        try await processor.start()
        try await processor.consume(batch([(1, "a1", true), (2, "b1", false)]))
        try await waitUntil { self.names(sink).count == 1 }
        // Both decided traces left the buffer for the caches, yet late spans still follow them.
        try await processor.consume(batch([(1, "a2", false), (2, "b2", false)]))
        #expect(names(sink).sorted() == ["a1", "a2"])
        await processor.shutdown()
    }
}

@Suite struct HeldSpansTests {
    /// The request with only the spans `keep` selects, and without the scopes and resources left
    /// empty, as the model holds it.
    func expected(_ bytes: [UInt8], keeping keep: (Data) -> Bool) throws -> ExportTraceServiceRequest {
        var request = try ExportTraceServiceRequest(serializedBytes: bytes)
        request.resourceSpans = request.resourceSpans.compactMap { resource in
            var resource = resource
            resource.scopeSpans = resource.scopeSpans.compactMap { scope in
                var scope = scope
                scope.spans = scope.spans.filter { keep($0.traceID) }
                return scope.spans.isEmpty ? nil : scope
            }
            return resource.scopeSpans.isEmpty ? nil : resource
        }
        return request
    }

    @Test func sampledSpansGoOnUnderTheirOwnResourcesAndScopes() throws {
        var random = RandomTelemetry(seed: 41)
        var open = RequestOpener()
        for round in 0..<300 {
            let bytes = random.request(.traces)
            let held = try HeldRequest.hold(bytes)
            let chosen = Set(held.map(\.0).enumerated().filter { $0.offset % 2 == round % 2 }.map(\.element))
            let spans = held.filter { chosen.contains($0.0) }.flatMap(\.1)
            let written = try ExportTraceServiceRequest(serializedBytes: HeldSpans.request(spans, &open))
            let want = try expected(bytes) { chosen.contains(TraceID(Array($0))) }
            #expect(written == want, "round \(round): unknown fields, schema urls and the order of spans are kept")
            #expect(spans.count == want.resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } })
        }
    }

    @Test func heldRequestsAreKeptCompressed() throws {
        let request = ExportTraceServiceRequest.with {
            $0.resourceSpans = [.with {
                $0.resource.attributes = [.with { $0.key = "service.name"; $0.value.stringValue = "checkout" }]
                $0.scopeSpans = [.with {
                    $0.spans = (0..<100).map { n in .with {
                        $0.traceID = Data((0..<16).map { UInt8(truncatingIfNeeded: n &* 37 &+ $0) })
                        $0.name = "GET /api/v1/orders/{id}"
                        $0.attributes = ["http.request.method", "url.path", "server.address", "user_agent.original"].map { key in
                            .with { $0.key = key; $0.value.stringValue = "\(key)-value-\(n % 7)" }
                        }
                    } }
                }]
            }]
        }
        let bytes: [UInt8] = try request.serializedBytes()
        let held = try HeldRequest.hold(bytes)
        let stored = held[0].1[0].request
        #expect(stored.size == bytes.count)
        #expect(stored.storedSize * 4 < bytes.count, "\(stored.storedSize) bytes kept for \(bytes.count)")
        var open = RequestOpener()
        #expect(try ExportTraceServiceRequest(serializedBytes: HeldSpans.request(held.flatMap(\.1), &open)) == request)
    }

    @Test func spansOfSeveralRequestsMakeOneRequest() throws {
        var random = RandomTelemetry(seed: 7)
        var open = RequestOpener()
        let first = random.request(.traces), second = random.request(.traces)
        let spans = try HeldRequest.hold(second).flatMap(\.1) + HeldRequest.hold(first).flatMap(\.1)
        let written = try ExportTraceServiceRequest(serializedBytes: HeldSpans.request(spans, &open))
        let want = try expected(second) { _ in true }.resourceSpans + expected(first) { _ in true }.resourceSpans
        #expect(written.resourceSpans == want)
    }

    @Test func aStatusWrittenTwiceIsReadMerged() throws {
        // Decoders merge a singular sub-message that appears twice: the code of the first stays
        // when the second sets only a message. Read as the last occurrence, the trace would not be
        // an error trace.
        var span = WireWriter()
        span.lengthDelimited(field: 1, [UInt8](repeating: 3, count: 16))
        span.lengthDelimited(field: 15, try SpanStatus.with { $0.code = .error }.serializedBytes() as [UInt8])
        span.lengthDelimited(field: 15, try SpanStatus.with { $0.message = "later" }.serializedBytes() as [UInt8])
        var scope = WireWriter(), entry = WireWriter(), request = WireWriter()
        scope.lengthDelimited(field: 2, span.bytes)
        entry.lengthDelimited(field: 2, scope.bytes)
        request.lengthDelimited(field: 1, entry.bytes)
        let held = try HeldRequest.hold(request.bytes)
        let config = try decodeConfig(TailSamplingConfig.self, "policies:\n  - {name: e, type: status_code, status_code: {status_codes: [ERROR]}}\n")
        let policy = try SamplingPolicies.build(config.policies, path: "policies")[0]
        var open = RequestOpener()
        #expect(policy.decide(try TraceView(traceID: held[0].0, spans: held[0].1, &open)) == .sampled)
        let written = try ExportTraceServiceRequest(serializedBytes: HeldSpans.request(held[0].1, &open))
        #expect(written.resourceSpans[0].scopeSpans[0].spans[0].status == .with { $0.code = .error; $0.message = "later" })
    }
}

@Suite struct TraceBufferTests {
    func id(_ byte: UInt8) -> TraceID { TraceID([UInt8](repeating: byte, count: 16)) }

    @Test func dueTracesLeaveInArrivalOrderAndAReturningIdIsDueByItsNewArrival() {
        var buffer = TraceBuffer(limit: 10, sampledCacheSize: 4, notSampledCacheSize: 0)
        let t0 = ContinuousClock.now
        _ = buffer.add(id(1), [], now: t0)
        _ = buffer.add(id(2), [], now: t0 + .seconds(1))
        _ = buffer.add(id(3), [], now: t0 + .seconds(2))
        #expect(buffer.takeDue(arrivedBy: t0).map(\.0) == [id(1)])
        buffer.decide(id(1), sampled: true)  // to the sampled cache: leaves the buffer
        #expect(buffer.takeDue(arrivedBy: t0 + .seconds(1)).map(\.0) == [id(2)])
        buffer.decide(id(2), sampled: false)  // no cache for it: stays, decided
        #expect(buffer.decision(id(2))?.sampled == false)
        _ = buffer.add(id(1), [], now: t0 + .seconds(3))
        #expect(buffer.takeDue(arrivedBy: t0 + .seconds(2)).map(\.0) == [id(3)], "trace 1's old place does not make it due")
        #expect(buffer.takeDue(arrivedBy: t0 + .seconds(3)).map(\.0) == [id(1)])
        #expect(buffer.takeDue(arrivedBy: t0 + .seconds(9)).isEmpty)
    }

    @Test func theOldestIsPushedOutWhenFull() {
        var buffer = TraceBuffer(limit: 2, sampledCacheSize: 0, notSampledCacheSize: 0)
        let t0 = ContinuousClock.now
        #expect(buffer.add(id(1), [], now: t0) == nil)
        #expect(buffer.add(id(2), [], now: t0) == nil)
        #expect(buffer.add(id(3), [], now: t0)?.0 == id(1))
        #expect(buffer.count == 2)
        #expect(buffer.takeAll().map(\.0) == [id(2), id(3)])
    }
}

@Suite struct TraceTableTests {
    /// Random inserts, updates and removals, checked against a dictionary after each step. With
    /// `colliding`, every id has `low` 0, so a zero seed sends them all to one home slot: every
    /// look-up probes a run, and every removal shifts the run back.
    func check(colliding: Bool, seed: (UInt64, UInt64), steps: Int) {
        var rng = SystemRandomNumberGenerator()
        var table = TraceTable<Int>(seed: seed)
        var model: [TraceID: Int] = [:]
        var ids: [TraceID] = []
        for step in 0..<steps {
            let id: TraceID
            if !ids.isEmpty, Bool.random(using: &rng) {
                id = ids[Int.random(in: 0..<ids.count, using: &rng)]
            } else {
                var fresh = TraceID()
                fresh.high = UInt64.random(in: 0...UInt64(steps), using: &rng)
                fresh.low = colliding ? 0 : .random(in: 0...3, using: &rng)
                fresh.length = 16
                id = fresh
                ids.append(id)
            }
            if Int.random(in: 0..<3, using: &rng) == 0 {
                #expect(table.removeValue(forKey: id) == model.removeValue(forKey: id), "step \(step)")
            } else {
                table.set(id, step)
                model[id] = step
            }
            #expect(table.count == model.count)
            if step % 50 == 0 || colliding {
                for known in ids { #expect(table[known] == model[known], "step \(step)") }
            }
        }
        for known in ids {
            #expect(table[known] == model[known])
            if let slot = table.slot(of: known) { #expect(table[slot: slot] == model[known]) }
        }
    }

    @Test func holdsWhatADictionaryHolds() {
        check(colliding: false, seed: (.random(in: .min ... .max), .random(in: .min ... .max)), steps: 5_000)
    }

    @Test func idsOfOneHomeAreFoundAndRemovedFromTheirRun() {
        check(colliding: true, seed: (0, 0), steps: 400)
    }

    @Test func anEmptyIdIsAKeyLikeAnyOther() {
        var table = TraceTable<String>()
        #expect(table[TraceID()] == nil)
        table.set(TraceID([]), "empty")
        table.set(TraceID([1]), "one byte")
        #expect(table[TraceID()] == "empty")
        #expect(table[TraceID([1])] == "one byte")
        #expect(table.removeValue(forKey: TraceID()) == "empty")
        #expect(table[TraceID()] == nil)
        #expect(table.count == 1)
    }
}
