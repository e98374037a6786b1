import Foundation
import OTLP
import OTTL
import Pipeline
import Testing
@testable import Components

@Suite struct OTTLProcessorTests {
    func attribute(_ key: String, _ value: String) -> KeyValue { .with { $0.key = key; $0.value.stringValue = value } }
    func attribute(_ key: String, int value: Int64) -> KeyValue { .with { $0.key = key; $0.value.intValue = value } }

    func processor(_ factory: ProcessorFactory, _ type: any ComponentConfig.Type, _ yaml: String, signal: Signal) throws -> (any Processor, RecordingConsumer) {
        let config = try ConfigDecoder().decode(type, from: ConfigNode.parse(yaml: yaml, origin: "test"))
        try config.validate()
        let sink = RecordingConsumer()
        return (try factory.create(settings(factory.info.type), config, signal, sink), sink)
    }

    func traces() -> TelemetryBatch {
        func span(_ name: String, _ route: String, events: [String] = []) -> Span {
            .with { span in
                span.name = name
                span.attributes = [attribute("http.route", route)]
                span.events = events.map { e in .with { $0.name = e } }
            }
        }
        return TelemetryBatch(.traces(.with {
            $0.resourceSpans = [
                .with {
                    $0.resource.attributes = [attribute("service.name", "api")]
                    $0.scopeSpans = [.with { $0.spans = [span("a", "/health"), span("b", "/orders", events: ["cache.miss", "retry"])] }]
                },
                .with {
                    $0.resource.attributes = [attribute("service.name", "probe")]
                    $0.scopeSpans = [.with { $0.spans = [span("c", "/health")] }]
                },
            ]
        }))
    }

