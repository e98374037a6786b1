import Foundation
import Kafka
import OTLP
import Pipeline
import Prometheus
import Synchronization

/// The `kafka` receiver: consumes OTLP records and hands each to the pipelines; a record's offset
/// is stored for commit only after the pipelines accepted it (acknowledged delivery).
///
/// Retryable failures are retried in place with backoff (`error_backoff`), so nothing is skipped
/// while a backend is down. A record that cannot be decoded, or that the pipeline rejects
/// permanently, goes to `dead_letter_topic` when one is set (its offset is committed once the
/// dead-letter write is acknowledged), or is skipped: counted in `otelcol_dropped_items_total`
/// and logged with its topic, partition, offset and reason. One group member per receiver subscribes to every signal's topics
/// (one member instead of one per signal avoids rebalancing the group as each joins); up to
/// `maxInFlight` records are handled at once (a pipeline with a batch processor needs many records
/// in flight to fill a batch), and offsets are committed only up to the first record not yet done.
public final class KafkaReceiver: Receiver {
    public static let factory = ReceiverFactory(type: "kafka", stability: .beta, signals: Signal.allCases, config: KafkaReceiverConfig.self) { settings, config, consumers in
        KafkaReceiver(settings: settings, config: config, consumers: consumers)
    }

    private let settings: ComponentSettings
    private let config: KafkaReceiverConfig
    private let consumers: [Signal: any Consumer]
    private let running = MutexBox<(KafkaConsumer, Task<Void, Never>)>(nil)
    private let discovery = MutexBox<Task<Void, Never>>(nil)
    /// Which pipeline each subscribed topic feeds; replaced when an expression matches new topics.
    private let routing = MutexBox<TopicRouting>(nil)
    private let deadLetters = MutexBox<KafkaProducer>(nil)
    /// The retention limits of each consumed topic, read from the brokers.
    private let retention = MutexBox<[String: KafkaTopicRetention]>(nil)
    private let retentionWatch = MutexBox<Task<Void, Never>>(nil)
    private let stopping = StopFlag()
    private let observer: ReceiverObserver
    private let metrics: KafkaReceiverMetrics
    private let unroutedLogged = Mutex<Set<String>>([])

    init(settings: ComponentSettings, config: KafkaReceiverConfig, consumers: [Signal: any Consumer]) {
        self.settings = settings
        self.config = config
        self.consumers = consumers
        observer = ReceiverObserver(telemetry: settings.telemetry, receiver: settings.id, transport: "kafka")
        metrics = KafkaReceiverMetrics(telemetry: settings.telemetry, receiver: settings.id.description)
    }

    var librdkafkaConfig: KafkaClientConfig {
        let r = config.settings
        var client = config.client.librdkafkaProperties(host: settings.host)
        client.countAuthenticationFailures(settings)
        client.set("group.id", r.group_id)
        if !r.group_instance_id.isEmpty { client.set("group.instance.id", r.group_instance_id) }
        client.set("session.timeout.ms", String(r.session_timeout.nanoseconds / 1_000_000))
        client.set("heartbeat.interval.ms", String(r.heartbeat_interval.nanoseconds / 1_000_000))
        client.set("enable.auto.commit", r.autocommit.enable ? "true" : "false")
        client.set("auto.commit.interval.ms", String(max(1, r.autocommit.interval.nanoseconds / 1_000_000)))
        client.set("fetch.min.bytes", String(max(1, r.min_fetch_size)))
        if r.max_fetch_size > 0 { client.set("fetch.max.bytes", String(r.max_fetch_size)) }
        client.set("max.partition.fetch.bytes", String(r.max_partition_fetch_size))
        client.set("fetch.wait.max.ms", String(r.max_fetch_wait.nanoseconds / 1_000_000))
        client.set("partition.assignment.strategy", r.rebalanceStrategies.joined(separator: ","))
        return client
    }

