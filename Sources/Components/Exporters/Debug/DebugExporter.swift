import Logging
import OTLP
import Pipeline

/// `exporters.debug`: writes what it receives to the collector's log (stderr).
/// basic: counts; normal: one line per span, data point or log record; detailed: the whole
/// batch as OTLP/JSON.
public struct DebugExporterConfig: ComponentConfig {
    public enum Verbosity: String, ConfigOption { case basic, normal, detailed }
    public var verbosity: Verbosity = .basic
    public init() {}

    public static let inertKeys = [
        InertKey("sampling_initial", "every batch is written; none are sampled away"),
        InertKey("sampling_thereafter", "every batch is written; none are sampled away"),
        InertKey("use_internal_logger", "output always goes to the collector's log on stderr"),
    ]
}

public final class DebugExporter: Exporter {
    public static let factory = ExporterFactory(type: "debug", stability: .development, config: DebugExporterConfig.self) { settings, config in
        DebugExporter(settings: settings, config: config)
    }

    private let logger: Logger
    private let verbosity: DebugExporterConfig.Verbosity

    init(settings: ComponentSettings, config: DebugExporterConfig) {
        var logger = settings.logger
        logger.logLevel = .info
        self.logger = logger
        self.verbosity = config.verbosity
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        var batch = batch
        logger.info("\(batch.signal): \(batch.itemCount) \(batch.signal.itemName)")
        guard verbosity != .basic else { return }
        let request = try batch.model()
        if verbosity == .detailed {
            logger.info("\(String(decoding: OTLPJSON.encode(request), as: UTF8.self))")
            return
        }
        switch request {
        case .traces(let r):
            for rs in r.resourceSpans { for ss in rs.scopeSpans { for span in ss.spans {
                logger.info("span \(span.name) trace_id=\(hexString(span.traceID)) span_id=\(hexString(span.spanID)) attributes=\(span.attributes.count)")
            } } }
        case .metrics(let r):
            for rm in r.resourceMetrics { for sm in rm.scopeMetrics { for metric in sm.metrics {
                logger.info("metric \(metric.name) points=\(metric.dataPointCount)")
            } } }
        case .logs(let r):
            for rl in r.resourceLogs { for sl in rl.scopeLogs { for record in sl.logRecords {
                logger.info("log severity=\(record.severityNumber.rawValue) body=\(record.body.stringValue)")
            } } }
        }
    }
}
