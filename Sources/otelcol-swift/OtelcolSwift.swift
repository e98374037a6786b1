import ArgumentParser
import Components
import Foundation
import Logging
import Pipeline
import ServiceLifecycle

@main
struct OtelcolSwift: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "otelcol-swift",
        abstract: "An OpenTelemetry Collector for Kafka-buffered telemetry pipelines.",
        version: version,
        subcommands: [Run.self, Validate.self, ListComponents.self, PrintVersion.self, Telemetrygen.self, KafkaDev.self, KafkaPlanCommand.self, BenchPipeline.self],
        defaultSubcommand: Run.self
    )
}

/// `--config` and `--set`, as the Go collector takes them.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "A YAML config file (PATH or file:PATH) or env:NAME for YAML in a variable; repeat to merge several (later ones win).")
    var files: [String] = []

    @Option(name: .customLong("set"), help: "Override one key: --set processors.batch.timeout=2s")
    var sets: [String] = []

    func load() throws(ConfigErrors) -> CollectorConfig {
        var sources = ConfigSources()
        do {
            if files.isEmpty { throw ConfigError(path: "", message: "no config given: use --config FILE") }
            for file in files { try sources.add(uri: file) }
            for assignment in sets { try sources.addSet(assignment) }
        } catch let error as ConfigError {
            throw ConfigErrors([error])
        } catch {
            throw ConfigErrors([ConfigError(path: "", message: "\(error)")])
        }
        return try CollectorConfig.load(sources, registry: Components.registry)
    }

    /// The config, or every problem printed and exit code 2.
    func loadOrExit() throws -> CollectorConfig {
        do {
            return try load()
        } catch {
            FileHandle.standardError.write(Data("invalid configuration:\n\(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the collector (the default).")

    @OptionGroup var options: ConfigOptions

    @Option(help: "How long a SIGTERM drain may take before the process exits anyway.")
    var shutdownTimeout: Int = 30

    func run() async throws {
        let config = try options.loadOrExit()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let level: Logger.Level = switch config.telemetry.logs.level {
        case .debug: .debug
        case .info: .info
        case .warn: .warning
        case .error: .error
        }
        let telemetry = CollectorTelemetry(logLevel: level)
        let logger = telemetry.logger("otelcol")
        for warning in config.warnings { logger.warning("\(warning)") }
        Allocator.keepLargeBuffersForReuse()
        let collector = try Collector(config: config, telemetry: telemetry)
        let readers = PeriodicOTLPReader.readers(config.telemetry.metrics)
        let pusher = readers.isEmpty ? nil : SelfTelemetryPusher(telemetry: telemetry, readers: readers, logger: telemetry.logger("otelcol"))
        let service = CollectorService(collector: collector, pusher: pusher, drainLimit: .seconds(shutdownTimeout), logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// Runs the collector until SIGTERM/SIGINT, then drains within a bound.
struct CollectorService: Service {
    let collector: Collector
    /// The collector's own metrics over OTLP, when a periodic reader asks for it.
    let pusher: SelfTelemetryPusher?
    let drainLimit: Duration
    let logger: Logger

    func run() async throws {
        try await collector.start()
        await pusher?.start()
        try? await gracefulShutdown()
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await collector.shutdown(within: drainLimit); return true }
            group.addTask { try? await Task.sleep(for: drainLimit); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !finished { logger.error("shutdown did not finish within \(drainLimit); exiting with work in flight") }
        // After the drain, so the last push holds the final counts.
        await pusher?.shutdown()
    }
}

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a config and print every problem; exits non-zero if any.")

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        do {
            let config = try options.load()
            for warning in config.warnings { print("warning: \(warning)") }
            print("config is valid: \(config.pipelines.count) pipeline(s)")
        } catch {
            for item in error.errors { FileHandle.standardError.write(Data("error: \(item)\n".utf8)) }
            throw ExitCode(1)
        }
    }
}

struct ListComponents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "components", abstract: "List every component with its stability.")

    func run() async throws {
        let registry = Components.registry
        for kind in ComponentKind.allCases {
            print("\(kind.section):")
            for type in registry.types(kind) {
                guard let info = registry.info(kind, type) else { continue }
                let signals = info.signals.isEmpty ? "" : " [\(info.signals.map(\.rawValue).joined(separator: ", "))]"
                print("  - \(type): \(info.stability.rawValue)\(signals)")
            }
        }
    }
}

struct PrintVersion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    func run() async throws { print("otelcol-swift \(OtelcolSwift.version)") }
}
