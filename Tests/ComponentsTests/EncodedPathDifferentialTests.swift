import Foundation
import OTLP
import Pipeline
import Testing
@testable import Components

/// The encoded path of a processor against its decoded path: the same random requests (every
/// AnyValue type, nested maps and lists, events, links, empty and missing containers, unknown
/// fields) go once as bytes and once as a decoded model through the same configuration, and what
/// comes out must be equal after decoding, item counts and errors included.
@Suite struct EncodedPathDifferentialTests {
    static let filterConfigs: [(Signal, String)] = [
        (.traces, """
            traces:
              span:
                - attributes["http.route"] == "/health"
                - IsMatch(name, "^internal-")
                - kind == SPAN_KIND_INTERNAL and attributes["db.system"] != nil
            """),
        (.traces, """
            traces:
              spanevent:
                - name == "retry"
                - attributes["host"] == "a" and span.name != "b"
            """),
        (.traces, """
            trace_conditions:
              - context: resource
                conditions: ['attributes["service.name"] == "b"', 'dropped_attributes_count > 0']
              - context: scope
                conditions: ['name == "a" and version == "1"']
              - context: span
                conditions:
                  - status.code == STATUS_CODE_ERROR and status.message == "boom"
                  - trace_state["k"] == "v" and end_time_unix_nano - start_time_unix_nano > 500000000
                  - attributes["m"]["k"] == "a"
            """),
        (.traces, """
            trace_conditions:
              - resource.attributes["host"] == "b" and scope.name == "retry"
              - span.span_id.string == "" and Len(span.attributes) > 4
              - span.kind.string == "Server" and span.flags > 0 and span.dropped_attributes_count == 1
              - IsMap(span.attributes["k"]) and IsList(span.attributes["m"])
            """),
        // The compiled forms' edges: a literal on the left, strings ordered, nil on either side,
        // an attribute of another type than the literal, IsMatch on values that are no strings,
        // a literal with U+FFFD, scope and resource reads.
        (.traces, """
            traces:
              span:
                - '"retry" == name and attributes["host"] < "b" and attributes["k"] >= "/"'
                - 'nil != attributes["m"] and attributes["k"] == 42 and 3 < kind'
                - 'IsMatch(attributes["k"], "^[0-9-]+$") or IsMatch(attributes["m"], "true")'
                - 'name == "\u{FFFD}" or attributes["url.path"] != "/orders/42" and nil == attributes["db.system"] and name == "cpu"'
                - 'scope.version == "1" or resource.attributes["service.name"] != "a" and dropped_links_count < 1 and name == "b"'
            """),
        // Compiled whole (`WireItemConditions`, on the tape): every kind of node, nested, with
        // reads of every level and type.
        (.traces, """
            traces:
              span:
                - 'not (name == "a" or kind == "2") and (attributes["host"] < "b" or attributes["k"] != nil) and name == "retry" and true'
                - 'IsMatch(name, "^ret") and not (dropped_attributes_count + 1 > 1) and nil == attributes["url.path"] and kind == 3'
                - 'scope.name == "a" and resource.attributes["host"] != "a" and (false or end_time_unix_nano - start_time_unix_nano >= 0) and name == "cpu"'
                - 'attributes["k"] == 42 or attributes["m"] == "x" and 3 < kind or scope.version != "1" and not (kind >= 2) and name == "b"'
            """),
        (.traces, """
            error_mode: propagate
            traces:
              span:
                - Substring(name, 0, 3) == "ret"
            """),
        (.traces, """
            error_mode: ignore
            traces:
              span:
                - Substring(name, 0, 3) == "ret"
                - IsMatch(attributes["url.path"], "^/orders/[0-9]+$")
            """),
        (.logs, """
            logs:
              log_record:
                - IsMatch(body, "^healthcheck")
                - severity_number >= SEVERITY_NUMBER_ERROR and attributes["host"] == "b"
                - body["k"] == "a" and IsString(body) == false
                - trace_id.string == "" and event_name != ""
            """),
        (.logs, """
            log_conditions:
              - context: resource
                conditions: ['attributes["host"] == "a"']
              - context: scope
                conditions: ['name == "cpu"']
              - context: log
                conditions: ['attributes["http.route"] == "/health" and flags == 1']
            """),
        (.metrics, """
            metrics:
              metric:
                - name == "cpu"
                - type == METRIC_DATA_TYPE_SUM and is_monotonic == true
                - aggregation_temporality == AGGREGATION_TEMPORALITY_DELTA and unit == "ms"
                - resource.attributes["service.name"] == "a" or description == "about it"
            """),
    ]

