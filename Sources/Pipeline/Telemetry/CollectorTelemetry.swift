import Logging
import OTLP
import Prometheus
import Synchronization

/// The collector's own metrics and logs. Names follow the Go collector's internal telemetry so
/// existing dashboards keep working; counters carry Prometheus' `_total` suffix as the Go
/// collector's Prometheus endpoint shows them.
public final class CollectorTelemetry: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let logLevel: Logger.Level
    /// Error lines of every component's logger, for the status page.
    public let recentErrors = RecentErrors()

    public init(logLevel: Logger.Level = .info) {
        self.logLevel = logLevel
    }

    /// A logger writing to the collector's log (the handler `LoggingSystem` was set up with) and
    /// keeping its error lines in `recentErrors`.
    public func logger(_ label: String) -> Logger {
        let errors = recentErrors
        var logger = Logger(label: label) { label in
            MultiplexLogHandler([Logger(label: label).handler, RecentErrors.Handler(store: errors, label: label)])
        }
        logger.logLevel = logLevel
        return logger
    }

    public func counter(_ name: String, _ labels: [(String, String)]) -> Counter {
        registry.makeCounter(descriptor: Self.descriptor(name), labels: labels)
    }

    public func gauge(_ name: String, _ labels: [(String, String)]) -> Gauge {
        registry.makeGauge(descriptor: Self.descriptor(name), labels: labels)
    }

    /// Ends a gauge's series (a partition no longer consumed, say): it leaves the exposition.
    public func removeGauge(_ name: String, _ labels: [(String, String)]) {
        registry.unregisterGauge(gauge(name, labels))
    }

    public func histogram(_ name: String, _ labels: [(String, String)], buckets: [Double]) -> ValueHistogram {
        registry.makeValueHistogram(descriptor: Self.descriptor(name), labels: labels, buckets: buckets)
    }

    /// Names are used exactly as given (the Go collector's names); no unit suffix or help text.
    private static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: "")
    }

    /// Counts items lost for good, by component and reason: every drop goes through here and
    /// is also logged by the caller with the same reason.
    public func recordDropped(_ count: Int, signal: Signal, component: ComponentID, reason: String) {
        guard count > 0 else { return }
        counter("otelcol_dropped_items_total", [
            ("component", component.description), ("signal", signal.rawValue), ("reason", reason),
        ]).increment(by: Int64(count))
    }

    public func prometheusText() -> String { registry.emitToString() }
}

/// Counts what a receiver accepted and refused, per signal and transport.
public struct ReceiverObserver: Sendable {
    private let accepted: [Signal: Counter]
    private let refused: [Signal: Counter]

    public init(telemetry: CollectorTelemetry, receiver: ComponentID, transport: String) {
        let labels = [("receiver", receiver.description), ("transport", transport)]
        var accepted: [Signal: Counter] = [:]
        var refused: [Signal: Counter] = [:]
        for signal in Signal.allCases {
            accepted[signal] = telemetry.counter("otelcol_receiver_accepted_\(signal.itemName)_total", labels)
            refused[signal] = telemetry.counter("otelcol_receiver_refused_\(signal.itemName)_total", labels)
        }
        self.accepted = accepted
        self.refused = refused
    }

    public func accepted(_ signal: Signal, _ count: Int) { accepted[signal]?.increment(by: Int64(count)) }
    public func refused(_ signal: Signal, _ count: Int) { refused[signal]?.increment(by: Int64(count)) }
}

/// Whether the collector is starting, serving, or draining; health_check reports it.
public final class CollectorStatus: Sendable {
    public enum State: UInt8, Sendable { case starting, running, draining, stopped }
    private let state = Atomic<UInt8>(State.starting.rawValue)

    public init() {}

    public var current: State { State(rawValue: state.load(ordering: .acquiring)) ?? .stopped }
    public func set(_ new: State) { state.store(new.rawValue, ordering: .releasing) }
}
