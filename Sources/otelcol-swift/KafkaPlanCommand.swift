import ArgumentParser
import Components
import Foundation
import Kafka
import Logging
import OTLP
import Pipeline

/// `otelcol-swift kafka-plan`: partitions, retention, broker disk and backend instances for a
/// peak load and an outage to survive, with the arithmetic.
struct KafkaPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-plan",
        abstract: "Size the Kafka buffer between collector tiers for a peak load and an outage to survive.",
        discussion: """
        The load is given per signal as items per second, or as uncompressed OTLP bytes per second \
        (e.g. 40MB), which the item size turns into items. Item sizes and the compression ratio come \
        from --sample (a file of OTLP requests as the file exporter writes them with format: proto) \
        or --sample-topic (records the kafka exporter wrote, read from --bootstrap), measured with \
        --compression; else from --item-bytes and --compression-ratio.
        """)

    @Option(help: "Spans per second at peak.") var spansPerSecond = 0.0
    @Option(help: "Metric data points per second at peak.") var metricPointsPerSecond = 0.0
    @Option(help: "Log records per second at peak.") var logRecordsPerSecond = 0.0
    @Option(help: "Uncompressed OTLP bytes of spans per second at peak (e.g. 40MB), instead of spans per second.") var spanBytesPerSecond: String?
    @Option(help: "Uncompressed OTLP bytes of metrics per second at peak, instead of points per second.") var metricBytesPerSecond: String?
    @Option(help: "Uncompressed OTLP bytes of logs per second at peak, instead of records per second.") var logBytesPerSecond: String?
    @Option(help: "Uncompressed OTLP bytes per item, when there is no sample.") var itemBytes = 500.0
    @Option(help: "Compressed over uncompressed size, when there is no sample.") var compressionRatio = 0.25
    @Option(help: "A file of OTLP requests (file exporter, format: proto) to measure item sizes and compression from.") var sample: String?
    @Option(help: "A topic whose records (OTLP protobuf requests, as the kafka exporter writes them) are the sample, read from the start.") var sampleTopic: String?
    @Option(help: "The brokers to read --sample-topic from (host:port, comma-separated).") var bootstrap: String?
    @Option(help: "Records of --sample-topic to read at most.") var sampleRecords = 1000
    @Option(help: "The kafka exporter's producer.compression: none, gzip or zstd.") var compression = "zstd"
    @Option(help: "How long the backends may be away (e.g. 6h, 90m).") var outage = "4h"
    @Option(help: "How long the backends may take to catch up afterwards; default: the outage.") var catchUp: String?
    @Option(help: "Replication factor of the topics.") var replication = 3
    @Option(help: "Brokers in the cluster.") var brokers = 3
    @Option(help: "Items per second one backend instance exports (default: 80% of one core in docs/BENCHMARKS.md).")
    var backendItemsPerSecond = KafkaPlan.defaultBackendItemsPerSecond

    func run() async throws {
        guard let outage = ConfigDuration(parsing: outage), outage.nanoseconds > 0 else {
            throw ValidationError("--outage: expected a duration such as 6h, got \"\(self.outage)\"")
        }
        var catchUpDuration: Duration?
        if let catchUp {
            guard let parsed = ConfigDuration(parsing: catchUp), parsed.nanoseconds > 0 else {
                throw ValidationError("--catch-up: expected a duration such as 2h, got \"\(catchUp)\"")
            }
            catchUpDuration = parsed.duration
        }
        let rates: [(Signal, Double)] = [(.traces, spansPerSecond), (.metrics, metricPointsPerSecond), (.logs, logRecordsPerSecond)]
        let byteRates = try [(Signal.traces, spanBytesPerSecond, "--span-bytes-per-second"), (.metrics, metricBytesPerSecond, "--metric-bytes-per-second"),
                             (.logs, logBytesPerSecond, "--log-bytes-per-second")].compactMap { signal, text, option -> (Signal, Double)? in
            guard let text else { return nil }
            guard let bytes = KafkaPlan.bytes(parsing: text), bytes > 0 else { throw ValidationError("\(option): expected bytes such as 40MB, got \"\(text)\"") }
            guard rates.first(where: { $0.0 == signal })?.1 == 0 else { throw ValidationError("\(option): give the \(signal) load once, as items or as bytes") }
            return (signal, bytes)
        }
        guard rates.contains(where: { $0.1 > 0 }) || !byteRates.isEmpty else {
            throw ValidationError("give at least one of --spans-per-second, --metric-points-per-second, --log-records-per-second or their --*-bytes-per-second")
        }
        guard sample == nil || sampleTopic == nil else { throw ValidationError("--sample and --sample-topic: give one sample") }
        var measured: [Signal: KafkaPlan.Sample] = [:]
        if let sample {
            guard let data = FileManager.default.contents(atPath: sample) else { throw ValidationError("--sample: cannot read \(sample)") }
            do {
                for found in try KafkaPlan.measure(sample: Array(data), codec: compression) { measured[found.signal] = found }
            } catch {
                throw ValidationError("--sample: \(error.description)")
            }
        }
        if let sampleTopic {
            guard let bootstrap else { throw ValidationError("--sample-topic needs --bootstrap (the brokers to read it from)") }
            let records = try await KafkaTopicSample.read(topic: sampleTopic, bootstrap: bootstrap, limit: max(1, sampleRecords))
            guard !records.isEmpty else { throw ValidationError("--sample-topic: no record read from \(sampleTopic) at \(bootstrap)") }
            do {
                for found in try KafkaPlan.measure(requests: records, codec: compression) { measured[found.signal] = found }
            } catch {
                throw ValidationError("--sample-topic: \(error.description)")
            }
        }
        for found in measured.values.sorted(by: { $0.signal.rawValue < $1.signal.rawValue }) {
            print("sample \(found.signal): \(found.items) items in \(found.bytes) B = \(KafkaPlan.count(found.itemBytes.rounded())) B per item; \(compression) makes \(found.compressedBytes) B of them (ratio \(String(format: "%.3f", found.compressionRatio)))")
        }
        func load(_ signal: Signal, itemsPerSecond: Double? = nil, bytesPerSecond: Double? = nil) -> KafkaPlan.Load {
            let found = measured[signal]
            let size = found.map { $0.itemBytes.rounded() } ?? itemBytes, ratio = found?.compressionRatio ?? compressionRatio
            if let bytesPerSecond { return KafkaPlan.Load(signal: signal, uncompressedBytesPerSecond: bytesPerSecond, itemBytes: size, compressionRatio: ratio) }
            return KafkaPlan.Load(signal: signal, itemsPerSecond: itemsPerSecond ?? 0, itemBytes: size, compressionRatio: ratio)
        }
        let loads = Signal.allCases.compactMap { signal -> KafkaPlan.Load? in
            if let rate = rates.first(where: { $0.0 == signal }), rate.1 > 0 { return load(signal, itemsPerSecond: rate.1) }
            if let bytes = byteRates.first(where: { $0.0 == signal }) { return load(signal, bytesPerSecond: bytes.1) }
            return nil
        }
        let plan = KafkaPlan(loads: loads, outage: outage.duration, catchUp: catchUpDuration, replication: replication, brokers: brokers,
                             backendItemsPerSecond: backendItemsPerSecond).plan()
        for line in plan.lines { print(line) }
        print("")
        print("backends: \(plan.backends); retention.ms: \(Int(plan.retentionSeconds * 1000)); disk per broker: \(KafkaPlan.size(plan.diskPerBroker))")
        for topic in plan.topics {
            print("topic \(topic.signal.defaultKafkaTopic): partitions \(topic.partitions), retention.bytes \(Int(topic.retentionBytesPerPartition.rounded(.up)))")
        }
    }
}