    struct Outcome: Equatable {
        var delivered: OTLPRequest?
        var items: Int?
        var error: String?
    }

    func run(_ factory: ProcessorFactory, _ type: any ComponentConfig.Type, _ config: String, _ signal: Signal,
             _ batch: TelemetryBatch) async throws -> (Outcome, isDecoded: Bool?) {
        let decoded = try ConfigDecoder().decode(type, from: ConfigNode.parse(yaml: config, origin: "test"))
        let sink = RecordingConsumer()
        return try await outcome(of: try factory.create(settings(factory.info.type), decoded, signal, sink), sink, batch)
    }

    /// What `first` delivers to `sink` of `batch`, or the error it fails with.
    func outcome(of first: any Processor, _ sink: RecordingConsumer, _ batch: TelemetryBatch) async throws -> (Outcome, isDecoded: Bool?) {
        do {
            try await first.consume(batch)
        } catch {
            return (Outcome(error: "\(error)"), nil)
        }
        guard var out = sink.received.withLock({ $0.first }) else { return (Outcome(), nil) }
        let isDecoded = out.isDecoded
        return (Outcome(delivered: try out.model(), items: out.itemCount), isDecoded)
    }

    /// Runs 250 random requests of the signal through the processor both ways.
    /// `normalize` evens out what may differ between two runs of the same path (random ids).
    func compare(_ factory: ProcessorFactory, _ type: any ComponentConfig.Type, _ config: String, _ signal: Signal,
                 seed: UInt64, encodedStaysEncoded: Bool = true, vocabulary: RandomTelemetry.Vocabulary = .general,
                 normalize: (inout OTLPRequest) -> Void = { _ in }) async throws {
        var random = RandomTelemetry(seed: seed, vocabulary: vocabulary)
        var changed = 0, unchanged = 0
        let metadata = RequestMetadata(headers: ["tenant": ["t1", "t2"]])
        for round in 0..<250 {
            let bytes = random.request(signal)
            let model = try OTLPRequest(signal: signal, protobuf: bytes)
            var fromBytes = try await run(factory, type, config, signal, try TelemetryBatch(signal: signal, protobuf: bytes, metadata: metadata))
            var fromModel = try await run(factory, type, config, signal, TelemetryBatch(model, metadata: metadata))
            fromBytes.0.delivered.map { var request = $0; normalize(&request); fromBytes.0.delivered = request }
            fromModel.0.delivered.map { var request = $0; normalize(&request); fromModel.0.delivered = request }
            #expect(fromBytes.0 == fromModel.0, "\(config), round \(round)")
            if encodedStaysEncoded { #expect(fromBytes.isDecoded != true, "the encoded batch was processed without decoding it") }
            if fromModel.0.delivered == model { unchanged += 1 } else { changed += 1 }
        }
        #expect(changed > 10 && unchanged > 10, "the config changes some requests and not others (\(changed) changed)")
    }

    @Test func filterConditionsCompiledWholeTakeTheTape() throws {
        func plan(_ index: Int) throws -> FilterEncodedPlan {
            FilterEncodedPlan(try decodeConfig(FilterProcessorConfig.self, Self.filterConfigs[index].1).plan())
        }
        #expect(try plan(0).spanConditions != nil)
        #expect(try plan(5).spanConditions != nil)
        #expect(try plan(4).spanConditions == nil, "IsMatch on an attribute, which may hold no string")
        #expect(try plan(6).spanConditions == nil, "a converter the wire path does not compile")
    }

    @Test(arguments: filterConfigs.indices)
    func filterGivesTheSameResultOnBytesAndOnTheModel(_ index: Int) async throws {
        let (signal, config) = Self.filterConfigs[index]
        try await compare(FilterProcessor.factory, FilterProcessorConfig.self, config, signal, seed: UInt64(index) &* 7919)
    }

    static let attributesConfigs: [String] = [
        """
        actions:
          - {key: deployment.environment, value: prod, action: insert}
          - {key: client.address, action: hash}
        """,
        """
        actions:
          - {key: host, value: 42, action: update}
          - {key: db.system, from_attribute: http.route, action: upsert}
          - {key: tenant, from_context: metadata.tenant, action: insert}
          - {key: k, value: {a: [1, 2.5, true]}, action: upsert}
        """,
        """
        actions:
          - {key: user_agent.original, action: delete}
          - {pattern: '^(url|http)\\.', action: hash}
          - {pattern: "^m$", action: delete}
        """,
        """
        actions:
          - {key: url.path, pattern: "^/(?P<section>[a-z]+)/(?P<id>[0-9]+)$", action: extract}
          - {key: host, action: convert, converted_type: int}
          - {key: k, action: convert, converted_type: string}
          - {key: db.system, action: convert, converted_type: double}
        """,
        // Each key its own action, constants only: applied in one walk over each item
        // (`StreamedAttributeActions`), and items whose hashed value is no string on the list.
        """
        actions:
          - {key: host, value: 42, action: update}
          - {key: db.system, value: x, action: upsert}
          - {key: user_agent.original, action: delete}
          - {key: k, action: hash}
          - {key: url.path, action: hash}
          - {key: fresh, value: [1, 2], action: upsert}
          - {key: m, value: "y", action: insert}
        """,
        // Values written by one action and read by the next (hashing a hash, deleting what was
        // added): edits of bytes the list holds itself rather than the request.
        """
        actions:
          - {key: client.address, value: "10.0.0.1", action: upsert}
          - {key: client.address, action: hash}
          - {key: client.address, action: hash}
          - {key: db.system, value: x, action: insert}
          - {key: added, value: 7, action: insert}
          - {pattern: "^(db|m|h)", action: delete}
          - {key: added, action: hash}
        """,
    ]

    @Test(arguments: attributesConfigs.indices, [Signal.traces, .logs])
    func attributesGiveTheSameResultOnBytesAndOnTheModel(_ index: Int, _ signal: Signal) async throws {
        try await compare(AttributesProcessor.factory, AttributesProcessorConfig.self, Self.attributesConfigs[index], signal,
                          seed: UInt64(index) &* 104_729 &+ (signal == .traces ? 0 : 1))
    }

    /// The resource processor takes the same actions under `attributes:`.
    static let resourceConfigs: [String] = attributesConfigs.map { $0.replacingOccurrences(of: "actions:", with: "attributes:") } + [
        """
        attributes:
          - {key: service.name, value: checkout, action: upsert}
          - {key: host, action: delete}
        """,
    ]

    @Test(arguments: resourceConfigs.indices, [Signal.traces, .logs, .metrics])
    func resourceGivesTheSameResultOnBytesAndOnTheModel(_ index: Int, _ signal: Signal) async throws {
        try await compare(ResourceProcessor.factory, ResourceProcessorConfig.self, Self.resourceConfigs[index], signal,
                          seed: UInt64(index) &* 15_485_863 &+ UInt64(Signal.allCases.firstIndex(of: signal) ?? 0))
    }

    static let elasticAPMConfigs = [
        "{}",
        """
        elastic_transaction: {clear_span_id: {enabled: true}, clear_span_name: {enabled: true}, type: {enabled: false}}
        elastic_span: {inferred_spans: {enabled: false}, remove_messaging: {enabled: false}}
        """,
        """
        resource: {agent_name: {enabled: false}, agent_version: {enabled: false}, host_os_type: {enabled: true}}
        elastic_span: {processor_event: {enabled: false}}
        elastic_metric: {processor_event: {enabled: true}}
        span_event: {error_id: {enabled: false}}
        """,
    ]

    /// Spans drawn from what the rules read and write (exception events, child links, sampling
    /// thresholds, their own keys already set), the random error ids left out.
    @Test(arguments: elasticAPMConfigs.indices, [Signal.traces, .logs, .metrics])
    func elasticAPMGivesTheSameResultOnBytesAndOnTheModel(_ index: Int, _ signal: Signal) async throws {
        try await compare(ElasticAPMProcessor.factory, ElasticAPMProcessorConfig.self, Self.elasticAPMConfigs[index], signal,
                          seed: UInt64(index) &* 7_919 &+ UInt64(Signal.allCases.firstIndex(of: signal) ?? 0), vocabulary: .apm) { request in
            guard case .traces(let data) = request else { return }
            request = .traces(ElasticAPMProcessorTests.withoutErrorIDs(data))
        }
    }

    /// The configs above that are meant to run in one walk over each item do, and those that
    /// cannot do not: the differential tests then cover both paths.
    @Test func whichConfigsRunInOneWalk() throws {
        func actions(_ index: Int) throws -> AttributeActions {
            try AttributeActions(decodeConfig(AttributesProcessorConfig.self, Self.attributesConfigs[index]).actions, path: "actions")
        }
        #expect(StreamedAttributeActions(try actions(0)) != nil)
        #expect(StreamedAttributeActions(try actions(4)) != nil)
        #expect(StreamedAttributeActions(try actions(1)) == nil, "from_attribute reads another entry")
        #expect(StreamedAttributeActions(try actions(2)) == nil, "a pattern names no one key")
        #expect(StreamedAttributeActions(try actions(5)) == nil, "two actions on one key")
        func plan(_ config: String) throws -> TransformEncodedPlan {
            TransformEncodedPlan(try TransformPlan(config: decodeConfig(TransformProcessorConfig.self, config)))
        }
        #expect(try plan(Self.transformConfigs[0].config).streamed(.traces) != nil)
        #expect(try plan(Self.transformConfigs[3].config).streamed(.traces) != nil)
        #expect(try plan(Self.transformConfigs[6].config).streamed(.traces) != nil)
        #expect(try plan(Self.logTransformConfigs[1].config).streamed(.logs) != nil)
        #expect(try plan(Self.transformConfigs[2].config).streamed(.traces) == nil, "conditions read the edited attributes")
        #expect(try plan(Self.logTransformConfigs[0].config).streamed(.logs) == nil, "a value read from another attribute")
        // Behind statements in one walk, these run in the same walk; the others on their own.
        func following(_ index: Int) throws -> StreamedAttributeActions? {
            StreamedAttributeActions(try AttributeActions(
                decodeConfig(AttributesProcessorConfig.self, Self.followingAttributesConfigs[index]).actions, path: "actions"))
        }
        #expect(try (0...2).allSatisfy { try following($0) == nil }, "two actions on one key")
        #expect(try (3...5).allSatisfy { try following($0) != nil })
    }

    @Test func actionsInOneWalkKeepEntriesInOrderWhenTheyLieApart() async throws {
        // A span whose attributes lie in two stretches with other fields around them, a key twice
        // and a value that is no string: the walk sets only the first "host", hashes every "k"
        // that holds a string, hands the item whose "k" is an int to the list, and adds "added"
        // after the last entry, before the fields that followed it.
        func entry(_ key: String, _ value: AnyValue) -> [UInt8] {
            var kv = WireWriter()
            kv.lengthDelimited(field: 1, Array(key.utf8))
            kv.lengthDelimited(field: 2, value.encodedBody)
            return kv.bytes
        }
        func span(_ k: AnyValue) -> [UInt8] {
            var span = WireWriter()
            span.lengthDelimited(field: 9, entry("host", .with { $0.stringValue = "a" }))
            span.lengthDelimited(field: 5, Array("n".utf8))
            span.lengthDelimited(field: 9, entry("k", k))
            span.lengthDelimited(field: 9, entry("host", .with { $0.stringValue = "b" }))
            span.varint(10 << 3)
            span.varint(1)
            return span.bytes
        }
        var scope = WireWriter()
        scope.lengthDelimited(field: 2, span(.with { $0.stringValue = "v" }))
        scope.lengthDelimited(field: 2, span(.with { $0.intValue = 1 }))
        var resource = WireWriter()
        resource.lengthDelimited(field: 2, scope.bytes)
        var request = WireWriter()
        request.lengthDelimited(field: 1, resource.bytes)
        let config = """
            actions:
              - {key: host, value: z, action: update}
              - {key: k, action: hash}
              - {key: added, value: 1, action: insert}
            """
        let batch = try TelemetryBatch(signal: .traces, protobuf: request.bytes)
        let fromBytes = try await run(AttributesProcessor.factory, AttributesProcessorConfig.self, config, .traces, batch)
        let fromModel = try await run(AttributesProcessor.factory, AttributesProcessorConfig.self, config, .traces,
                                      TelemetryBatch(try OTLPRequest(signal: .traces, protobuf: request.bytes)))
        #expect(fromBytes.0 == fromModel.0)
        #expect(fromBytes.isDecoded == false)
        guard case .traces(let data)? = fromBytes.0.delivered else { Issue.record("nothing delivered"); return }
        let spans = data.resourceSpans.flatMap(\.scopeSpans).flatMap(\.spans)
        #expect(spans.map { $0.attributes.map(\.key) } == [["host", "k", "host", "added"], ["host", "k", "host", "added"]])
        #expect(spans[0].attributes.map(\.value.stringValue) == ["z", AttributeActions.hash("v"), "b", ""])
        #expect(spans[0].attributes[3].value.intValue == 1)
        #expect(spans[1].attributes[1].value.stringValue == AttributeActions.hash(.with { $0.intValue = 1 }))

        // The first span as written by the walk: "added" right after the last entry, the
        // dropped count (field 10) still last.
        let sink = RecordingConsumer()
        let decoded = try ConfigDecoder().decode(AttributesProcessorConfig.self, from: ConfigNode.parse(yaml: config, origin: "test"))
        try await AttributesProcessor.factory.create(settings("attributes"), decoded, .traces, sink).consume(batch)
        var out = try #require(sink.received.withLock { $0.first })
        let added = WireWriter.entry(field: 9, key: "added", value: AnyValue.encoded(int: 1))
        let bytes = out.encoded()
        let firstSpanEnd = try #require(bytes.firstRange(of: added + [10 << 3, 1])).upperBound
        #expect(firstSpanEnd < bytes.count, "the added entry and the dropped count end the first span")
    }

    @Test func invalidUTF8PassesTheEncodedPathAsItCame() async throws {
        // A span named with bytes that are not UTF-8: swift-protobuf refuses to decode it (the
        // decoded path fails the batch), the Go collector does not check; the encoded path reads the
        // name with replacement characters and leaves the bytes as they are.
        var span = WireWriter()
        span.lengthDelimited(field: 5, [0x66, 0xFF, 0xFE])
        span.lengthDelimited(field: 9, { var kv = WireWriter(); kv.lengthDelimited(field: 1, Array("http.route".utf8))
            var value = WireWriter(); value.lengthDelimited(field: 1, Array("/health".utf8)); kv.lengthDelimited(field: 2, value.bytes); return kv.bytes }())
        var keep = WireWriter()
        keep.lengthDelimited(field: 5, [0xC3, 0x28])
        var scope = WireWriter()
        scope.lengthDelimited(field: 2, span.bytes)
        scope.lengthDelimited(field: 2, keep.bytes)
        var entry = WireWriter()
        entry.lengthDelimited(field: 2, scope.bytes)
        var request = WireWriter()
        request.lengthDelimited(field: 1, entry.bytes)
        #expect(throws: (any Error).self) { try OTLPRequest(signal: .traces, protobuf: request.bytes) }

        let config = try ConfigDecoder().decode(FilterProcessorConfig.self, from: ConfigNode.parse(
            yaml: "traces:\n  span:\n    - attributes[\"http.route\"] == \"/health\"\n", origin: "test"))
        let sink = RecordingConsumer()
        let filter = try FilterProcessor.factory.create(settings("filter"), config, .traces, sink)
        try await filter.consume(try TelemetryBatch(signal: .traces, protobuf: request.bytes))
        var out = try #require(sink.received.withLock { $0.first })
        #expect(out.itemCount == 1)
        var expected = WireWriter()
        expected.lengthDelimited(field: 1, { var e = WireWriter(); e.lengthDelimited(field: 2, { var s = WireWriter(); s.lengthDelimited(field: 2, keep.bytes); return s.bytes }()); return e.bytes }())
        #expect(out.encoded() == expected.bytes, "the kept span's bytes are copied unchanged")
    }
}

extension EncodedPathDifferentialTests {
    static let transformConfigs: [(config: String, encoded: Bool)] = [
        ("""
        trace_statements:
          - context: span
            statements:
              - set(attributes["env"], "prod")
              - delete_key(attributes, "user_agent.original")
              - replace_pattern(attributes["url.path"], "/[0-9]+", "/{id}")
              - set(attributes["slow"], true) where end_time_unix_nano - start_time_unix_nano > 500000000
              - truncate_all(attributes, 3)
        """, true),
        ("""
        trace_statements:
          - context: span
            statements:
              - keep_keys(attributes, ["host", "m", "k", "url.path"]) where kind == SPAN_KIND_SERVER
              - delete_matching_keys(attributes, "^(db|http)\\.")
              - replace_all_matches(attributes, "/orders/*", "/orders/{id}")
              - set(cache["h"], attributes["host"])
              - set(attributes["copied"], cache["h"]) where resource.attributes["host"] != nil or scope.name == "a"
              - set(attributes["m"]["k"], "nested") where IsMap(attributes["m"])
              - set(attributes["label"], Concat([name, String(kind)], "-"))
          - context: span
            statements:
              - merge_maps(attributes, attributes["k"], "insert") where IsMap(attributes["k"])
              - limit(attributes, 3, ["host"])
              - keep_matching_keys(attributes, "^[a-z]") where status.code == STATUS_CODE_ERROR
              - flatten(attributes) where Len(attributes) == 2
        """, true),
        // Compiled statements: conditions that read attributes changed by earlier statements,
        // arithmetic on both sides, literals of each type, an editor left to the general path.
        ("""
        error_mode: ignore
        trace_statements:
          - context: span
            statements:
              - set(attributes["host"], "z") where name == "a"
              - set(attributes["seen"], true) where attributes["host"] == "z" and name != "b"
              - delete_key(attributes, "k") where "a" == scope.name or resource.attributes["host"] == "b"
              - truncate_all(attributes, 0) where kind > 2 and 1 + dropped_attributes_count >= 2
              - set(attributes["n"], 7) where start_time_unix_nano + 1000000 < end_time_unix_nano
              - set(attributes["d"], 1.5) where span.name == "retry"
              - set(attributes["gone"], nil)
              - truncate_all(attributes, -1) where name == "cpu"
        """, true),
        // Statements run in one walk over each item (`WireStreamedEdits`): a key deleted and set
        // again, values set and then rewritten or cut, entries added and then deleted, conditions
        // on the item's other fields, its scope and its resource, two groups.
        ("""
        error_mode: ignore
        trace_statements:
          - context: span
            statements:
              - set(attributes["host"], "zzzz") where name == "a"
              - delete_key(attributes, "k")
              - set(attributes["k"], "/orders/77")
              - replace_pattern(attributes["k"], "/[0-9]+", "/{id}")
              - replace_pattern(attributes["url.path"], "^/(orders)", "/x/$1")
              - delete_key(attributes, "host") where kind == SPAN_KIND_SERVER
              - set(attributes["host"], "back")
              - set(attributes["host"], "again") where scope.name == "a"
              - truncate_all(attributes, 2) where resource.attributes["host"] != nil
              - set(attributes["m"], 7) where span.name != "b"
          - context: span
            statements:
              - replace_pattern(attributes["host"], "^ba", "BA")
              - delete_key(attributes, "url.path") where dropped_attributes_count > 0
        """, true),
        ("""
        error_mode: propagate
        trace_statements:
          - context: span
            statements:
              - set(attributes["short"], Substring(name, 0, 3))
        """, true),
        ("""
        trace_statements:
          - context: span
            statements:
              - set(attributes["env"], "prod")
              - set(name, "renamed") where name == "retry"
        """, false),
        // Replacements longer than a one-byte length can say, in one walk.
        ("""
        trace_statements:
          - context: span
            statements:
              - replace_pattern(attributes["url.path"], "/", "/a-segment-long-enough-that-two-of-them-pass-127-bytes-when-written/")
              - replace_pattern(attributes["k"], "^(.+)$", "$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1$1")
        """, true),
    ]