    public func start() async throws {
        _ = try config.client.tokenProvider(host: settings.host)
        let signals = consumers.keys.sorted(by: { $0.rawValue < $1.rawValue })
        let subscription = try TopicSubscription(config.settings, signals: signals)
        for entry in subscription.entries {
            let topics = entry.patterns.isEmpty ? entry.names.joined(separator: ", ")
                : "topics matching \(entry.patterns.map(\.text).joined(separator: ", "))" + (entry.excluded.isEmpty ? "" : " except \(entry.excluded.map(\.text).joined(separator: ", "))")
            settings.logger.info("consuming \(entry.signal) from \(topics) as group \(config.settings.group_id) (\(config.settings.rebalanceStrategies.joined(separator: ", ")))")
        }
        let routing = TopicRouting(sources: subscription.sources(existing: []))
        logShared(routing)
        self.routing.set(routing)
        if !config.settings.dead_letter_topic.isEmpty {
            var properties = config.client.librdkafkaProperties(host: settings.host)
            properties.set("acks", "-1")
            properties.set("enable.idempotence", "true")
            deadLetters.set(try KafkaProducer(config: properties, logger: settings.logger))
        }
        let tracker = OffsetTracker(perPartition: Self.maxInFlightPerPartition)
        let logger = settings.logger
        var properties = librdkafkaConfig
        properties.set("statistics.interval.ms", "5000")
        let consumer = try KafkaConsumer(config: properties, topics: subscription.usesPatterns ? [] : routing.topics, logger: settings.logger,
                                         onStatistics: lagRecorder(tracker), start: config.settings.initial_offset.start,
                                         onRetentionLoss: { [self] loss in self.lostToRetention(loss) }) { revoked in
            // Let records of revoked partitions finish, so their offsets are committed before the
            // partitions move to another member; bounded, since the group waits for us.
            logger.info("partitions revoked: \(revoked.map { "\($0.topic)/\($0.partition)" }.joined(separator: ", "))")
            tracker.waitForIdle(revoked, timeout: Self.revokeGrace)
        }
        let loop = Task { [self] in await self.consume(from: consumer, tracker: tracker) }
        running.set((consumer, loop))
        retentionWatch.set(Task { [self] in await self.watchRetention(consumer) })
        if subscription.usesPatterns {
            let interval = config.client.metadata.refresh_interval.duration
            discovery.set(Task { [self] in await self.follow(subscription, consumer: consumer, every: interval) })
        }
    }

    private func logShared(_ routing: TopicRouting) {
        for (topic, shared) in routing.sources.sorted(by: { $0.key < $1.key }) where shared.count > 1 {
            settings.logger.info("topic \(topic) carries \(shared.map(\.signal.rawValue).joined(separator: ", ")): each record goes by its otelcol.signal header, else by its content")
        }
    }

    /// Resolves the subscription's expressions against the cluster's topics now and then every
    /// `interval`, subscribing again when the set of topics changes.
    private func follow(_ subscription: TopicSubscription, consumer: KafkaConsumer, every interval: Duration) async {
        var subscribed: [String: [TopicRouting.Source]]?
        while !Task.isCancelled {
            switch await consumer.topicNames() {
            case .failure(let error):
                settings.logger.warning("cannot list the cluster's topics to match the subscription: \(error.message)")
            case .success(let names):
                let sources = subscription.sources(existing: names)
                if sources != subscribed {
                    subscribed = sources
                    let routing = TopicRouting(sources: sources)
                    settings.logger.info("subscribing to \(routing.topics.isEmpty ? "no topic yet" : routing.topics.joined(separator: ", "))")
                    logShared(routing)
                    self.routing.set(routing)
                    if let error = consumer.subscribe(to: routing.topics) {
                        settings.logger.error("cannot subscribe to \(routing.topics.joined(separator: ", ")): \(error.message)")
                    }
                }
            }
            try? await Task.sleep(for: interval)
        }
    }

    public func shutdown() async {
        stopping.stop()
        if let task = discovery.take() {
            task.cancel()
            await task.value
        }
        if let watch = retentionWatch.take() {
            watch.cancel()
            await watch.value
        }
        if let (consumer, loop) = running.take() {
            await loop.value
            await consumer.closeOffPool()
        }
        await deadLetters.take()?.closeOffPool()
    }

    /// Records handled at once; bounds the memory a receiver holds.
    static let maxInFlight = 256
    /// Records of one partition handled at once (and not yet committable), so a partition that
    /// waits leaves room for the others.
    static let maxInFlightPerPartition = 64
    /// Free slots the consume loop waits for once `maxInFlight` is reached, and how long at most
    /// after the first one.
    static let pollRun = 64
    static let pollRunWait: Duration = .milliseconds(5)

    /// How long a revoke waits for in-flight records of the revoked partitions.
    static let revokeGrace: Duration = .seconds(10)