    func spans(_ sink: RecordingConsumer) throws -> [Span] {
        var batch = try #require(sink.received.withLock { $0.first })
        guard case .traces(let request) = try batch.model() else { return [] }
        return request.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }
    }

    @Test func filterDropsMatchingSpansAndEventsAndEmptyResources() async throws {
        let (filter, sink) = try processor(FilterProcessor.factory, FilterProcessorConfig.self, """
            traces:
              span:
                - attributes["http.route"] == "/health"
              spanevent:
                - name == "retry"
            """, signal: .traces)
        try await filter.consume(traces())
        let kept = try spans(sink)
        #expect(kept.map(\.name) == ["b"])
        #expect(kept[0].events.map(\.name) == ["cache.miss"])
        var batch = try #require(sink.received.withLock { $0.first })
        guard case .traces(let request) = try batch.model() else { return }
        #expect(request.resourceSpans.count == 1, "the resource left without spans is removed")
    }

    @Test func filterPassesWhatItHasNoConditionsForAndSkipsWhatItEmpties() async throws {
        let (filter, sink) = try processor(FilterProcessor.factory, FilterProcessorConfig.self, """
            traces:
              span: ['name != ""']
            """, signal: .traces)
        try await filter.consume(traces())
        #expect(sink.received.withLock { $0.isEmpty }, "nothing left: the next consumer is not called")
        let logs = OTLPRequest.logs(.with { $0.resourceLogs = [.with { $0.scopeLogs = [.with { $0.logRecords = [LogRecord()] }] }] })
        let encoded = try TelemetryBatch(signal: .logs, protobuf: logs.protobufBytes())
        try await filter.consume(encoded)
        #expect(sink.received.withLock { $0.first?.isDecoded } == false, "a signal without conditions is passed as bytes")
    }

    @Test func filterLogsAndDataPoints() async throws {
        let (filter, sink) = try processor(FilterProcessor.factory, FilterProcessorConfig.self, """
            error_mode: ignore
            logs:
              log_record:
                - severity_number < SEVERITY_NUMBER_WARN
                - IsMatch(body, "^healthcheck")
            metrics:
              metric:
                - name == "drop.me"
              datapoint:
                - attributes["host"] == "b"
            """, signal: .logs)
        func record(_ severity: Opentelemetry_Proto_Logs_V1_SeverityNumber, _ body: String) -> LogRecord {
            .with { $0.severityNumber = severity; $0.body.stringValue = body }
        }
        let records = [record(.info, "chatty"), record(.error, "healthcheck ok"), record(.error, "disk full"), record(.warn, "slow")]
        try await filter.consume(TelemetryBatch(.logs(.with { $0.resourceLogs = [.with { $0.scopeLogs = [.with { $0.logRecords = records }] }] })))
        var batch = try #require(sink.received.withLock { $0.first })
        guard case .logs(let logs) = try batch.model() else { return }
        #expect(logs.resourceLogs[0].scopeLogs[0].logRecords.map(\.body.stringValue) == ["disk full", "slow"])

        func gauge(_ name: String, hosts: [String]) -> Metric {
            .with { metric in
                metric.name = name
                metric.gauge.dataPoints = hosts.map { host in .with { $0.attributes = [attribute("host", host)]; $0.asInt = 1 } }
            }
        }
        let metrics = [gauge("drop.me", hosts: ["a"]), gauge("cpu", hosts: ["a", "b"]), gauge("only.b", hosts: ["b"])]
        try await filter.consume(TelemetryBatch(.metrics(.with { $0.resourceMetrics = [.with { $0.scopeMetrics = [.with { $0.metrics = metrics }] }] })))
        var metricBatch = try #require(sink.received.withLock { $0.last })
        guard case .metrics(let kept) = try metricBatch.model() else { return }
        let keptMetrics = kept.resourceMetrics[0].scopeMetrics[0].metrics
        #expect(keptMetrics.map(\.name) == ["cpu"], "a metric whose every point was dropped is dropped")
        #expect(keptMetrics[0].gauge.dataPoints.count == 1)
    }

    @Test func filterNewerConditionFormsIncludingResources() async throws {
        let (filter, sink) = try processor(FilterProcessor.factory, FilterProcessorConfig.self, """
            trace_conditions:
              - context: resource
                conditions: ['attributes["service.name"] == "probe"']
              - context: span
                conditions: ['attributes["http.route"] == "/health"']
            log_conditions:
              - 'log.severity_number < SEVERITY_NUMBER_WARN'
            """, signal: .traces)
        try await filter.consume(traces())
        #expect(try spans(sink).map(\.name) == ["b"], "the probe resource is dropped whole, /health spans one by one")
        let records = [LogRecord.with { $0.severityNumber = .info }, .with { $0.severityNumber = .error }]
        try await filter.consume(TelemetryBatch(.logs(.with { $0.resourceLogs = [.with { $0.scopeLogs = [.with { $0.logRecords = records }] }] })))
        var batch = try #require(sink.received.withLock { $0.last })
        guard case .logs(let logs) = try batch.model() else { return }
        #expect(logs.resourceLogs[0].scopeLogs[0].logRecords.map(\.severityNumber) == [.error])
        let uninferable = #expect(throws: ConfigError.self) {
            try processor(FilterProcessor.factory, FilterProcessorConfig.self, "trace_conditions:\n  - 'true'\n", signal: .traces)
        }
        #expect(uninferable?.path == "trace_conditions")
    }

    @Test func filterErrorModes() async throws {
        // Substring out of range fails at run time: ignore counts it false, propagate fails the batch.
        let condition = "span:\n    - Substring(name, 0, 10) == \"x\"\n"
        let (ignoring, kept) = try processor(FilterProcessor.factory, FilterProcessorConfig.self, "traces:\n  \(condition)", signal: .traces)
        try await ignoring.consume(traces())
        #expect(try spans(kept).count == 3)
        let (propagating, _) = try processor(FilterProcessor.factory, FilterProcessorConfig.self, "error_mode: propagate\ntraces:\n  \(condition)", signal: .traces)
        let error = await #expect(throws: PipelineError.self) { try await propagating.consume(traces()) }
        #expect(error?.kind == .permanent)
    }

    @Test func configErrorsNameTheEntry() throws {
        let error = #expect(throws: ConfigError.self) {
            try processor(FilterProcessor.factory, FilterProcessorConfig.self, "traces:\n  span:\n    - name == \"a\"\n    - nam == \"b\"\n", signal: .traces)
        }
        #expect(error?.path == "traces.span[1]")
        #expect(error?.message.contains("unknown path nam") == true)
        let transform = #expect(throws: ConfigError.self) {
            try processor(TransformProcessor.factory, TransformProcessorConfig.self, """
                trace_statements:
                  - context: span
                    statements:
                      - set(name, "x")
                      - set(name "y")
                """, signal: .traces)
        }
        #expect(transform?.path == "trace_statements[0].statements[1]")
        let mixed = #expect(throws: ConfigError.self) {
            try processor(TransformProcessor.factory, TransformProcessorConfig.self, "log_statements:\n  - set(log.body, \"x\")\n  - context: log\n    statements: []\n", signal: .logs)
        }
        #expect(mixed?.path == "log_statements")
    }

    @Test func transformGroupsRunInOrderAndReachUpwards() async throws {
        let (transform, sink) = try processor(TransformProcessor.factory, TransformProcessorConfig.self, """
            trace_statements:
              - context: resource
                statements:
                  - set(attributes["env"], "prod")
              - context: span
                conditions:
                  - attributes["http.route"] == "/orders"
                statements:
                  - set(attributes["service"], resource.attributes["service.name"])
                  - set(name, Concat([name, resource.attributes["env"]], "@"))
              - context: spanevent
                statements:
                  - set(attributes["span"], span.name)
            """, signal: .traces)
        try await transform.consume(traces())
        let result = try spans(sink)
        #expect(result.map(\.name) == ["a", "b@prod", "c"])
        #expect(result[1].attributes[ottl: "service"]?.stringValue == "api")
        #expect(result[0].attributes[ottl: "service"] == nil, "the group's condition gates its statements")
        #expect(result[1].events.map { $0.attributes[ottl: "span"]?.stringValue } == ["b@prod", "b@prod"])
    }

    @Test func transformFlatFormInfersTheContext() async throws {
        let (transform, sink) = try processor(TransformProcessor.factory, TransformProcessorConfig.self, """
            log_statements:
              - set(log.attributes["level"], log.severity_text) where log.severity_text != ""
              - set(resource.attributes["seen"], true)
            metric_statements:
              - set(datapoint.attributes["unit"], metric.unit)
            """, signal: .logs)
        let records = [LogRecord.with { $0.severityText = "WARN" }, LogRecord()]
        try await transform.consume(TelemetryBatch(.logs(.with { $0.resourceLogs = [.with { $0.scopeLogs = [.with { $0.logRecords = records }] }] })))
        var batch = try #require(sink.received.withLock { $0.first })
        guard case .logs(let logs) = try batch.model() else { return }
        #expect(logs.resourceLogs[0].scopeLogs[0].logRecords.map { $0.attributes[ottl: "level"]?.stringValue } == ["WARN", nil])
        #expect(logs.resourceLogs[0].resource.attributes[ottl: "seen"]?.boolValue == true)

        let metric = Metric.with { metric in
            metric.name = "m"
            metric.unit = "ms"
            metric.histogram.dataPoints = [HistogramDataPoint()]
        }
        try await transform.consume(TelemetryBatch(.metrics(.with { $0.resourceMetrics = [.with { $0.scopeMetrics = [.with { $0.metrics = [metric] }] }] })))
        var metricBatch = try #require(sink.received.withLock { $0.last })
        guard case .metrics(let metrics) = try metricBatch.model() else { return }
        #expect(metrics.resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].attributes[ottl: "unit"]?.stringValue == "ms")
    }

    @Test func attributeActions() async throws {
        let (processor, sink) = try processor(AttributesProcessor.factory, AttributesProcessorConfig.self, """
            actions:
              - {key: env, action: insert, value: prod}
              - {key: http.route, action: insert, value: ignored}
              - {key: code, action: upsert, value: 42}
              - {key: code_text, action: upsert, from_attribute: code}
              - {key: code_text, action: convert, converted_type: string}
              - {key: tenant, action: upsert, from_context: metadata.x-tenant}
              - {key: user.email, action: hash}
              - {key: url, action: extract, pattern: '^https://(?P<host>[^/]+)(?P<path>/.*)$'}
              - {action: delete, pattern: '^secret\\.'}
              - {key: missing, action: update, value: x}
            """, signal: .traces)
        var span = Span()
        span.attributes = [attribute("http.route", "/a"), attribute("user.email", "a@b.c"), attribute("url", "https://shop.example/cart?x"),
                           attribute("secret.token", "t"), attribute("secret.key", "k")]
        var batch = TelemetryBatch(.traces(.with { $0.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = [span] }] }] }))
        batch.metadata = RequestMetadata(headers: ["x-tenant": ["acme"]])
        try await processor.consume(batch)
        let attributes = try spans(sink)[0].attributes
        #expect(attributes.map(\.key) == ["http.route", "user.email", "url", "env", "code", "code_text", "tenant", "host", "path"])
        #expect(attributes[ottl: "http.route"]?.stringValue == "/a")
        #expect(attributes[ottl: "code"]?.intValue == 42)
        #expect(attributes[ottl: "code_text"]?.stringValue == "42")
        #expect(attributes[ottl: "tenant"]?.stringValue == "acme")
        #expect(attributes[ottl: "user.email"]?.stringValue == "d648b243a3e817eaa3309e00e183483f2867baadf522099f0c2121770536b25a")
        #expect(AttributeActions.hash(.with { $0.stringValue = "abc" }) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(AttributeActions.hash(.with { $0.intValue = 1 }) == "7c9fa136d4413fa6173637e883b6998d32e1d675f88cddff9dcbcf331820f4b8")
        #expect(attributes[ottl: "host"]?.stringValue == "shop.example")
        #expect(attributes[ottl: "path"]?.stringValue == "/cart?x")
    }

    @Test func resourceActionsAndTheirConfigErrors() async throws {
        let (processor, sink) = try processor(ResourceProcessor.factory, ResourceProcessorConfig.self, """
            attributes:
              - {key: deployment.environment, action: upsert, value: staging}
              - {key: service.name, action: delete}
            """, signal: .traces)
        try await processor.consume(traces())
        var batch = try #require(sink.received.withLock { $0.first })
        guard case .traces(let request) = try batch.model() else { return }
        #expect(request.resourceSpans.map { $0.resource.attributes.map(\.key) } == [["deployment.environment"], ["deployment.environment"]])
        let twoSources = #expect(throws: ConfigError.self) {
            try self.processor(ResourceProcessor.factory, ResourceProcessorConfig.self, "attributes:\n  - {key: a, action: insert, value: 1, from_attribute: b}\n", signal: .traces)
        }
        #expect(twoSources?.path == "attributes[0]")
        let badAction = #expect(throws: ConfigError.self) {
            try self.processor(ResourceProcessor.factory, ResourceProcessorConfig.self, "attributes:\n  - {key: a, action: remove}\n", signal: .traces)
        }
        #expect(badAction?.path == "attributes[0].action")
        let noGroups = #expect(throws: ConfigError.self) {
            try self.processor(AttributesProcessor.factory, AttributesProcessorConfig.self, "actions:\n  - {key: url, action: extract, pattern: '^(.*)$'}\n", signal: .traces)
        }
        #expect(noGroups?.path == "actions[0].pattern")
    }
}

