import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import OTLP
import Pipeline

/// The collector's own metrics pushed over OTLP, as Go's `service.telemetry.metrics.readers`
/// with a `periodic` reader and an `otlp` exporter: every interval, everything the Prometheus
/// endpoint shows, as OTLP metrics named as the Go collector names them over OTLP (counters
/// without Prometheus' `_total`). Over `http/protobuf` with an HTTP client of its own; over
/// `grpc` through an `otlp` exporter (`OTLPGRPCExporter`), with its TLS and compression.
public final class SelfTelemetryPusher: Sendable {
    private let telemetry: CollectorTelemetry
    private let readers: [PeriodicOTLPReader]
    private let logger: Logger
    private let client: HTTPClient
    private let started = UInt64(Date().timeIntervalSince1970 * 1e9)
    private let loops = MutexBox<[Task<Void, Never>]>(nil)
    /// The gRPC readers' exporters, by reader index.
    private let grpcExporters: [Int: OTLPGRPCExporter]

    public init(telemetry: CollectorTelemetry, readers: [PeriodicOTLPReader], logger: Logger) {
        self.telemetry = telemetry
        self.readers = readers
        self.logger = logger
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var grpcExporters: [Int: OTLPGRPCExporter] = [:]
        for (index, reader) in readers.enumerated() {
            guard case .grpc(let config) = reader.transport else { continue }
            let settings = ComponentSettings(id: ComponentID(type: "otlp", name: "self_telemetry_\(index)"), kind: .exporter,
                                             logger: logger, telemetry: telemetry)
            grpcExporters[index] = OTLPGRPCExporter(settings: settings, config: config)
        }
        self.grpcExporters = grpcExporters
    }

    public func start() async {
        for (index, exporter) in grpcExporters {
            do {
                if case .grpc(let config) = readers[index].transport { try config.validate() }
                try await exporter.start()
            } catch {
                logger.warning("cannot start pushing the collector's own metrics to \(readers[index].url): \(error)")
            }
        }
        loops.set(readers.indices.map { index in
            Task { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: readers[index].interval)
                    if Task.isCancelled { break }
                    await push(to: index)
                }
            }
        })
    }

    /// Stops the loops after one last push, so the final counts are not lost.
    public func shutdown() async {
        for loop in loops.take() ?? [] { loop.cancel() }
        for index in readers.indices { await push(to: index) }
        for exporter in grpcExporters.values { await exporter.shutdown() }
        try? await client.shutdown()
    }

    private func push(to index: Int) async {
        let reader = readers[index]
        let request = Self.request(fromPrometheus: telemetry.prometheusText(), start: started,
                                   now: UInt64(Date().timeIntervalSince1970 * 1e9))
        if let exporter = grpcExporters[index] {
            do {
                try await exporter.consume(TelemetryBatch(.metrics(request)))
            } catch {
                logger.warning("cannot push the collector's own metrics to \(reader.url) over gRPC: \(error)")
            }
            return
        }
        guard let body = try? request.serializedBytes() as [UInt8] else { return }
        var http = HTTPClientRequest(url: reader.url)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/x-protobuf")
        for (name, value) in reader.headers { http.headers.add(name: name, value: value) }
        http.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(http, timeout: .seconds(10))
            if !(200..<300).contains(response.status.code) {
                logger.warning("the collector's own metrics were refused by \(reader.url): HTTP \(response.status.code)")
            }
        } catch {
            logger.warning("cannot push the collector's own metrics to \(reader.url): \(error)")
        }
    }

    /// The Prometheus text exposition as one OTLP metrics request: counters as cumulative
    /// monotonic sums, gauges as gauges, histograms with their bucket bounds.
    static func request(fromPrometheus text: String, start: UInt64, now: UInt64) -> ExportMetricsServiceRequest {
        var metrics: [String: Metric] = [:]
        var order: [String] = []
        var histograms: [String: [String: HistogramDataPoint]] = [:]
        for sample in PrometheusText.parse(text) {
            let attributes: [KeyValue] = sample.labels.filter { $0.0 != "le" }.map { label in .with { $0.key = label.0; $0.value.stringValue = label.1 } }
            if sample.type == "histogram", let suffix = ["_bucket", "_sum", "_count"].first(where: sample.name.hasSuffix) {
                let family = String(sample.name.dropLast(suffix.count))
                let key = attributes.map { "\($0.key)=\($0.value.stringValue)" }.joined(separator: ",")
                var points = histograms[family] ?? [:]
                var point = points[key] ?? HistogramDataPoint.with {
                    $0.startTimeUnixNano = start
                    $0.timeUnixNano = now
                    $0.attributes = attributes
                }
                switch suffix {
                case "_bucket":
                    if let bound = sample.label("le").flatMap(Double.init), bound.isFinite { point.explicitBounds.append(bound) }
                    point.bucketCounts.append(UInt64(sample.value))
                case "_sum": point.sum = sample.value
                default: point.count = UInt64(sample.value)
                }
                points[key] = point
                if histograms[family] == nil { order.append(family) }
                histograms[family] = points
                continue
            }
            let name = sample.type == "counter" && sample.name.hasSuffix("_total") ? String(sample.name.dropLast(6)) : sample.name
            if metrics[name] == nil { order.append(name) }
            var metric = metrics[name] ?? Metric.with { $0.name = name }
            let point = NumberDataPoint.with {
                $0.startTimeUnixNano = start
                $0.timeUnixNano = now
                $0.asDouble = sample.value
                $0.attributes = attributes
            }
            if sample.type == "counter" {
                metric.sum.isMonotonic = true
                metric.sum.aggregationTemporality = .cumulative
                metric.sum.dataPoints.append(point)
            } else {
                metric.gauge.dataPoints.append(point)
            }
            metrics[name] = metric
        }
        let all: [Metric] = order.compactMap { name in
            if let metric = metrics[name] { return metric }
            guard let points = histograms[name] else { return nil }
            return Metric.with {
                $0.name = name
                $0.histogram.aggregationTemporality = .cumulative
                $0.histogram.dataPoints = Array(points.values).map(Self.nonCumulative)
            }
        }
        return ExportMetricsServiceRequest.with {
            $0.resourceMetrics = [.with {
                $0.resource.attributes = [.with { $0.key = "service.name"; $0.value.stringValue = "otelcol-swift" }]
                $0.scopeMetrics = [.with {
                    $0.scope.name = "otelcol-swift"
                    $0.metrics = all
                }]
            }]
        }
    }

    /// Prometheus buckets count everything up to their bound; OTLP's count each bucket alone.
    private static func nonCumulative(_ point: HistogramDataPoint) -> HistogramDataPoint {
        var point = point
        var previous: UInt64 = 0
        point.bucketCounts = point.bucketCounts.map { cumulative in
            defer { previous = cumulative }
            return cumulative >= previous ? cumulative - previous : 0
        }
        return point
    }
}