    private func consume(from consumer: KafkaConsumer, tracker: OffsetTracker) async {
        let autocommit = config.settings.autocommit.enable
        // Children are records (true) and the timers that bound waiting for free slots (false).
        await withTaskGroup(of: Bool.self) { group in
            var inFlight = 0
            while !stopping.isStopped {
                if inFlight >= Self.maxInFlight {
                    // Poll again when a run of records fits, or a moment after the first slot
                    // frees: polling for every freed slot costs two thread wake-ups per record,
                    // and waiting for a whole run could wait forever when slots are held by a
                    // partition that retries.
                    var timer = false
                    while inFlight > Self.maxInFlight - Self.pollRun, let isRecord = await group.next() {
                        guard isRecord else { break }
                        inFlight -= 1
                        if !timer {
                            timer = true
                            group.addTask { try? await Task.sleep(for: Self.pollRunWait); return false }
                        }
                    }
                }
                let polled = await consumer.poll(timeout: .milliseconds(100), max: Self.maxInFlight - inFlight) { topic, partition, taken in
                    tracker.pauseIfFull(topic: topic, partition: partition, taken: taken, consumer)
                }
                guard let routing = self.routing.get() else { break }
                for result in polled {
                    switch result {
                    case .error(let error):
                        settings.logger.warning("Kafka consumer error: \(error.message)")
                    case .record(let record):
                        metrics.messages.increment()
                        guard routing.sources[record.topic] != nil else {
                            // Only subscribed topics are delivered; a record from elsewhere is a librdkafka surprise.
                            settings.logger.error("skipping Kafka record \(record.topic)/\(record.partition)@\(record.offset): no pipeline reads topic \(record.topic)")
                            metrics.unroutedUnknown.increment()
                            continue
                        }
                        tracker.begin(record, consumer)
                        inFlight += 1
                        group.addTask { [self] in
                            guard await route(record, routing) else { return true }
                            if tracker.finish(record, consumer), !autocommit, let error = consumer.commit() {
                                settings.logger.warning("offset commit failed: \(error.message)")
                            }
                            return true
                        }
                    }
                }
            }
            await group.waitForAll()
        }
    }

    /// Finds a record's pipeline and delivers it there; true when it is done with (see `handle`).
    private func route(_ record: KafkaRecord, _ routing: TopicRouting) async -> Bool {
        let place = "\(record.topic)/\(record.partition)@\(record.offset)"
        switch routing.decide(topic: record.topic, value: record.value, headers: record.headers) {
        case .deliver(let signal, let encoding):
            guard let next = consumers[signal] else { return notOurs(record, signal) }
            return await handle(record, signal, encoding, into: next, routing: routing)
        case .deliverValidated(let signal, let items):
            guard let next = consumers[signal] else { return notOurs(record, signal) }
            return await handle(record, signal, .otlpProto, validatedItems: items, into: next, routing: routing)
        case .notOurs(let signal):
            return notOurs(record, signal)
        case .ambiguous:
            metrics.ambiguous.increment()
            settings.logger.warning("Kafka record \(place) fits several signals and carries no items; nothing is delivered")
            return true
        case .poison(let message):
            let fallback = routing.sources[record.topic]?.first?.signal ?? .traces
            metrics.unmarshalFailed(fallback).increment()
            return await giveUp(record, fallback, items: 1, reason: .undecodable,
                                message: "undecodable Kafka record \(place) (\(record.value.count) bytes): \(message)")
        }
    }

    /// A sound record of a signal with no pipeline here, on a shared topic: counted, logged once
    /// per topic and signal, and its offset committed (another receiver's data, not a loss of ours).
    private func notOurs(_ record: KafkaRecord, _ signal: Signal) -> Bool {
        metrics.unrouted(signal).increment()
        if unroutedLogged.withLock({ $0.insert("\(record.topic)/\(signal)").inserted }) {
            settings.logger.warning("topic \(record.topic) carries \(signal), which no pipeline of this receiver takes; such records are passed over (counted in otelcol_kafka_receiver_unrouted_records_total)")
        }
        return true
    }

