import Foundation
import Logging
import OTLP
import Synchronization

/// What every component gets when it is created.
public struct ComponentSettings: Sendable {
    public let id: ComponentID
    public let kind: ComponentKind
    public let logger: Logger
    public let telemetry: CollectorTelemetry
    public let status: CollectorStatus
    /// Objects shared by all instances of one component id, such as the single memory checker
    /// behind a memory_limiter used in several pipelines.
    public let shared: SharedInstances
    /// The collector's extensions, as Go's `component.Host` offers them.
    public let host: ComponentHost

    public init(id: ComponentID, kind: ComponentKind, logger: Logger, telemetry: CollectorTelemetry,
                status: CollectorStatus = CollectorStatus(), shared: SharedInstances = SharedInstances(),
                host: ComponentHost = ComponentHost()) {
        self.id = id
        self.kind = kind
        self.logger = logger
        self.telemetry = telemetry
        self.status = status
        self.shared = shared
        self.host = host
    }
}

/// The extensions of one collector, by id: how a component reaches one its config names (the
/// embedded broker a kafka component's `brokers` names, the storage of a sending queue).
public final class ComponentHost: Sendable {
    /// A pipeline as the status pages show it.
    public struct PipelineSummary: Sendable {
        public let id: String
        public let receivers: [String]
        public let processors: [String]
        public let exporters: [String]
        public init(id: String, receivers: [String], processors: [String], exporters: [String]) {
            self.id = id
            self.receivers = receivers
            self.processors = processors
            self.exporters = exporters
        }
    }

    private let extensions = Mutex<[String: any CollectorExtension]>([:])
    private let described = Mutex<[PipelineSummary]>([])
    public let started = Date()
    public init() {}

    /// The pipelines of the collector, as its config lists them.
    public var pipelines: [PipelineSummary] {
        get { described.withLock { $0 } }
        set { described.withLock { $0 = newValue } }
    }

    public func add(_ id: ComponentID, _ ext: any CollectorExtension) {
        extensions.withLock { $0[id.description] = ext }
    }

    /// The extension configured as `name` (`type` or `type/name`), if there is one.
    public func `extension`(named name: String) -> (any CollectorExtension)? {
        extensions.withLock { $0[name] }
    }
}

public final class SharedInstances: Sendable {
    private let objects = Mutex<[String: any Sendable]>([:])
    public init() {}

    public func instance<T: Sendable>(for key: String, create: () throws -> T) rethrows -> T {
        try objects.withLock { objects in
            if let existing = objects[key] as? T { return existing }
            let made = try create()
            objects[key] = made
            return made
        }
    }
}

/// The part every factory has: its type name, stability, signals and config decoding.
public struct FactoryInfo: Sendable {
    public let type: String
    public let kind: ComponentKind
    public let stability: Stability
    public let signals: [Signal]
    public let inertKeys: [InertKey]
    let decode: @Sendable (ConfigNode) throws(ConfigError) -> any ComponentConfig

    init<C: ComponentConfig>(type: String, kind: ComponentKind, stability: Stability, signals: [Signal], config: C.Type) {
        self.type = type
        self.kind = kind
        self.stability = stability
        self.signals = signals
        self.inertKeys = C.inertKeys
        self.decode = { node throws(ConfigError) in
            let config = try ConfigDecoder().decode(C.self, from: node, inert: C.inertKeys)
            try config.validate()
            return config
        }
    }
}

struct FactoryMismatch: Error, CustomStringConvertible {
    let type: String
    var description: String { "internal error: config of the wrong type handed to the \(type) factory" }
}

public struct ReceiverFactory: Sendable {
    public let info: FactoryInfo
    public let create: @Sendable (ComponentSettings, any ComponentConfig, [Signal: any Consumer]) throws -> any Receiver

    public init<C: ComponentConfig>(
        type: String, stability: Stability, signals: [Signal], config: C.Type,
        create: @escaping @Sendable (ComponentSettings, C, [Signal: any Consumer]) throws -> any Receiver
    ) {
        info = FactoryInfo(type: type, kind: .receiver, stability: stability, signals: signals, config: C.self)
        self.create = { settings, config, next in
            guard let typed = config as? C else { throw FactoryMismatch(type: type) }
            return try create(settings, typed, next)
        }
    }
}

public struct ProcessorFactory: Sendable {
    public let info: FactoryInfo
    public let create: @Sendable (ComponentSettings, any ComponentConfig, Signal, any Consumer) throws -> any Processor

    public init<C: ComponentConfig>(
        type: String, stability: Stability, signals: [Signal] = Signal.allCases, config: C.Type,
        create: @escaping @Sendable (ComponentSettings, C, Signal, any Consumer) throws -> any Processor
    ) {
        info = FactoryInfo(type: type, kind: .processor, stability: stability, signals: signals, config: C.self)
        self.create = { settings, config, signal, next in
            guard let typed = config as? C else { throw FactoryMismatch(type: type) }
            return try create(settings, typed, signal, next)
        }
    }
}