    /// Log record statements on the encoding, and a log group the encoding cannot run (it writes
    /// the body) beside one it can.
    static let logTransformConfigs: [(config: String, encoded: Bool)] = [
        ("""
        error_mode: ignore
        log_statements:
          - context: log
            statements:
              - set(attributes["env"], "prod") where severity_number >= SEVERITY_NUMBER_WARN
              - delete_key(attributes, "host") where severity_text == "INFO" or event_name != ""
              - replace_pattern(attributes["url.path"], "/[0-9]+", "/{id}")
              - set(attributes["copied"], attributes["k"]) where IsString(body) and resource.attributes["host"] == nil
              - truncate_all(attributes, 2) where flags == 1 and log.time_unix_nano > 0
              - set(cache["n"], 1)
              - set(attributes["cached"], cache["n"]) where attributes["env"] == "prod"
          - context: log
            statements:
              - keep_keys(attributes, ["env", "k", "m"]) where scope.name == "cpu"
        """, true),
        ("""
        log_statements:
          - context: log
            statements:
              - delete_key(attributes, "url.path") where severity_number >= SEVERITY_NUMBER_WARN
              - set(attributes["url.path"], "/orders/9")
              - replace_pattern(attributes["url.path"], "[0-9]", "N")
              - truncate_all(attributes, 4)
              - set(attributes["env"], "production-long") where severity_text == "INFO"
              - truncate_all(attributes, 5)
        """, true),
        ("""
        log_statements:
          - context: log
            statements:
              - set(attributes["env"], "prod")
          - context: log
            statements:
              - set(body, "replaced") where severity_text == "ERROR"
        """, false),
    ]