/// The values of a topic's first records, read with a consumer of a group of its own that
/// commits nothing.
enum KafkaTopicSample {
    static func read(topic: String, bootstrap: String, limit: Int) async throws -> [[UInt8]] {
        let config = KafkaClientConfig([("bootstrap.servers", bootstrap), ("group.id", "otelcol-swift-kafka-plan-\(UUID().uuidString)"),
                                        ("enable.auto.commit", "false"), ("log_level", "3")])
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(config: config, topics: [topic], logger: Logger(label: "kafka-plan"))
        } catch {
            throw ValidationError("--sample-topic: \(error.message)")
        }
        defer { consumer.close() }
        var values: [[UInt8]] = []
        // Until the limit, or until nothing more came for a while once records began (the topic
        // is read to its end); a topic that gives nothing within the deadline is reported empty.
        let deadline = ContinuousClock.now + .seconds(30)
        var quietSince = ContinuousClock.now
        while values.count < limit, ContinuousClock.now < deadline {
            let polled = await consumer.poll(timeout: .milliseconds(500), max: limit - values.count)
            var got = false
            for case .record(let record) in polled {
                values.append(record.value)
                got = true
            }
            if got { quietSince = .now } else if !values.isEmpty, ContinuousClock.now - quietSince > .seconds(3) { break }
        }
        return values
    }
}