    /// Delivers one record; true when it is done with (accepted, or skipped for good), false when
    /// the receiver is stopping and the record must be consumed again by the next owner.
    private func handle(_ record: KafkaRecord, _ signal: Signal, _ encoding: KafkaReceiverSettings.Encoding, validatedItems: Int? = nil,
                        into next: any Consumer, routing: TopicRouting) async -> Bool {
        let place = "\(record.topic)/\(record.partition)@\(record.offset)"
        var batch: TelemetryBatch
        do {
            batch = try decode(record, signal, encoding, validatedItems: validatedItems)
        } catch {
            if case .notOurs(let other) = routing.reclassify(topic: record.topic, value: record.value, failure: error.message) {
                return notOurs(record, other)
            }
            metrics.unmarshalFailed(signal).increment()
            return await giveUp(record, signal, items: 1, reason: .undecodable,
                                message: "undecodable Kafka record \(place) (\(record.value.count) bytes): \(error.message)")
        }
        if config.settings.header_extraction.extract_headers { extractHeaders(record, into: &batch) }
        var waits = config.settings.error_backoff.backoff.start()
        while true {
            do {
                try await next.consume(batch)
                observer.accepted(signal, batch.itemCount)
                return true
            } catch {
                let failure = PipelineError(classifying: error)
                let outcome: Backoff.Run.Outcome = failure.isRetryable && config.settings.error_backoff.enabled
                    ? await waits.wait(stop: { stopping.isStopped }) { wait in
                        settings.logger.warning("retrying Kafka record \(place) in \(wait): \(failure.message)")
                    }
                    : .expired
                switch outcome {
                case .waited: continue
                case .stopped: return false
                case .expired:
                    observer.refused(signal, batch.itemCount)
                    return await giveUp(record, signal, items: batch.itemCount,
                                        reason: failure.isRetryable ? .retriesExhausted : .rejectedPermanently,
                                        message: "Kafka record \(place) with \(batch.itemCount) \(signal.itemName): \(failure.message)")
                }
            }
        }
    }

    /// Records retention deleted before the group read them: counted per partition and among the
    /// dropped items (as records: how many items they held is not known), and logged with the range.
    private func lostToRetention(_ loss: KafkaRetentionLoss) {
        let signal = routing.get()?.sources[loss.topic]?.first?.signal ?? .traces
        settings.telemetry.counter("otelcol_kafka_receiver_records_lost_total",
                                   [("receiver", settings.id.description), ("topic", loss.topic), ("partition", String(loss.partition))])
            .increment(by: loss.records)
        settings.telemetry.recordDropped(Int(loss.records), signal: signal, component: settings.id, reason: "deleted_by_retention")
        settings.logger.error("\(loss.records) records of \(loss.topic)/\(loss.partition) (offsets \(loss.from) to \(loss.to - 1)) were deleted by the topic's retention before this group read them; reading resumes at offset \(loss.to)")
    }

    /// Publishes per-partition `otelcol_kafka_receiver_offset_lag` and `_current_offset` from
    /// librdkafka's statistics (every 5 s).
    private func lagRecorder(_ tracker: OffsetTracker) -> @Sendable (KafkaStatistics) -> Void {
        let gauges = PartitionLagGauges(telemetry: settings.telemetry, receiver: settings.id.description)
        let retention = self.retention, logger = settings.logger
        let warnBelow = config.settings.retention_headroom_warning.seconds
        return { statistics in
            let short = gauges.publish(statistics.partitions, traffic: statistics.traffic, oldest: tracker.oldestPending(),
                                       retention: retention.get() ?? [:], warnBelow: warnBelow)
            for shortfall in short {
                let estimate = shortfall.limit == .size ? ", at the rate the partition is written" : ""
                logger.warning("retention headroom of \(shortfall.partition.topic)/\(shortfall.partition.partition) is \(Int(max(0, shortfall.seconds))) s: a record of it not read within that time is deleted by the topic's \(shortfall.limit.rawValue)\(estimate) (warning below retention_headroom_warning)")
            }
        }
    }

    /// Reads the consumed topics' retention limits now and every five minutes, until cancelled.
    private func watchRetention(_ consumer: KafkaConsumer) async {
        repeat {
            if let topics = routing.get()?.topics, !topics.isEmpty {
                let found = await consumer.retention(of: topics)
                if !found.isEmpty { retention.set(found) }
            }
        } while (try? await Task.sleep(for: .seconds(300))) != nil
    }

