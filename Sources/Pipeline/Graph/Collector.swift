import Logging
import OTLP

/// A running collector: the components of a `CollectorConfig`, wired into pipelines, started in
/// dependency order and stopped in reverse so that everything accepted is flushed.
///
/// Start: extensions, exporters, their sending queues, processors and connectors, receivers.
/// Shutdown: receivers stop taking data, processors flush (each pipeline from its first processor
/// on, pipelines that feed others through connectors before those, each followed by the
/// connectors it feeds), sending queues
/// drain, exporters finish, extensions stop.
public final class Collector: Sendable {
    public let telemetry: CollectorTelemetry
    public let status = CollectorStatus()
    private let extensions: [(ComponentID, any CollectorExtension)]
    private let exporters: [(ComponentID, any Exporter)]
    private let queues: [(ComponentID, QueuedExporter)]
    /// Processors and connectors in the order they stop: pipelines that feed others first.
    private let stages: [(ComponentID, ComponentKind, any Component)]
    private let receivers: [(ComponentID, any Receiver)]
    private let metricsServer: HTTPServer?
    private let logger: Logger

    public init(config: CollectorConfig, telemetry: CollectorTelemetry) throws {
        self.telemetry = telemetry
        let logger = telemetry.logger("otelcol")
        self.logger = logger
        let shared = SharedInstances()
        let host = ComponentHost()
        host.pipelines = config.pipelines.map {
            ComponentHost.PipelineSummary(id: $0.id.description, receivers: ($0.receivers + $0.connectorsIn).map(\.description),
                                          processors: $0.processors.map(\.description),
                                          exporters: ($0.exporters + $0.connectorsOut).map(\.description))
        }
        let status = self.status
        func settings(_ id: ComponentID, _ kind: ComponentKind) -> ComponentSettings {
            var componentLogger = telemetry.logger("\(kind.rawValue)/\(id)")
            componentLogger[metadataKey: "component"] = "\(id)"
            return ComponentSettings(id: id, kind: kind, logger: componentLogger, telemetry: telemetry, status: status, shared: shared, host: host)
        }

        var extensions: [(ComponentID, any CollectorExtension)] = []
        for id in config.serviceExtensions {
            guard let entry = config.extensions[id] else { continue }
            let made = try entry.factory.create(settings(id, .extension), entry.config)
            host.add(id, made)
            extensions.append((id, made))
        }

        var exporters: [ComponentID: any Exporter] = [:]
        var observed: [ComponentID: any Consumer] = [:]
        var queues: [(ComponentID, QueuedExporter)] = []
        for pipeline in config.pipelines {
            for id in pipeline.exporters where exporters[id] == nil {
                guard let entry = config.exporters[id] else { continue }
                let componentSettings = settings(id, .exporter)
                let exporter = try entry.factory.create(componentSettings, entry.config)
                exporters[id] = exporter
                let counted = ObservedExporter(exporter, id: id, telemetry: telemetry)
                guard let helper = entry.config as? any QueuedExporterConfig else {
                    observed[id] = counted
                    continue
                }
                let queue = helper.sendingQueue
                var storage: (any QueueStorage)?
                if queue.enabled, let name = queue.storage {
                    guard let found = host.extension(named: name) as? any QueueStorage else {
                        throw StartError(message: "exporters.\(id).sending_queue.storage: \"\(name)\" is not a storage extension listed in service.extensions")
                    }
                    storage = found
                }
                let signals = Signal.allCases.filter { signal in
                    config.pipelines.contains { $0.id.signal == signal && $0.exporters.contains(id) }
                }
                let queued = QueuedExporter(counted, id: id, settings: queue, retry: helper.retryOnFailure, storage: storage,
                                            signals: signals, telemetry: telemetry, logger: componentSettings.logger)
                queues.append((id, queued))
                observed[id] = queued
            }
        }

        // Pipelines are built from the last ones data reaches back to the first, so that a
        // connector is made with the heads of the pipelines it feeds.
        let ordered = ConnectorGraph.ordered(config.pipelines, connectors: config.connectors)
        var heads: [PipelineID: any Consumer] = [:]
        // One instance per connector and signal it takes in (per connector when it is shared
        // across signals).
        var connectors: [String: any Connector] = [:]
        var stagesOfPipeline: [PipelineID: [(ComponentID, ComponentKind, any Component)]] = [:]
        var entries: [ComponentID: [Signal: [any Consumer]]] = [:]
        for pipeline in ordered.reversed() {
            let signal = pipeline.id.signal
            var outputs: [any Consumer] = pipeline.exporters.compactMap { observed[$0] }
            var stages: [(ComponentID, ComponentKind, any Component)] = []
            for id in pipeline.connectorsOut {
                guard let entry = config.connectors[id] else { continue }
                let key = entry.factory.sharedAcrossSignals ? "\(id)" : "\(id)/\(signal)"
                if connectors[key] == nil {
                    var downstream: [Signal: [any Consumer]] = [:]
                    for (via, target) in ConnectorGraph.downstream(of: pipeline, in: config.pipelines, connectors: config.connectors) where via == id {
                        if let head = heads[target.id] { downstream[target.id.signal, default: []].append(head) }
                    }
                    let made = try entry.factory.create(settings(id, .connector), entry.config, signal, downstream.mapValues { FanOut.of($0) })
                    connectors[key] = made
                    stages.append((id, .connector, made))
                }
                if let made = connectors[key] { outputs.append(made) }
            }
            var next: any Consumer = FanOut.of(outputs)
            var chain: [(ComponentID, ComponentKind, any Component)] = []
            for id in pipeline.processors.reversed() {
                guard let entry = config.processors[id] else { continue }
                let processor = try entry.factory.create(settings(id, .processor), entry.config, signal, next)
                chain.insert((id, .processor, processor), at: 0)
                next = processor
            }
            stagesOfPipeline[pipeline.id] = chain + stages
            heads[pipeline.id] = next
            for id in pipeline.receivers {
                entries[id, default: [:]][signal, default: []].append(next)
            }
        }
        let stages = ordered.flatMap { stagesOfPipeline[$0.id] ?? [] }

        var receivers: [(ComponentID, any Receiver)] = []
        for (id, bySignal) in entries.sorted(by: { $0.key < $1.key }) {
            guard let entry = config.receivers[id] else { continue }
            let consumers = bySignal.mapValues { FanOut.of($0) }
            receivers.append((id, try entry.factory.create(settings(id, .receiver), entry.config, consumers)))
        }

        self.extensions = extensions
        self.exporters = exporters.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) }
        self.queues = queues.sorted(by: { $0.0 < $1.0 })
        self.stages = stages
        self.receivers = receivers

        if let endpoint = try config.telemetry.metrics.prometheusEndpoint() {
            let key = config.telemetry.metrics.readers == nil ? "service.telemetry.metrics.address" : "service.telemetry.metrics.readers"
            metricsServer = HTTPServer(host: endpoint.host, port: endpoint.port, key: key, maxBodySize: 1024) { request in
                guard request.path == "/metrics" else { return .text(.notFound, "not found; metrics are at /metrics\n") }
                return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                    body: Array(telemetry.prometheusText().utf8))
            }
        } else {
            metricsServer = nil
        }
    }

    /// Starts every component; on failure stops every component and rethrows. Components are
    /// stopped whether or not they started (as in Go, `shutdown` must be safe without `start`):
    /// one that was built but never started may hold resources from its construction, such as
    /// an exporter's HTTP client.
    public func start() async throws {
        status.set(.starting)
        do {
            if let metricsServer {
                do { try await metricsServer.start() } catch { throw StartError(message: "failed to start the collector's metrics endpoint: \(error)") }
            }
            for (id, component) in extensions { try await start(component, id, .extension) }
            for (id, component) in exporters { try await start(component, id, .exporter) }
            for (id, queue) in queues {
                do { try queue.start() } catch { throw StartError(message: "failed to start exporter \(id): \(error)") }
            }
            for (id, kind, component) in stages.reversed() { try await start(component, id, kind) }
            for (id, component) in receivers { try await start(component, id, .receiver) }
        } catch {
            await stopAll(queuesUntil: .now)
            throw error
        }
        status.set(.running)
        logger.info("everything is ready; begin running and processing data")
    }

    private func start(_ component: any Component, _ id: ComponentID, _ kind: ComponentKind) async throws {
        do {
            try await component.start()
        } catch let failure as StartFailure {
            throw StartError(message: "failed to start \(kind.rawValue) \(id): \(kind.section).\(id).\(failure.key): \(failure.message)")
        } catch {
            throw StartError(message: "failed to start \(kind.rawValue) \(id): \(error)")
        }
    }

    /// Stops intake, drains what was accepted, and stops everything. Sending queues in memory
    /// are drained until shortly before `limit` runs out; durable ones keep their backlog.
    public func shutdown(within limit: Duration = .seconds(30)) async {
        let deadline = ContinuousClock.now + max(.zero, limit - .seconds(2))
        status.set(.draining)
        logger.info("shutting down: receivers stop accepting, processors and exporters drain")
        await stopAll(queuesUntil: deadline)
        logger.info("shutdown complete")
    }

    private func stopAll(queuesUntil deadline: ContinuousClock.Instant) async {
        for (_, receiver) in receivers { await receiver.shutdown() }
        for (_, _, stage) in stages { await stage.shutdown() }
        for (_, queue) in queues { await queue.drain(until: deadline) }
        for (_, exporter) in exporters { await exporter.shutdown() }
        for (_, ext) in extensions.reversed() { await ext.shutdown() }
        await metricsServer?.shutdown()
        status.set(.stopped)
    }
}

public struct StartError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