    static let everyTransformConfig: [(Signal, config: String, encoded: Bool)] =
        transformConfigs.map { (.traces, $0.config, $0.encoded) } + logTransformConfigs.map { (.logs, $0.config, $0.encoded) }

    @Test(arguments: everyTransformConfig.indices)
    func transformGivesTheSameResultOnBytesAndOnTheModel(_ index: Int) async throws {
        let (signal, config, encoded) = Self.everyTransformConfig[index]
        try await compare(TransformProcessor.factory, TransformProcessorConfig.self, config, signal,
                          seed: UInt64(index) &* 15_485_863, encodedStaysEncoded: encoded)
    }

    /// The attributes processors placed behind a transform processor: actions on the attribute
    /// list (two on one key), and actions in one walk that hash and update what the statements
    /// set and rewrote, hash values that are no string (sending the item to the list) among the
    /// received entries and among those the statements add.
    static let followingAttributesConfigs: [String] = [0, 2, 4].map {
        attributesConfigs[$0] + "\n  - {key: env, action: hash}\n  - {key: env, value: again, action: insert}"
    } + [
        attributesConfigs[0] + "\n  - {key: env, action: hash}\n  - {key: slow, value: 1, action: update}",
        attributesConfigs[4] + "\n  - {key: env, action: hash}\n  - {key: slow, value: 1, action: update}",
        attributesConfigs[0] + "\n  - {key: m, action: hash}\n  - {key: host, action: hash}",
    ]