    /// A record the pipeline will never take: written to the dead-letter topic (retried until
    /// Kafka acknowledges it, so it is never lost), or skipped, counted and logged.
    private func giveUp(_ record: KafkaRecord, _ signal: Signal, items: Int, reason: KafkaReceiverMetrics.GiveUp, message: String) async -> Bool {
        guard let producer = deadLetters.get() else {
            settings.telemetry.recordDropped(items, signal: signal, component: settings.id, reason: reason.rawValue)
            settings.logger.error("skipping \(message)")
            return true
        }
        let topic = config.settings.dead_letter_topic
        let headers = record.headers + [
            ("otelcol.dlq.source.topic", Array(record.topic.utf8)),
            ("otelcol.dlq.source.partition", Array(String(record.partition).utf8)),
            ("otelcol.dlq.source.offset", Array(String(record.offset).utf8)),
            ("otelcol.dlq.reason", Array(reason.rawValue.utf8)),
            ("otelcol.dlq.error", Array(message.utf8)),
        ]
        let letter = KafkaMessage(topic: topic, key: record.key, value: record.value, headers: headers)
        var waits = Backoff(initial: .milliseconds(100), maximum: .seconds(5)).start()
        while true {
            guard let error = await producer.produce([letter])[0] else {
                metrics.deadLettered(reason).increment()
                settings.logger.warning("sent to dead-letter topic \(topic): \(message)")
                return true
            }
            if error.isPermanent {
                settings.telemetry.recordDropped(items, signal: signal, component: settings.id, reason: reason.rawValue)
                settings.logger.error("skipping \(message); the dead-letter topic \(topic) refused it: \(error.message)")
                return true
            }
            let outcome = await waits.wait(stop: { stopping.isStopped }) { _ in
                settings.logger.error("cannot write to dead-letter topic \(topic), retrying: \(error.message)")
            }
            if outcome == .stopped { return false }
        }
    }

    private func decode(_ record: KafkaRecord, _ signal: Signal, _ encoding: KafkaReceiverSettings.Encoding,
                        validatedItems: Int?) throws(OTLPDecodingError) -> TelemetryBatch {
        var headers: [String: [String]] = [:]
        for header in record.headers { headers[header.name.lowercased(), default: []].append(String(decoding: header.value, as: UTF8.self)) }
        headers["kafka.topic"] = [record.topic]
        headers["kafka.partition"] = [String(record.partition)]
        headers["kafka.offset"] = [String(record.offset)]
        let metadata = RequestMetadata(headers: headers, replayable: true)
        if let validatedItems { return TelemetryBatch(signal: signal, trustedProtobuf: record.value, itemCount: validatedItems, metadata: metadata) }
        switch encoding {
        case .otlpProto: return try TelemetryBatch(signal: signal, protobuf: record.value, metadata: metadata)
        case .otlpJSON: return TelemetryBatch(try OTLPJSON.decode(signal, Self.wrappingBareList(record.value, signal)), metadata: metadata)
        }
    }

    /// Some producers (rotel) write a bare JSON list of resource entries instead of the export
    /// request object; it is read as the request holding that list.
    static func wrappingBareList(_ json: [UInt8], _ signal: Signal) -> [UInt8] {
        guard let first = json.first(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\t") }),
              first == UInt8(ascii: "[") else { return json }
        let key = switch signal { case .traces: "resourceSpans"; case .metrics: "resourceMetrics"; case .logs: "resourceLogs" }
        return Array("{\"\(key)\":".utf8) + json + [UInt8(ascii: "}")]
    }

    /// Copies the configured headers into every resource as `kafka.header.<name>`.
    private func extractHeaders(_ record: KafkaRecord, into batch: inout TelemetryBatch) {
        let wanted = config.settings.header_extraction.headers
        let found: [KeyValue] = wanted.compactMap { name in
            guard let header = record.headers.first(where: { $0.name == name }) else { return nil }
            var kv = KeyValue()
            kv.key = "kafka.header.\(name)"
            kv.value.stringValue = String(decoding: header.value, as: UTF8.self)
            return kv
        }
        guard !found.isEmpty, var request = try? batch.model() else { return }
        switch request {
        case .traces(var r):
            for i in r.resourceSpans.indices { r.resourceSpans[i].resource.attributes.append(contentsOf: found) }
            request = .traces(r)
        case .metrics(var r):
            for i in r.resourceMetrics.indices { r.resourceMetrics[i].resource.attributes.append(contentsOf: found) }
            request = .metrics(r)
        case .logs(var r):
            for i in r.resourceLogs.indices { r.resourceLogs[i].resource.attributes.append(contentsOf: found) }
            request = .logs(r)
        }
        batch.replace(with: request)
    }
}

/// Set once when the receiver begins to shut down.
final class StopFlag: Sendable {
    private let stopped = Atomic<Bool>(false)
    var isStopped: Bool { stopped.load(ordering: .relaxed) }
    func stop() { stopped.store(true, ordering: .relaxed) }
}
