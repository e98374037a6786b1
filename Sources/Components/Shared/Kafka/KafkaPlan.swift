import Foundation
import OTLP
import Pipeline

/// Sizing of the Kafka buffer between collector tiers, from peak ingest and the outage to
/// survive (`otelcol-swift kafka-plan`). Every figure comes with the arithmetic that made it.
///
/// The model: during an outage of the backends nothing is read, so a backlog of `rate × outage`
/// builds up; afterwards the backends read it and what keeps arriving, and must finish within
/// `catchUp`. The oldest unread record is then `outage + catchUp` old, which retention must
/// exceed (with `safety`). Backends are counted for that catch-up rate; each topic gets at least
/// one partition per backend, and enough that none takes more than `partitionBytesPerSecond`.
public struct KafkaPlan: Sendable {
    public struct Load: Sendable, Equatable {
        public var signal: Signal
        /// Items (spans, metric data points, log records) per second at peak.
        public var itemsPerSecond: Double
        /// Bytes of an item in the OTLP protobuf, before compression.
        public var itemBytes: Double
        /// Compressed size over uncompressed size, with the exporter's codec.
        public var compressionRatio: Double

        /// The uncompressed OTLP bytes per second the load was given as, when it was (the items
        /// per second are then worked out from the item size).
        public var givenBytesPerSecond: Double?

        public init(signal: Signal, itemsPerSecond: Double, itemBytes: Double, compressionRatio: Double) {
            self.signal = signal
            self.itemsPerSecond = itemsPerSecond
            self.itemBytes = itemBytes
            self.compressionRatio = compressionRatio
        }

        /// A load given as uncompressed OTLP bytes per second.
        public init(signal: Signal, uncompressedBytesPerSecond bytes: Double, itemBytes: Double, compressionRatio: Double) {
            self.init(signal: signal, itemsPerSecond: itemBytes > 0 ? bytes / itemBytes : 0, itemBytes: itemBytes, compressionRatio: compressionRatio)
            givenBytesPerSecond = bytes
        }

        var bytesPerSecond: Double { itemsPerSecond * itemBytes * compressionRatio }
    }

    public var loads: [Load]
    public var outage: Duration
    public var catchUp: Duration
    public var replication: Int
    public var brokers: Int
    /// Items one backend instance exports per second.
    public var backendItemsPerSecond: Double
    /// What one partition should take at most: a broker writes and replicates each partition's
    /// log sequentially, and consumers read a partition one at a time.
    public var partitionBytesPerSecond: Double = 10_000_000
    /// Retention beyond the worst case, and disk beyond the retained bytes (indexes, segments
    /// not yet deleted).
    public var safety = 1.25
    public var diskOverhead = 1.1

    public init(loads: [Load], outage: Duration, catchUp: Duration? = nil, replication: Int = 3, brokers: Int = 3,
                backendItemsPerSecond: Double = KafkaPlan.defaultBackendItemsPerSecond) {
        self.loads = loads
        self.outage = outage
        self.catchUp = catchUp ?? outage
        self.replication = replication
        self.brokers = brokers
        self.backendItemsPerSecond = backendItemsPerSecond
    }

    /// One core's measured rate of the backend (kafka receiver → batch → elasticsearch exporter:
    /// 497,512 spans per CPU-second in docs/BENCHMARKS.md), planned at 80% of it.
    public static let defaultBackendItemsPerSecond = 400_000.0

    public struct Topic: Sendable, Equatable {
        public var signal: Signal
        public var partitions: Int
        public var bytesPerSecond: Double
        public var retentionBytesPerPartition: Double
    }

    public struct Result: Sendable {
        public var backends: Int
        public var retentionSeconds: Double
        public var topics: [Topic]
        public var diskPerBroker: Double
        /// The arithmetic, one line per figure.
        public var lines: [String]
    }

    public func plan() -> Result {
        var lines: [String] = []
        for load in loads {
            guard let bytes = load.givenBytesPerSecond else { continue }
            lines.append("\(load.signal.defaultKafkaTopic) items/s: \(Self.size(bytes))/s ÷ \(Self.count(load.itemBytes)) B per item = \(Self.count(load.itemsPerSecond.rounded())) items/s")
        }
        let outageSeconds = Double(outage.components.seconds), catchUpSeconds = Double(catchUp.components.seconds)
        let items = loads.reduce(0) { $0 + $1.itemsPerSecond }
        let needed = items * (1 + outageSeconds / catchUpSeconds)
        let backends = max(1, Int((needed / backendItemsPerSecond).rounded(.up)))
        lines.append("backends: items/s × (1 + outage / catch-up) = \(Self.count(items)) × (1 + \(Self.hours(outageSeconds)) / \(Self.hours(catchUpSeconds))) = \(Self.count(needed)) items/s to read; ÷ \(Self.count(backendItemsPerSecond)) per backend = \(backends) backend instance(s)")
        let worstAge = outageSeconds + catchUpSeconds
        let retention = (worstAge * safety / 3600).rounded(.up) * 3600
        lines.append("retention: (outage + catch-up) × \(safety) = (\(Self.hours(outageSeconds)) + \(Self.hours(catchUpSeconds))) × \(safety), rounded up to whole hours = \(Self.hours(retention)) (retention.ms \(Int(retention * 1000)))")
        var topics: [Topic] = []
        var retained = 0.0
        for load in loads where load.itemsPerSecond > 0 {
            let bytes = load.bytesPerSecond
            let byRate = Int((bytes / partitionBytesPerSecond).rounded(.up))
            var partitions = max(backends, byRate, 1)
            partitions = ((partitions + brokers - 1) / brokers) * brokers
            let perPartition = bytes * retention / Double(partitions)
            retained += bytes * retention
            lines.append("\(load.signal.defaultKafkaTopic): \(Self.count(load.itemsPerSecond)) items/s × \(Self.count(load.itemBytes)) B × \(String(format: "%.3f", load.compressionRatio)) compressed = \(Self.size(bytes))/s; partitions = max(backends \(backends), \(Self.size(bytes))/s ÷ \(Self.size(partitionBytesPerSecond))/s = \(byRate)) rounded up to a multiple of \(brokers) brokers = \(partitions); retention.bytes per partition = \(Self.size(bytes))/s × \(Self.hours(retention)) ÷ \(partitions) = \(Self.size(perPartition)) (\(Int(perPartition.rounded(.up))))")
            topics.append(Topic(signal: load.signal, partitions: partitions, bytesPerSecond: bytes, retentionBytesPerPartition: perPartition))
        }
        let disk = retained * Double(replication) * diskOverhead / Double(brokers)
        lines.append("disk per broker: \(Self.size(retained)) retained × \(replication) replicas × \(diskOverhead) ÷ \(brokers) brokers = \(Self.size(disk))")
        return Result(backends: backends, retentionSeconds: retention, topics: topics, diskPerBroker: disk, lines: lines)
    }

