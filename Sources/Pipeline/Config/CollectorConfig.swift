import OTLP

/// A loaded, checked collector configuration: every component's decoded config, the pipelines
/// that connect them, and the telemetry settings. Building it reports every problem at once.
public struct CollectorConfig: Sendable {
    public struct Entry<Factory: Sendable>: Sendable {
        public let id: ComponentID
        public let factory: Factory
        public let config: any ComponentConfig
    }

    public struct Pipeline: Sendable {
        public let id: PipelineID
        public let receivers: [ComponentID]
        public let processors: [ComponentID]
        public let exporters: [ComponentID]
        /// Connectors listed under `receivers`: the pipeline takes what they hand on.
        public var connectorsIn: [ComponentID] = []
        /// Connectors listed under `exporters`: the pipeline's data goes to them.
        public var connectorsOut: [ComponentID] = []
    }

    public var receivers: [ComponentID: Entry<ReceiverFactory>] = [:]
    public var processors: [ComponentID: Entry<ProcessorFactory>] = [:]
    public var exporters: [ComponentID: Entry<ExporterFactory>] = [:]
    public var extensions: [ComponentID: Entry<ExtensionFactory>] = [:]
    public var connectors: [ComponentID: Entry<ConnectorFactory>] = [:]
    public var pipelines: [Pipeline] = []
    public var serviceExtensions: [ComponentID] = []
    public var telemetry = TelemetryConfig()
    public var warnings: [String] = []

    private struct TopLevel: Decodable {
        var receivers: [String: ConfigNode]?
        var processors: [String: ConfigNode]?
        var exporters: [String: ConfigNode]?
        var extensions: [String: ConfigNode]?
        var connectors: [String: ConfigNode]?
        var service: ServiceConfig?
    }

    private static let telemetryInert = TelemetryConfig.inertKeys.under("service.telemetry")

