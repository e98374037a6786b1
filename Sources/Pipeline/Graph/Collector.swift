import Logging
import OTLP

/// A running collector: the components of a `CollectorConfig`, wired into pipelines, started in
/// dependency order and stopped in reverse so that everything accepted is flushed.
///
/// Start: extensions, exporters, processors, receivers. Shutdown: receivers stop taking data,
/// processors flush (each pipeline from its first processor on), exporters finish, extensions stop.
public final class Collector: Sendable {
    public let telemetry: CollectorTelemetry
    public let status = CollectorStatus()
    private let extensions: [(ComponentID, any CollectorExtension)]
    private let exporters: [(ComponentID, any Exporter)]
    private let processors: [(ComponentID, any Processor)]
    private let receivers: [(ComponentID, any Receiver)]
    private let metricsServer: HTTPServer?
    private let logger: Logger

    public init(config: CollectorConfig, telemetry: CollectorTelemetry) throws {
        self.telemetry = telemetry
        let logger = telemetry.logger("otelcol")
        self.logger = logger
        let shared = SharedInstances()
        let status = self.status
        func settings(_ id: ComponentID, _ kind: ComponentKind) -> ComponentSettings {
            var componentLogger = telemetry.logger("\(kind.rawValue)/\(id)")
            componentLogger[metadataKey: "component"] = "\(id)"
            return ComponentSettings(id: id, kind: kind, logger: componentLogger, telemetry: telemetry, status: status, shared: shared)
        }

        var extensions: [(ComponentID, any CollectorExtension)] = []
        for id in config.serviceExtensions {
            guard let entry = config.extensions[id] else { continue }
            extensions.append((id, try entry.factory.create(settings(id, .extension), entry.config)))
        }

        var exporters: [ComponentID: any Exporter] = [:]
        var observed: [ComponentID: any Consumer] = [:]
        for pipeline in config.pipelines {
            for id in pipeline.exporters where exporters[id] == nil {
                guard let entry = config.exporters[id] else { continue }
                let exporter = try entry.factory.create(settings(id, .exporter), entry.config)
                exporters[id] = exporter
                observed[id] = ObservedExporter(exporter, id: id, telemetry: telemetry)
            }
        }

        var processors: [(ComponentID, any Processor)] = []
        var entries: [ComponentID: [Signal: [any Consumer]]] = [:]
        for pipeline in config.pipelines {
            var next: any Consumer = FanOut.of(pipeline.exporters.compactMap { observed[$0] })
            var chain: [(ComponentID, any Processor)] = []
            for id in pipeline.processors.reversed() {
                guard let entry = config.processors[id] else { continue }
                let processor = try entry.factory.create(settings(id, .processor), entry.config, pipeline.id.signal, next)
                chain.insert((id, processor), at: 0)
                next = processor
            }
            processors.append(contentsOf: chain)
            for id in pipeline.receivers {
                entries[id, default: [:]][pipeline.id.signal, default: []].append(next)
            }
        }

        var receivers: [(ComponentID, any Receiver)] = []
        for (id, bySignal) in entries.sorted(by: { $0.key < $1.key }) {
            guard let entry = config.receivers[id] else { continue }
            let consumers = bySignal.mapValues { FanOut.of($0) }
            receivers.append((id, try entry.factory.create(settings(id, .receiver), entry.config, consumers)))
        }

        self.extensions = extensions
        self.exporters = exporters.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) }
        self.processors = processors
        self.receivers = receivers

        if let endpoint = try config.telemetry.metrics.prometheusEndpoint() {
            metricsServer = HTTPServer(host: endpoint.host, port: endpoint.port, maxBodySize: 1024) { request in
                guard request.path == "/metrics" else { return .text(.notFound, "not found; metrics are at /metrics\n") }
                return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                    body: Array(telemetry.prometheusText().utf8))
            }
        } else {
            metricsServer = nil
        }
    }

    /// Starts every component; on failure stops what already started and rethrows.
    public func start() async throws {
        status.set(.starting)
        var started: [any Component] = []
        do {
            if let metricsServer { try await metricsServer.start() }
            for (id, component) in extensions { try await start(component, id, "extension"); started.append(component) }
            for (id, component) in exporters { try await start(component, id, "exporter"); started.append(component) }
            for (id, component) in processors { try await start(component, id, "processor"); started.append(component) }
            for (id, component) in receivers { try await start(component, id, "receiver"); started.append(component) }
        } catch {
            for component in started.reversed() { await component.shutdown() }
            await metricsServer?.shutdown()
            status.set(.stopped)
            throw error
        }
        status.set(.running)
        logger.info("everything is ready; begin running and processing data")
    }

    private func start(_ component: any Component, _ id: ComponentID, _ kind: String) async throws {
        do {
            try await component.start()
        } catch {
            throw StartError(message: "failed to start \(kind) \(id): \(error)")
        }
    }

    /// Stops intake, drains what was accepted, and stops everything.
    public func shutdown() async {
        status.set(.draining)
        logger.info("shutting down: receivers stop accepting, processors and exporters drain")
        for (_, receiver) in receivers { await receiver.shutdown() }
        for (_, processor) in processors { await processor.shutdown() }
        for (_, exporter) in exporters { await exporter.shutdown() }
        for (_, ext) in extensions.reversed() { await ext.shutdown() }
        await metricsServer?.shutdown()
        status.set(.stopped)
        logger.info("shutdown complete")
    }
}

public struct StartError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