@Suite struct LegacyMatchTests {
    func kv(_ key: String, _ value: String) -> KeyValue { .with { $0.key = key; $0.value.stringValue = value } }

    func make(_ factory: ProcessorFactory, _ type: any ComponentConfig.Type, _ yaml: String) throws -> (any Processor, RecordingConsumer) {
        let config = try ConfigDecoder().decode(type, from: ConfigNode.parse(yaml: yaml, origin: "test"))
        try config.validate()
        let sink = RecordingConsumer()
        return (try factory.create(settings(factory.info.type), config, .traces, sink), sink)
    }

    func spans(services: [(String, [Span])]) -> TelemetryBatch {
        TelemetryBatch(.traces(.with { request in
            request.resourceSpans = services.map { service, spans in .with {
                $0.resource.attributes = [kv("service.name", service)]
                $0.scopeSpans = [.with { $0.spans = spans }]
            } }
        }))
    }

    func received(_ sink: RecordingConsumer) throws -> OTLPRequest {
        var batch = try #require(sink.received.withLock { $0.last })
        return try batch.model()
    }

    @Test func legacySpanAndLogAndMetricMatching() async throws {
        let (filter, sink) = try make(FilterProcessor.factory, FilterProcessorConfig.self, """
            spans:
              exclude:
                match_type: regexp
                services: ["^(?P<tier>internal)-"]
                attributes:
                  - {key: http.route, value: "^/health"}
            logs:
              include:
                match_type: strict
                severity_number: {min: WARN, match_undefined: false}
            metrics:
              exclude:
                match_type: regexp
                metric_names: ["^go\\\\.", "^process\\\\."]
            """)
        let health = Span.with { $0.name = "h"; $0.attributes = [kv("http.route", "/healthz")] }
        let orders = Span.with { $0.name = "o"; $0.attributes = [kv("http.route", "/orders")] }
        try await filter.consume(spans(services: [("internal-probe", [health, orders]), ("api", [health])]))
        guard case .traces(let traces) = try received(sink) else { return }
        // Only spans matching every excluded property go: the service and the route.
        #expect(traces.resourceSpans.map { $0.scopeSpans[0].spans.map(\.name) } == [["o"], ["h"]])

        let logs = [LogRecord.with { $0.severityNumber = .info }, .with { $0.severityNumber = .error }, LogRecord()]
        try await filter.consume(TelemetryBatch(.logs(.with { $0.resourceLogs = [.with { $0.scopeLogs = [.with { $0.logRecords = logs }] }] })))
        guard case .logs(let kept) = try received(sink) else { return }
        #expect(kept.resourceLogs[0].scopeLogs[0].logRecords.map(\.severityNumber) == [.error])

        let metrics = ["go.gc.count", "http.duration", "process.cpu"].map { name in Metric.with { $0.name = name; $0.gauge.dataPoints = [.with { $0.asInt = 1 }] } }
        try await filter.consume(TelemetryBatch(.metrics(.with { $0.resourceMetrics = [.with { $0.scopeMetrics = [.with { $0.metrics = metrics }] }] })))
        guard case .metrics(let keptMetrics) = try received(sink) else { return }
        #expect(keptMetrics.resourceMetrics[0].scopeMetrics[0].metrics.map(\.name) == ["http.duration"])
    }

