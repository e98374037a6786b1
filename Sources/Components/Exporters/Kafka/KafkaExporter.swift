import Kafka
import OTLP
import Pipeline
import Synchronization

/// The `kafka` exporter: writes each batch as Kafka records (byte-compatible with the Go
/// collector's) and returns only when Kafka acknowledged every record, so an OK upstream means
/// the data is in Kafka. Its errors say whether a retry can help.
public final class KafkaExporter: Exporter {
    public static let factory = ExporterFactory(type: "kafka", stability: .beta, config: KafkaExporterConfig.self) { settings, config in
        KafkaExporter(settings: settings, config: config)
    }

    private let settings: ComponentSettings
    private let config: KafkaExporterConfig
    private let producer = Mutex<KafkaProducer?>(nil)
    /// Signals whose records say their signal (`otelcol.signal`): all with `signal_header`, else
    /// those that share their topic with another signal, so any receiver can route them.
    private let labelled: Set<Signal>

    init(settings: ComponentSettings, config: KafkaExporterConfig) {
        self.settings = settings
        self.config = config
        let topics = Signal.allCases.map { config.settings.destination($0).topic }
        labelled = Set(Signal.allCases.filter { signal in
            config.settings.signal_header || topics.filter { $0 == config.settings.destination(signal).topic }.count > 1
        })
    }

    /// librdkafka settings for the producer: the shared client keys plus the producer keys.
    var librdkafkaConfig: KafkaClientConfig {
        let producer = config.settings.producer
        var client = config.client.librdkafkaProperties(host: settings.host)
        client.countAuthenticationFailures(settings)
        client.set("acks", config.settings.acks)
        // Idempotence needs acks from all in-sync replicas; with it, librdkafka's internal
        // retries cannot duplicate or reorder records.
        client.set("enable.idempotence", config.settings.acks == "-1" ? "true" : "false")
        client.set("compression.codec", producer.compression.rawValue)
        if producer.compression_params.level > 0 { client.set("compression.level", String(producer.compression_params.level)) }
        client.set("linger.ms", String(producer.linger.nanoseconds / 1_000_000))
        client.set("queue.buffering.max.messages", String(producer.flush_max_messages))
        // Records are split to fit max_message_bytes; the margin is the record framing.
        client.set("message.max.bytes", String(producer.max_message_bytes + 512))
        client.set("allow.auto.create.topics", producer.allow_auto_topic_creation ? "true" : "false")
        let timeoutMs = String(max(1, config.settings.timeout.nanoseconds / 1_000_000))
        client.set("request.timeout.ms", timeoutMs)
        client.set("message.timeout.ms", timeoutMs)
        return client
    }

    public func start() async throws {
        _ = try config.client.tokenProvider(host: settings.host)
        var properties = librdkafkaConfig
        properties.set("statistics.interval.ms", "10000")
        let made = try KafkaProducer(config: properties, logger: settings.logger,
                                     partitioner: config.settings.record_partitioner?.partitioner ?? .saramaCompatible,
                                     onStatistics: statisticsRecorder())
        producer.withLock { $0 = made }
    }

    public func shutdown() async {
        let current = producer.withLock { p -> KafkaProducer? in defer { p = nil }; return p }
        await current?.closeOffPool(timeout: .seconds(10))
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        guard let producer = producer.withLock({ $0 }) else { throw PipelineError.retryable("kafka exporter is not running") }
        var batch = batch
        let keys = config.settings
        let signalKeys = keys.keys(of: batch.signal)
        var (topic, encoding) = keys.destination(batch.signal)
        if !signalKeys.topic_from_metadata_key.isEmpty,
           let fromMetadata = batch.metadata.headers[signalKeys.topic_from_metadata_key.lowercased()]?.first, !fromMetadata.isEmpty {
            topic = fromMetadata
        }
        let messageKey = signalKeys.message_key_from_metadata_key.isEmpty ? nil
            : batch.metadata.headers[signalKeys.message_key_from_metadata_key.lowercased()]?.first.map { Array($0.utf8) }
        let headers = recordHeaders(batch)
        let plan = KafkaRecordPlan(settings: keys, signal: batch.signal, topic: topic, encoding: encoding,
                                   headerBytes: headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.count })
        let records: [KafkaRecordPlan.Record], refused: [KafkaRecordPlan.Refused]
        do {
            (records, refused) = try plan.records(for: &batch, messageKey: messageKey)
        } catch {
            throw PipelineError.permanent("cannot encode the batch for Kafka: \(error.message)")
        }
        for item in refused {
            settings.telemetry.recordDropped(item.items, signal: batch.signal, component: settings.id, reason: item.reason)
            settings.logger.error("dropping \(item.items) \(batch.signal.itemName): \(item.detail)")
        }
        let messages = records.map { record in
            var message = record.message
            message.headers = headers
            return message
        }
        let results = await producer.produce(messages)
        let failures = zip(records, results).compactMap { record, error in error.map { (record, $0) } }
        guard let first = failures.first else { return }
        let failedItems = failures.reduce(0) { $0 + $1.0.items }
        let permanent = failures.first(where: { $0.1.isPermanent })
        let summary = "\(failures.count) of \(records.count) Kafka records (\(failedItems) \(batch.signal.itemName)) failed: \((permanent ?? first).1.message)"
        if permanent != nil { throw PipelineError.permanent(summary) }
        throw PipelineError.retryable(summary)
    }

    /// Publishes librdkafka's statistics as `otelcol_kafka_producer_*` gauges.
    private func statisticsRecorder() -> @Sendable (KafkaStatistics) -> Void {
        let telemetry = settings.telemetry
        let labels = [("exporter", settings.id.description)]
        let queued = telemetry.gauge("otelcol_kafka_producer_queued_messages", labels)
        let queuedBytes = telemetry.gauge("otelcol_kafka_producer_queued_bytes", labels)
        let sent = telemetry.gauge("otelcol_kafka_producer_transmitted_messages", labels)
        let sentBytes = telemetry.gauge("otelcol_kafka_producer_transmitted_bytes", labels)
        let errors = telemetry.gauge("otelcol_kafka_producer_transmit_errors", labels)
        return { statistics in
            queued.set(statistics.queuedMessages)
            queuedBytes.set(statistics.queuedBytes)
            sent.set(statistics.transmittedMessages)
            sentBytes.set(statistics.transmittedBytes)
            errors.set(statistics.transmitErrors)
            for broker in statistics.brokers {
                let brokerLabels = labels + [("broker", broker.name)]
                telemetry.gauge("otelcol_kafka_producer_broker_rtt_seconds", brokerLabels).set(broker.rttMicroseconds / 1e6)
                telemetry.gauge("otelcol_kafka_producer_broker_up", brokerLabels).set(broker.up ? 1.0 : 0.0)
            }
        }
    }

    /// Static `record_headers`, then every value of each `include_metadata_keys` entry, then the
    /// signal header when asked for or when signals share a topic.
    private func recordHeaders(_ batch: TelemetryBatch) -> [(name: String, value: [UInt8])] {
        var headers: [(name: String, value: [UInt8])] = config.settings.record_headers.sorted(by: { $0.key < $1.key }).map { ($0.key, Array($0.value.utf8)) }
        for key in config.settings.include_metadata_keys {
            for value in batch.metadata.headers[key.lowercased()] ?? [] { headers.append((key, Array(value.utf8))) }
        }
        if labelled.contains(batch.signal) { headers.append(("otelcol.signal", Array(batch.signal.rawValue.utf8))) }
        return headers
    }
}