    /// A transform processor followed by an attributes processor runs the actions in its own
    /// rewrite of an encoded batch (in the statements' walk when both run in one). The pair must
    /// deliver what the two give one after the other (a forwarder between them keeps them apart)
    /// and what they give on the model, including actions that read what the statements wrote.
    @Test(arguments: everyTransformConfig.indices.filter { everyTransformConfig[$0].encoded }, followingAttributesConfigs.indices)
    func transformThenAttributesGiveWhatTheyGiveOneAfterTheOther(_ index: Int, _ actions: Int) async throws {
        let (signal, transformConfig, _) = Self.everyTransformConfig[index]
        let attributesConfig = Self.followingAttributesConfigs[actions]
        let transform = try decodeConfig(TransformProcessorConfig.self, transformConfig)
        let attributes = try decodeConfig(AttributesProcessorConfig.self, attributesConfig)
        func outcome(_ batch: TelemetryBatch, apart: Bool) async throws -> (Outcome, isDecoded: Bool?) {
            let sink = RecordingConsumer()
            let second = try AttributesProcessor.factory.create(settings("attributes"), attributes, signal, sink)
            let first = try TransformProcessor.factory.create(settings("transform"), transform, signal, apart ? Forwarder(next: second) : second)
            return try await self.outcome(of: first, sink, batch)
        }
        var random = RandomTelemetry(seed: UInt64(index * 10 + actions) &* 7_919)
        let metadata = RequestMetadata(headers: ["tenant": ["t1"]])
        for round in 0..<150 {
            let bytes = random.request(signal)
            let together = try await outcome(try TelemetryBatch(signal: signal, protobuf: bytes, metadata: metadata), apart: false)
            let apart = try await outcome(try TelemetryBatch(signal: signal, protobuf: bytes, metadata: metadata), apart: true)
            let model = try await outcome(TelemetryBatch(try OTLPRequest(signal: signal, protobuf: bytes), metadata: metadata), apart: true)
            #expect(together.0 == apart.0, "round \(round)")
            #expect(together.0 == model.0, "round \(round)")
            #expect(together.isDecoded != true, "the pair decoded the batch")
        }
    }

