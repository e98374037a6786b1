import ArgumentParser
import Components
import Foundation
import OTLP
import Pipeline

/// `otelcol-swift kafka-plan`: partitions, retention, broker disk and backend instances for a
/// peak load and an outage to survive, with the arithmetic.
struct KafkaPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-plan",
        abstract: "Size the Kafka buffer between collector tiers for a peak load and an outage to survive.",
        discussion: """
        Item sizes and the compression ratio come from --sample (a file of OTLP requests as the file \
        exporter writes them with format: proto), measured with --compression; else from \
        --item-bytes and --compression-ratio.
        """)

    @Option(help: "Spans per second at peak.") var spansPerSecond = 0.0
    @Option(help: "Metric data points per second at peak.") var metricPointsPerSecond = 0.0
    @Option(help: "Log records per second at peak.") var logRecordsPerSecond = 0.0
    @Option(help: "Uncompressed OTLP bytes per item, when there is no sample.") var itemBytes = 500.0
    @Option(help: "Compressed over uncompressed size, when there is no sample.") var compressionRatio = 0.25
    @Option(help: "A file of OTLP requests (file exporter, format: proto) to measure item sizes and compression from.") var sample: String?
    @Option(help: "The kafka exporter's producer.compression: none, gzip or zstd.") var compression = "zstd"
    @Option(help: "How long the backends may be away (e.g. 6h, 90m).") var outage = "4h"
    @Option(help: "How long the backends may take to catch up afterwards; default: the outage.") var catchUp: String?
    @Option(help: "Replication factor of the topics.") var replication = 3
    @Option(help: "Brokers in the cluster.") var brokers = 3
    @Option(help: "Items per second one backend instance exports (default: 80% of one core in docs/BENCHMARKS.md).")
    var backendItemsPerSecond = KafkaPlan.defaultBackendItemsPerSecond

    func run() throws {
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
        guard rates.contains(where: { $0.1 > 0 }) else { throw ValidationError("give at least one of --spans-per-second, --metric-points-per-second, --log-records-per-second") }
        var measured: [Signal: KafkaPlan.Sample] = [:]
        if let sample {
            guard let data = FileManager.default.contents(atPath: sample) else { throw ValidationError("--sample: cannot read \(sample)") }
            do {
                for found in try KafkaPlan.measure(sample: Array(data), codec: compression) { measured[found.signal] = found }
            } catch {
                throw ValidationError("--sample: \(error.description)")
            }
            for found in measured.values.sorted(by: { $0.signal.rawValue < $1.signal.rawValue }) {
                print("sample \(found.signal): \(found.items) items in \(found.bytes) B = \(KafkaPlan.count(found.itemBytes.rounded())) B per item; \(compression) makes \(found.compressedBytes) B of them (ratio \(String(format: "%.3f", found.compressionRatio)))")
            }
        }
        let loads = rates.filter { $0.1 > 0 }.map { signal, rate in
            let found = measured[signal]
            return KafkaPlan.Load(signal: signal, itemsPerSecond: rate, itemBytes: found.map { $0.itemBytes.rounded() } ?? itemBytes,
                                  compressionRatio: found?.compressionRatio ?? compressionRatio)
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