public struct ExporterFactory: Sendable {
    public let info: FactoryInfo
    public let create: @Sendable (ComponentSettings, any ComponentConfig) throws -> any Exporter

    public init<C: ComponentConfig>(
        type: String, stability: Stability, signals: [Signal] = Signal.allCases, config: C.Type,
        create: @escaping @Sendable (ComponentSettings, C) throws -> any Exporter
    ) {
        info = FactoryInfo(type: type, kind: .exporter, stability: stability, signals: signals, config: C.self)
        self.create = { settings, config in
            guard let typed = config as? C else { throw FactoryMismatch(type: type) }
            return try create(settings, typed)
        }
    }
}

/// A connector: the exporter of the pipelines that list it under `exporters` and the receiver of
/// those that list it under `receivers`. One instance is made per signal it takes in, with the
/// heads of the downstream pipelines it feeds, by signal.
public struct ConnectorFactory: Sendable {
    public let info: FactoryInfo
    /// The signal pairs (in, out) it connects; a pipeline pair of any other kind is not joined.
    public let pairs: [(from: Signal, to: Signal)]
    /// One instance takes every signal the connector is fed (an aggregation whose output must
    /// not be split by the signal it came from); it is made with the first signal's pipelines.
    public let sharedAcrossSignals: Bool
    public let create: @Sendable (ComponentSettings, any ComponentConfig, Signal, [Signal: any Consumer]) throws -> any Connector

    public init<C: ComponentConfig>(
        type: String, stability: Stability, pairs: [(from: Signal, to: Signal)], config: C.Type, sharedAcrossSignals: Bool = false,
        create: @escaping @Sendable (ComponentSettings, C, Signal, [Signal: any Consumer]) throws -> any Connector
    ) {
        self.sharedAcrossSignals = sharedAcrossSignals
        info = FactoryInfo(type: type, kind: .connector, stability: stability, signals: Array(Set(pairs.map(\.from))).sorted { $0.rawValue < $1.rawValue },
                           config: C.self)
        self.pairs = pairs
        self.create = { settings, config, signal, next in
            guard let typed = config as? C else { throw FactoryMismatch(type: type) }
            return try create(settings, typed, signal, next)
        }
    }

    public func connects(_ from: Signal, _ to: Signal) -> Bool { pairs.contains { $0.from == from && $0.to == to } }
}

public struct ExtensionFactory: Sendable {
    public let info: FactoryInfo
    public let create: @Sendable (ComponentSettings, any ComponentConfig) throws -> any CollectorExtension

    public init<C: ComponentConfig>(
        type: String, stability: Stability, config: C.Type,
        create: @escaping @Sendable (ComponentSettings, C) throws -> any CollectorExtension
    ) {
        info = FactoryInfo(type: type, kind: .extension, stability: stability, signals: [], config: C.self)
        self.create = { settings, config in
            guard let typed = config as? C else { throw FactoryMismatch(type: type) }
            return try create(settings, typed)
        }
    }
}

/// Every component the binary knows, by kind and type.
public struct ComponentRegistry: Sendable {
    public var receivers: [String: ReceiverFactory] = [:]
    public var processors: [String: ProcessorFactory] = [:]
    public var exporters: [String: ExporterFactory] = [:]
    public var extensions: [String: ExtensionFactory] = [:]
    public var connectors: [String: ConnectorFactory] = [:]

    public init() {}

    public mutating func register(_ factory: ReceiverFactory) { receivers[factory.info.type] = factory }
    public mutating func register(_ factory: ProcessorFactory) { processors[factory.info.type] = factory }
    public mutating func register(_ factory: ExporterFactory) { exporters[factory.info.type] = factory }
    public mutating func register(_ factory: ExtensionFactory) { extensions[factory.info.type] = factory }
    public mutating func register(_ factory: ConnectorFactory) { connectors[factory.info.type] = factory }

    /// Registers a second type name for the same component (`otlp_http` for `otlphttp`).
    public mutating func alias(exporter name: String, of type: String) {
        exporters[name] = exporters[type]
    }

    public func info(_ kind: ComponentKind, _ type: String) -> FactoryInfo? {
        switch kind {
        case .receiver: receivers[type]?.info
        case .processor: processors[type]?.info
        case .exporter: exporters[type]?.info
        case .connector: connectors[type]?.info
        case .extension: extensions[type]?.info
        }
    }

    public func types(_ kind: ComponentKind) -> [String] {
        switch kind {
        case .receiver: receivers.keys.sorted()
        case .processor: processors.keys.sorted()
        case .exporter: exporters.keys.sorted()
        case .connector: connectors.keys.sorted()
        case .extension: extensions.keys.sorted()
        }
    }
}