/// A `periodic` reader with an `otlp` exporter of `service.telemetry.metrics.readers`.
public struct PeriodicOTLPReader: Sendable {
    public enum Transport: Sendable {
        case http
        /// The exporter's settings: `endpoint`, `headers`, `insecure` (plaintext, as an
        /// `http://` endpoint also is), `compression` (gzip or none) and `timeout` (ms).
        case grpc(OTLPGRPCExporterConfig)
    }

    public var interval: Duration
    /// Where it pushes: the URL for `http/protobuf`, the endpoint as given for `grpc`.
    public var url: String
    public var headers: [(String, String)]
    public var transport: Transport

    /// The readers this collector runs: `periodic` ones with an `otlp` exporter over
    /// `http/protobuf` (the endpoint as the base URL or with its `/v1/metrics` path) or `grpc`.
    public static func readers(_ config: MetricsConfig) -> [PeriodicOTLPReader] {
        (config.readers ?? []).compactMap { reader in
            guard let otlp = reader.node(at: ["periodic", "exporter", "otlp"]),
                  case .scalar(let endpoint, _)? = otlp["endpoint"] else { return nil }
            var interval = Duration.milliseconds(60_000)
            if case .scalar(let text, _)? = reader.node(at: ["periodic", "interval"]), let ms = Int64(text), ms > 0 { interval = .milliseconds(ms) }
            var headers: [(String, String)] = []
            if case .sequence(let entries)? = otlp["headers"] {
                for entry in entries {
                    if case .scalar(let name, _)? = entry["name"], case .scalar(let value, _)? = entry["value"] { headers.append((name, value)) }
                }
            }
            switch otlp["protocol"] {
            case nil, .scalar("http/protobuf", _)?:
                var url = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
                if let path = URL(string: url)?.path, path.isEmpty { url += "/v1/metrics" }
                return PeriodicOTLPReader(interval: interval, url: url, headers: headers, transport: .http)
            case .scalar("grpc", _)?:
                var exporter = OTLPGRPCExporterConfig()
                exporter.endpoint = endpoint
                exporter.headers = Dictionary(headers, uniquingKeysWith: { _, last in last })
                if case .scalar("true", _)? = otlp["insecure"] { exporter.tls.insecure = true }
                if case .scalar(let text, _)? = otlp["compression"], let compression = OTLPGRPCExporterConfig.Compression(rawValue: text) {
                    exporter.compression = compression
                }
                if case .scalar(let text, _)? = otlp["timeout"], let ms = Int64(text), ms > 0 { exporter.timeout = .milliseconds(ms) }
                return PeriodicOTLPReader(interval: interval, url: endpoint, headers: headers, transport: .grpc(exporter))
            default:
                return nil
            }
        }
    }
}