    @Test(arguments: [Signal.traces, .metrics, .logs])
    func containersWrittenByHandAreTheBytesSwiftProtobufWrites(_ signal: Signal) throws {
        var random = RandomTelemetry(seed: 42)
        for _ in 0..<200 {
            let request = try OTLPRequest(signal: signal, protobuf: random.request(signal))
            let reference: [UInt8] = switch request {
            case .traces(let r): try r.serializedBytes()
            case .metrics(let r): try r.serializedBytes()
            case .logs(let r): try r.serializedBytes()
            }
            #expect(request.protobufBytes() == reference)
        }
    }
}

/// Hands batches on unchanged: placed between two processors, it keeps the first from seeing the
/// second's type.
final class Forwarder: Consumer {
    let next: any Consumer
    init(next: any Consumer) { self.next = next }
    func consume(_ batch: TelemetryBatch) async throws { try await next.consume(batch) }
}

extension WireWriter {
    /// One encoded attribute entry (tag, length, key and value), as a test expects it in output.
    static func entry(field: Int, key: String, value: [UInt8]) -> [UInt8] {
        var out = WireWriter()
        Array(key.utf8).withUnsafeBytes { key in value.withUnsafeBytes { out.keyValue(field: field, key: key, value: $0) } }
        return out.bytes
    }
}