    public static func count(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    static func hours(_ seconds: Double) -> String {
        let hours = seconds / 3600
        return hours == hours.rounded() ? "\(Int(hours))h" : String(format: "%.2fh", hours)
    }

    /// Bytes written as a number with an optional unit (B, kB, MB, GB, TB in powers of 1000; KiB,
    /// MiB, GiB, TiB in powers of 1024) and an optional "/s": "40MB", "1.5 GiB/s", "250000".
    public static func bytes(parsing text: String) -> Double? {
        var rest = text.trimmingCharacters(in: .whitespaces)
        if rest.hasSuffix("/s") { rest.removeLast(2) }
        let units: [(String, Double)] = [("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
                                         ("kB", 1e3), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1)]
        var scale = 1.0
        if let (unit, factor) = units.first(where: { rest.hasSuffix($0.0) }) {
            rest.removeLast(unit.count)
            scale = factor
        }
        guard let number = Double(rest.trimmingCharacters(in: .whitespaces)), number.isFinite, number >= 0 else { return nil }
        return number * scale
    }

    public static func size(_ bytes: Double) -> String {
        for (unit, scale) in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)] where bytes >= scale {
            return String(format: "%.1f %@", bytes / scale, unit)
        }
        return "\(Int(bytes)) B"
    }
}

extension KafkaPlan {
    /// What a sample of OTLP requests (the file exporter's `proto` format: a 4-byte big-endian
    /// length, then the request) says of one signal: its items' mean size, and how much the
    /// codec makes of them (each request compressed alone, as the kafka exporter's records are).
    public struct Sample: Sendable, Equatable {
        public var signal: Signal
        public var items: Int
        public var bytes: Int
        public var compressedBytes: Int
        public var itemBytes: Double { items > 0 ? Double(bytes) / Double(items) : 0 }
        public var compressionRatio: Double { bytes > 0 ? Double(compressedBytes) / Double(bytes) : 1 }
    }

    public enum SampleError: Error, CustomStringConvertible {
        case unreadable(String)
        case truncated(at: Int)
        case notOTLP(request: Int)
        case codec(String)
        public var description: String {
            switch self {
            case .unreadable(let reason): "cannot read the sample: \(reason)"
            case .truncated(let offset): "the sample ends inside a request (at byte \(offset)); it must be the file exporter's proto format"
            case .notOTLP(let index): "request \(index + 1) of the sample is not an OTLP request of one signal"
            case .codec(let name): "\(name) cannot be measured here (gzip, zstd and none can)"
            }
        }
    }

    public static func measure(sample data: [UInt8], codec: String) throws(SampleError) -> [Sample] {
        var requests: [[UInt8]] = []
        var offset = 0
        while offset < data.count {
            guard offset + 4 <= data.count else { throw .truncated(at: offset) }
            let length = data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            guard offset + 4 + length <= data.count else { throw .truncated(at: offset) }
            requests.append(Array(data[offset + 4..<offset + 4 + length]))
            offset += 4 + length
        }
        return try measure(requests: requests, codec: codec)
    }

    /// `measure(sample:codec:)` of requests one by one: the values of a topic's records, as the
    /// kafka exporter writes one request per record.
    public static func measure(requests: [[UInt8]], codec: String) throws(SampleError) -> [Sample] {
        guard ["none", "gzip", "zstd"].contains(codec) else { throw .codec(codec) }
        var samples: [Signal: Sample] = [:]
        for (index, request) in requests.enumerated() {
            // Read as the kafka receiver reads a record of a topic several signals share.
            guard case .one(let signal, let items) = TopicRouting.wireSignal(request) else { throw .notOTLP(request: index) }
            let compressed: Int = switch codec {
            case "gzip": Compression.gzip(request)?.readableBytes ?? request.count
            case "zstd": Compression.zstd(request)?.count ?? request.count
            default: request.count
            }
            var sample = samples[signal] ?? Sample(signal: signal, items: 0, bytes: 0, compressedBytes: 0)
            sample.items += items
            sample.bytes += request.count
            sample.compressedBytes += compressed
            samples[signal] = sample
        }
        return Signal.allCases.compactMap { samples[$0] }
    }
}