    @Test func attributesOnlyWhereIncludedAndNotExcluded() async throws {
        let (processor, sink) = try make(AttributesProcessor.factory, AttributesProcessorConfig.self, """
            include:
              match_type: strict
              services: [api]
            exclude:
              match_type: strict
              span_names: [skip]
            actions:
              - {key: marked, action: insert, value: true}
            """)
        try await processor.consume(spans(services: [("api", [.with { $0.name = "a" }, .with { $0.name = "skip" }]), ("web", [.with { $0.name = "w" }])]))
        guard case .traces(let traces) = try received(sink) else { return }
        let marked = traces.resourceSpans.flatMap { $0.scopeSpans[0].spans.filter { $0.attributes[ottl: "marked"] != nil }.map(\.name) }
        #expect(marked == ["a"])
    }

    @Test func matchConfigErrors() throws {
        let missing = #expect(throws: ConfigError.self) {
            try make(FilterProcessor.factory, FilterProcessorConfig.self, "spans:\n  include:\n    services: [a]\n")
        }
        #expect(missing?.path == "spans.include.match_type")
        let both = #expect(throws: ConfigError.self) {
            try make(FilterProcessor.factory, FilterProcessorConfig.self, "logs:\n  log_record: ['severity_number < 9']\n  include:\n    match_type: strict\n    bodies: [x]\n")
        }
        #expect(both?.path == "logs.include")
        let expr = #expect(throws: ConfigError.self) {
            try make(AttributesProcessor.factory, AttributesProcessorConfig.self, "include:\n  match_type: expr\nactions:\n  - {key: a, action: delete}\n")
        }
        #expect(expr?.path == "include.match_type")
    }
}