    public static func load(_ sources: ConfigSources, registry: ComponentRegistry) throws(ConfigErrors) -> CollectorConfig {
        var errors: [ConfigError] = []
        var config = CollectorConfig()
        config.warnings = sources.warnings
        func locate(_ error: ConfigError) -> ConfigError {
            var located = error
            if located.file == nil {
                located.file = sources.origin(of: located.path.split(separator: ".").map(String.init))
            }
            return located
        }

        let top: TopLevel
        do {
            top = try ConfigDecoder().decode(TopLevel.self, from: sources.merged, inert: telemetryInert)
        } catch {
            throw ConfigErrors([locate(error)])
        }
        config.warnings += sources.merged.warnings(for: telemetryInert)
        guard let service = top.service else {
            throw ConfigErrors([locate(ConfigError(path: "service", message: "the service section is required"))])
        }
        config.telemetry = service.telemetry

        func decodeSection<F>(_ kind: ComponentKind, _ nodes: [String: ConfigNode]?, factory: (String) -> F?, info: (F) -> FactoryInfo) -> [ComponentID: Entry<F>] {
            var entries: [ComponentID: Entry<F>] = [:]
            for (key, node) in (nodes ?? [:]).sorted(by: { $0.key < $1.key }) {
                let path = "\(kind.section).\(key)"
                do {
                    let id = try ComponentID(parsing: key)
                    guard let found = factory(id.type) else {
                        var message = "unknown \(kind.rawValue) type \"\(id.type)\""
                        if let suggestion = closestMatch(to: id.type, in: registry.types(kind)) {
                            message += " (did you mean \"\(suggestion)\"?)"
                        }
                        message += "; known types: \(registry.types(kind).joined(separator: ", "))"
                        throw ConfigError(path: "", message: message)
                    }
                    let decoded = try info(found).decode(node)
                    entries[id] = Entry(id: id, factory: found, config: decoded)
                    config.warnings += node.warnings(for: info(found).inertKeys).map { "\(path).\($0)" }
                } catch let error as ConfigError {
                    errors.append(locate(error.under(path)))
                } catch {
                    errors.append(locate(ConfigError(path: path, message: "\(error)")))
                }
            }
            return entries
        }
        config.receivers = decodeSection(.receiver, top.receivers, factory: { registry.receivers[$0] }, info: \.info)
        config.processors = decodeSection(.processor, top.processors, factory: { registry.processors[$0] }, info: \.info)
        config.exporters = decodeSection(.exporter, top.exporters, factory: { registry.exporters[$0] }, info: \.info)
        config.extensions = decodeSection(.extension, top.extensions, factory: { registry.extensions[$0] }, info: \.info)
        config.connectors = decodeSection(.connector, top.connectors, factory: { registry.connectors[$0] }, info: \.info)

        let defined: [ComponentKind: Set<String>] = [
            .receiver: Set((top.receivers ?? [:]).keys), .processor: Set((top.processors ?? [:]).keys),
            .exporter: Set((top.exporters ?? [:]).keys), .extension: Set((top.extensions ?? [:]).keys),
            .connector: Set((top.connectors ?? [:]).keys),
        ]
        var used: [ComponentKind: Set<String>] = [:]

        func reference(_ kind: ComponentKind, _ name: String, path: String, signal: Signal?) -> ComponentID? {
            used[kind, default: []].insert(name)
            guard defined[kind]?.contains(name) == true else {
                var message = "references \(kind.rawValue) \"\(name)\" which is not configured under \(kind.section)"
                    + ((kind == .receiver || kind == .exporter) && defined[.connector]?.isEmpty == false ? " or connectors" : "")
                if let suggestion = closestMatch(to: name, in: defined[kind] ?? []) { message += " (did you mean \"\(suggestion)\"?)" }
                errors.append(locate(ConfigError(path: path, message: message)))
                return nil
            }
            guard let id = try? ComponentID(parsing: name) else { return nil }
            if let signal, let info = registry.info(kind, id.type), !info.signals.contains(signal) {
                errors.append(locate(ConfigError(path: path, message: "\(kind.rawValue) \"\(name)\" does not support \(signal)")))
                return nil
            }
            return id
        }

        // A name under a pipeline's receivers or exporters may be a connector; the receiver or
        // exporter of that name wins when both exist.
        func isConnector(_ name: String) -> Bool {
            defined[.connector]?.contains(name) == true && defined[.receiver]?.contains(name) != true && defined[.exporter]?.contains(name) != true
        }
        if service.pipelines.isEmpty {
            errors.append(locate(ConfigError(path: "service.pipelines", message: "at least one pipeline is required")))
        }
        for (key, pipeline) in service.pipelines.sorted(by: { $0.key < $1.key }) {
            let path = "service.pipelines.\(key)"
            let id: PipelineID
            do { id = try PipelineID(parsing: key) } catch {
                errors.append(locate(error.under("service.pipelines")))
                continue
            }
            if pipeline.receivers.isEmpty { errors.append(locate(ConfigError(path: "\(path).receivers", message: "a pipeline needs at least one receiver"))) }
            if pipeline.exporters.isEmpty { errors.append(locate(ConfigError(path: "\(path).exporters", message: "a pipeline needs at least one exporter"))) }
            var seen = Set<String>()
            for name in pipeline.processors where !seen.insert(name).inserted {
                errors.append(locate(ConfigError(path: "\(path).processors", message: "processor \"\(name)\" appears twice in one pipeline")))
            }
            // Connectors are checked by signal pair once every pipeline is known.
            let receivers = pipeline.receivers.enumerated().filter { !isConnector($1) }
                .compactMap { reference(.receiver, $1, path: "\(path).receivers[\($0)]", signal: id.signal) }
            let processors = pipeline.processors.enumerated().compactMap { reference(.processor, $1, path: "\(path).processors[\($0)]", signal: id.signal) }
            let exporters = pipeline.exporters.enumerated().filter { !isConnector($1) }
                .compactMap { reference(.exporter, $1, path: "\(path).exporters[\($0)]", signal: id.signal) }
            var made = Pipeline(id: id, receivers: receivers, processors: processors, exporters: exporters)
            made.connectorsIn = pipeline.receivers.filter(isConnector).compactMap { reference(.connector, $0, path: "\(path).receivers", signal: nil) }
            made.connectorsOut = pipeline.exporters.filter(isConnector).compactMap { reference(.connector, $0, path: "\(path).exporters", signal: nil) }
            config.pipelines.append(made)
        }
        errors += ConnectorGraph.check(config.pipelines, connectors: config.connectors).map(locate)
        config.serviceExtensions = service.extensions.enumerated().compactMap {
            reference(.extension, $1, path: "service.extensions[\($0)]", signal: nil)
        }
        do {
            _ = try service.telemetry.metrics.prometheusEndpoint()
            config.warnings += service.telemetry.metrics.readerWarnings.map { "service.telemetry.metrics.\($0)" }
        } catch {
            errors.append(locate(error.under("service.telemetry.metrics")))
        }

        let entries: [(ComponentKind, ComponentID, any ComponentConfig)] =
            config.receivers.values.map { (.receiver, $0.id, $0.config) } + config.processors.values.map { (.processor, $0.id, $0.config) }
            + config.exporters.values.map { (.exporter, $0.id, $0.config) } + config.extensions.values.map { (.extension, $0.id, $0.config) }
            + config.connectors.values.map { (.connector, $0.id, $0.config) }
        for (kind, id, component) in entries.sorted(by: { ($0.0.rawValue, $0.1) < ($1.0.rawValue, $1.1) }) {
            var warnings = component.warnings()
            if let queued = component as? any QueuedExporterConfig {
                warnings += queued.sendingQueue.warnings(under: "sending_queue")
                if let storage = queued.sendingQueue.storage, queued.sendingQueue.enabled,
                   !config.serviceExtensions.contains(where: { $0.description == storage }) {
                    errors.append(locate(ConfigError(path: "\(kind.section).\(id).sending_queue.storage",
                                                     message: "names extension \"\(storage)\", which is not configured and listed in service.extensions")))
                }
            }
            config.warnings += warnings.map { "\(kind.section).\(id).\($0)" }
            for (key, name) in component.extensionReferences
                where !config.serviceExtensions.contains(where: { $0.description == name }) {
                errors.append(locate(ConfigError(path: "\(kind.section).\(id).\(key)",
                                                 message: "names extension \"\(name)\", which is not configured and listed in service.extensions")))
            }
        }
        for kind in ComponentKind.allCases {
            for name in (defined[kind] ?? []).subtracting(used[kind] ?? []).sorted() {
                let where_ = kind == .extension ? "service.extensions" : "any pipeline"
                config.warnings.append("\(kind.section).\(name): \(kind.rawValue) is configured but not used in \(where_); it will not run")
            }
        }
        guard errors.isEmpty else { throw ConfigErrors(errors) }
        return config
    }
}
