import OTLP

/// Takes batches of telemetry. A successful return means the batch is safely handed on:
/// exported, or accepted by every downstream consumer; a throw says whether a retry can help.
public protocol Consumer: Sendable {
    func consume(_ batch: TelemetryBatch) async throws
}

/// The lifecycle every component shares. `start` binds ports and opens connections and may
/// fail the collector's start-up; `shutdown` finishes what was accepted, within its own bounds.
public protocol Component: AnyObject, Sendable {
    func start() async throws
    func shutdown() async
}

extension Component {
    public func start() async throws {}
    public func shutdown() async {}
}

public protocol Receiver: Component {}
public protocol Processor: Component, Consumer {}
public protocol Exporter: Component, Consumer {}
public protocol CollectorExtension: Component {}
/// Takes a pipeline's data as its exporter and hands it on to other pipelines as their receiver.
public protocol Connector: Component, Consumer {}

/// A component's config: a section with defaults plus checks that need the whole section.
public protocol ComponentConfig: ConfigSection {
    /// Throws the first problem, with `path` relative to the component (`protocols.grpc.endpoint`).
    func validate() throws(ConfigError)
    /// Keys that are accepted but not acted on, each said once at start (paths relative to the
    /// component).
    func warnings() -> [String]
    /// Keys Go accepts that this component does not act on: the decoder accepts them without a
    /// field, and each one the user set is named in a warning. A section the config embeds lists
    /// its own (`TLSClientSettings.inertKeys`), and the component adds them under its key.
    static var inertKeys: [InertKey] { get }
    /// Extensions the config names (`auth.authenticator`), with the key naming each: loading
    /// checks each is configured and listed in `service.extensions`.
    var extensionReferences: [(key: String, name: String)] { get }
}

extension ComponentConfig {
    public func validate() throws(ConfigError) {}
    public func warnings() -> [String] { [] }
    public static var inertKeys: [InertKey] { [] }
    public var extensionReferences: [(key: String, name: String)] { [] }
}
