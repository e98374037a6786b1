import ArgumentParser
import Components
import Foundation
import Logging
import OTLP
import Pipeline
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `otelcol-swift bench-pipeline`: the processors of one pipeline of a config, run in this process
/// over requests shaped as telemetrygen sends them, into a sink that keeps nothing. It measures
/// what the processors alone cost per item, without the receiver, the exporter or a load
/// generator sharing the cores; the whole process is measured by scripts/bench-processors.
/// Connectors among the pipeline's exporters are fed too (their output is discarded), so that
/// an aggregating connector is measured with the processors in front of it.
struct BenchPipeline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-pipeline",
        abstract: "CPU per item of a pipeline's processors, run in this process over sample requests.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "The pipeline whose processors run (traces, logs, traces/name, ...).")
    var pipeline = "traces"

    @Option(help: "Requests per round (100 items each).")
    var requests = 400

    @Option(help: "Rounds; the fastest and the median are reported.")
    var rounds = 9

    @Option(help: "Child spans per trace.")
    var childSpans = 3

    @Option(help: "Attributes per span or log record.")
    var spanAttributes = 8

    @Flag(help: "Hand the processors requests not read since they were made, instead of each one validated just before, as a receiver hands it.")
    var cold = false

    @Flag(help: "Report what the receiver's validation of each request (the wire scan) costs per item instead of the processors.")
    var validation = false

    @Flag(help: "Start each round on new processors and count their shutdown: for processors that hold items, as tail_sampling does until it decides them (at the latest on shutdown).")
    var shutdownEachRound = false

    func run() async throws {
        let config = try options.loadOrExit()
        guard let chosen = config.pipelines.first(where: { $0.id.description == pipeline }) else {
            throw ValidationError("no pipeline \(pipeline) in the config")
        }
        let signal = chosen.id.signal
        guard signal != .metrics else { throw ValidationError("bench-pipeline runs traces and logs pipelines") }
        // --cold validates every request before the rounds, so there is no validation to time.
        guard !(cold && validation) else { throw ValidationError("--validation and --cold cannot be combined") }
        let telemetry = CollectorTelemetry(logLevel: .error)
        // As the collector runs: without it, fresh mappings of each request's output and their
        // page faults are part of every figure.
        Allocator.keepLargeBuffersForReuse()
        let sink = DiscardingConsumer()
        var chain = try await Chain(config, chosen, telemetry, sink)

        let sample = SampleTelemetry(service: "bench", childSpans: childSpans, attributes: spanAttributes)
        var seq: Int64 = 0
        let perRequest = signal == .traces ? 100 / (childSpans + 1) : 100
        let bodies: [[UInt8]] = try (0..<requests).map { _ in
            switch signal {
            case .traces: try sample.traces(count: perRequest, nextSeq: { seq += 1; return seq }).serializedBytes()
            default: try sample.logs(count: perRequest, nextSeq: { seq += 1; return seq }).serializedBytes()
            }
        }
        let batches = try bodies.map { try TelemetryBatch(signal: signal, protobuf: $0) }
        let items = batches.reduce(0) { $0 + $1.itemCount }

        var perItem: [Double] = []
        for _ in 0..<rounds {
            var seconds = 0.0
            if cold {
                let before = Self.processCPUSeconds()
                for batch in batches { try await chain.first.consume(batch) }
                seconds = Self.processCPUSeconds() - before
            } else {
                // A receiver validates a request right before the processors get it, so its bytes
                // are in the cache then; the validation is the receiver's cost and is not counted.
                for body in bodies {
                    let scanned = Self.processCPUSeconds()
                    let batch = try TelemetryBatch(signal: signal, protobuf: body)
                    let before = Self.processCPUSeconds()
                    try await chain.first.consume(batch)
                    seconds += validation ? before - scanned : Self.processCPUSeconds() - before
                }
            }
            if shutdownEachRound {
                let before = Self.processCPUSeconds()
                await chain.shutdown()
                seconds += Self.processCPUSeconds() - before
                chain = try await Chain(config, chosen, telemetry, sink)
            }
            perItem.append(seconds / Double(items) * 1e9)
        }
        await chain.shutdown()
        perItem.sort()
        let names = (chosen.processors + chosen.connectorsOut).map(\.description).joined(separator: ", ")
        let measured = validation ? "validation" : names.isEmpty ? "no processors" : names
        print(String(format: "%@ [%@]: %.0f ns per item (fastest of %d rounds), median %.0f; %d items a round, %d reached the end",
                     pipeline, measured, perItem[0], rounds, perItem[perItem.count / 2],
                     items, sink.items.withLock { $0 } / rounds))
    }

    /// The pipeline's processors, started, in front of the sink and the connectors.
    struct Chain {
        let first: any Consumer
        let processors: [any Processor]
        let connectors: [any Connector]

        init(_ config: CollectorConfig, _ chosen: CollectorConfig.Pipeline, _ telemetry: CollectorTelemetry, _ sink: DiscardingConsumer) async throws {
            let signal = chosen.id.signal
            var connectors: [any Connector] = []
            for id in chosen.connectorsOut {
                guard let entry = config.connectors[id] else { continue }
                let settings = ComponentSettings(id: id, kind: .connector, logger: telemetry.logger(id.description), telemetry: telemetry)
                let outputs = Dictionary(uniqueKeysWithValues: entry.factory.pairs.filter { $0.from == signal }.map { ($0.to, DiscardingConsumer() as any Consumer) })
                connectors.append(try entry.factory.create(settings, entry.config, signal, outputs))
            }
            var next: any Consumer = FanOut.of([sink] + connectors)
            var processors: [any Processor] = []
            for id in chosen.processors.reversed() {
                guard let entry = config.processors[id] else { continue }
                let settings = ComponentSettings(id: id, kind: .processor, logger: telemetry.logger(id.description), telemetry: telemetry)
                let processor = try entry.factory.create(settings, entry.config, signal, next)
                processors.append(processor)
                next = processor
            }
            for processor in processors.reversed() { try await processor.start() }
            for connector in connectors { try await connector.start() }
            first = next
            self.processors = processors
            self.connectors = connectors
        }

        func shutdown() async {
            for processor in processors { await processor.shutdown() }
            for connector in connectors { await connector.shutdown() }
        }
    }

    /// CPU time of the whole process: consume may continue on any thread of the pool.
    static func processCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// The end of the measured pipeline: counts what arrived and keeps nothing.
final class DiscardingConsumer: Consumer {
    let items = Mutex(0)
    func consume(_ batch: TelemetryBatch) async throws { items.withLock { $0 += batch.itemCount } }
}
