import CRdKafka
import Foundation
import Logging
import Synchronization

/// One consumed record, copied out of librdkafka's buffers.
public struct KafkaRecord: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    public let value: [UInt8]
    public let headers: [(name: String, value: [UInt8])]
    /// When the record was written (epoch milliseconds; the producer's or the broker's clock,
    /// per the topic's timestamp type), nil when the broker gives none.
    public let timestamp: Int64?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
                headers: [(name: String, value: [UInt8])], timestamp: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// A consumer-group member over librdkafka. Offsets are stored only when the caller says a
/// record is done (`markDone`), and librdkafka commits stored offsets (periodically, on
/// rebalance and on close), so a record is never committed before it was handled.
///
/// `poll` runs librdkafka's blocking poll on a private serial queue, never on the cooperative
/// thread pool.
public final class KafkaConsumer: Sendable {
    private let handle: RdKafkaHandle
    private let callbacks: Unmanaged<CallbackContext>
    private let queue: DispatchQueue
    /// Runs metadata requests, which block; `close` waits for the one under way.
    private let metadataQueue = DispatchQueue(label: "rdkafka-consumer-metadata")
    private let closed = Flag()

    /// `config` must set `group.id`; offset storing is always manual. `beforeRevoke` runs when
    /// partitions are about to be taken away, on librdkafka's poll thread: it may block (briefly)
    /// until work on them has finished; stored offsets are committed right after it returns.
    /// `start` places assigned partitions the group never committed. A partition whose committed
    /// offset is below its log start (retention deleted records nobody read) starts at the log
    /// start, and `onRetentionLoss` hears of the records lost; `auto.offset.reset` is always
    /// `earliest`, so a fetch that falls off the log later also resumes at what is left, never at
    /// the end.
    public init(config: KafkaClientConfig, topics: [String], logger: Logger,
                onStatistics: (@Sendable (KafkaStatistics) -> Void)? = nil,
                start: KafkaStartPosition = .beginning,
                onRetentionLoss: (@Sendable (KafkaRetentionLoss) -> Void)? = nil,
                beforeRevoke: (@Sendable ([(topic: String, partition: Int32)]) -> Void)? = nil) throws(KafkaError) {
        var config = config
        config.set("enable.auto.offset.store", "false")
        config.set("auto.offset.reset", "earliest")
        let conf = try config.make()
        let sink = Unmanaged.passRetained(CallbackContext(logger: logger, onStatistics: onStatistics, beforeRevoke: beforeRevoke,
                                                          start: start, onRetentionLoss: onRetentionLoss, client: config))
        rd_kafka_conf_set_opaque(conf, sink.toOpaque())
        rd_kafka_conf_set_log_cb(conf, librdkafkaLog)
        rd_kafka_conf_set_error_cb(conf, librdkafkaError)
        if onStatistics != nil { rd_kafka_conf_set_stats_cb(conf, librdkafkaStatistics) }
        rd_kafka_conf_set_rebalance_cb(conf, rebalance)
        let rk: OpaquePointer
        do {
            rk = try makeClient(RD_KAFKA_CONSUMER, conf, what: "the Kafka consumer")
        } catch {
            sink.release()
            throw error
        }
        rd_kafka_poll_set_consumer(rk)
        if !topics.isEmpty, let error = Self.subscribe(rk, topics) {
            rd_kafka_destroy(rk)
            sink.release()
            throw error
        }
        handle = RdKafkaHandle(pointer: rk)
        callbacks = sink
        queue = DispatchQueue(label: "rdkafka-consumer-poll")
    }

    public enum PollResult: Sendable {
        case record(KafkaRecord)
        /// A consumer-level error (broker down, unknown topic...): logged, consumption goes on.
        case error(KafkaError)
    }

    /// Waits up to `timeout` for the first record or error, then for up to `gather` more, at most
    /// `max` in all. One hop to the poll queue per run of records, not per record: at thousands
    /// of records per second the thread wake-ups cost more than the records' copies.
    ///
    /// `afterTaking` runs on the poll queue after each record taken, with the number of records
    /// of its partition taken in this run; a partition it pauses (`setPaused`) is paused at once,
    /// so the rest of the run holds none of its records (librdkafka drops those it already
    /// fetched and fetches them again on resume).
    public func poll(timeout: Duration = .milliseconds(100), max: Int = 64, gather: Duration = .milliseconds(2),
                     afterTaking: @escaping @Sendable (_ topic: String, _ partition: Int32, _ taken: Int) -> Void = { _, _, _ in })
        async -> [PollResult] {
        let ms = Self.milliseconds(timeout)
        let handle = self.handle
        let closed = self.closed
        let sink = callbacks
        return await withCheckedContinuation { continuation in
            queue.async {
                var results: [PollResult] = []
                var taken: [String: [Int32: Int]] = [:]
                var wait = ms
                var gatherUntil: ContinuousClock.Instant?
                while results.count < max, !closed.value.load(ordering: .relaxed) {
                    if let gatherUntil {
                        let left = gatherUntil - .now
                        wait = left > .zero ? Int32(left.components.attoseconds / 1_000_000_000_000_000) : 0
                    }
                    let polled = rd_kafka_consumer_poll(handle.pointer, wait)
                    let revoked = sink.takeUnretainedValue().revokedDuringRun.withLock { revoked in
                        defer { revoked.removeAll() }
                        return revoked
                    }
                    if !revoked.isEmpty {
                        // The revoke committed without the records taken so far; the partition's
                        // next owner (perhaps this consumer, from the committed offset) reads
                        // them again, so they must not be handled here too.
                        results = results.filter { result in
                            guard case .record(let record) = result else { return true }
                            return !revoked.contains { $0.topic == record.topic && $0.partition == record.partition }
                        }
                        for (topic, partition) in revoked { taken[topic]?[partition] = nil }
                    }
                    guard let message = polled else { break }
                    if gatherUntil == nil { gatherUntil = .now + gather }
                    defer { rd_kafka_message_destroy(message) }
                    let m = message.pointee
                    if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                        let record = Self.copy(message)
                        results.append(.record(record))
                        let count = taken[record.topic, default: [:]][record.partition, default: 0] + 1
                        taken[record.topic, default: [:]][record.partition] = count
                        afterTaking(record.topic, record.partition, count)
                    } else if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                        results.append(.error(KafkaError(m.err, "consume")))
                    }
                }
                continuation.resume(returning: results)
            }
        }
    }

    private static func copy(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaRecord {
        let m = message.pointee
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let value = m.payload.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        let key = m.key.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        var headers: [(name: String, value: [UInt8])] = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var index = 0
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, index, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = valuePointer.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                headers.append((name.map { String(cString: $0) } ?? "", bytes))
                index += 1
            }
        }
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &type)
        return KafkaRecord(topic: topic, partition: m.partition, offset: m.offset, key: key, value: value, headers: headers,
                           timestamp: type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || timestamp < 0 ? nil : timestamp)
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        Int32(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    private static func subscribe(_ rk: OpaquePointer, _ topics: [String]) -> KafkaError? {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(rk, list)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, "subscribe to \(topics.joined(separator: ", "))")
    }

    /// Replaces the subscription (the group rebalances; with cooperative-sticky only the
    /// partitions of topics added or removed move).
    public func subscribe(to topics: [String]) -> KafkaError? {
        guard !closed.value.load(ordering: .relaxed) else { return nil }
        if topics.isEmpty {
            let err = rd_kafka_unsubscribe(handle.pointer)
            return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, "unsubscribe")
        }
        return Self.subscribe(handle.pointer, topics)
    }

    /// The names of the cluster's topics, from a metadata request (off the cooperative pool,
    /// since the call blocks).
    public func topicNames(timeout: Duration = .seconds(5)) async -> Result<[String], KafkaError> {
        let handle = self.handle
        let closed = self.closed
        let metadataQueue = self.metadataQueue
        let ms = Self.milliseconds(timeout)
        return await withCheckedContinuation { continuation in
            metadataQueue.async {
                guard !closed.value.load(ordering: .relaxed) else { return continuation.resume(returning: .success([])) }
                var metadata: UnsafePointer<rd_kafka_metadata_t>?
                let err = rd_kafka_metadata(handle.pointer, 1, nil, &metadata, ms)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                    return continuation.resume(returning: .failure(KafkaError(err, "list topics")))
                }
                defer { rd_kafka_metadata_destroy(metadata) }
                let topics = (0..<Int(metadata.pointee.topic_cnt)).compactMap { index -> String? in
                    let topic = metadata.pointee.topics[index]
                    return topic.err == RD_KAFKA_RESP_ERR_NO_ERROR ? String(cString: topic.topic) : nil
                }
                continuation.resume(returning: .success(topics))
            }
        }
    }

    /// Stores the offset after `offset` for the next commit: everything up to it is done.
    public func markDone(topic: String, partition: Int32, offset: Int64) {
        guard let list = rd_kafka_topic_partition_list_new(1) else { return }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let entry = rd_kafka_topic_partition_list_add(list, topic, partition) {
            entry.pointee.offset = offset + 1
        }
        _ = rd_kafka_offsets_store(handle.pointer, list)
    }

    /// Stops (or restarts) fetching a partition. Records of it already fetched are dropped by
    /// librdkafka and fetched again after `resume`, from the position after the last polled one.
    public func setPaused(_ paused: Bool, topic: String, partition: Int32) {
        guard let list = rd_kafka_topic_partition_list_new(1) else { return }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_topic_partition_list_add(list, topic, partition)
        _ = paused ? rd_kafka_pause_partitions(handle.pointer, list) : rd_kafka_resume_partitions(handle.pointer, list)
    }

    /// Commits stored offsets now and waits for the broker's answer.
    public func commit() -> KafkaError? {
        let err = rd_kafka_commit(handle.pointer, nil, 0)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET ? nil : KafkaError(err, "commit")
    }

    /// Each topic's `retention.ms` and `retention.bytes` as the brokers report them
    /// (DescribeConfigs); topics the brokers did not describe are left out.
    public func retention(of topics: [String], timeout: Duration = .seconds(10)) async -> [String: KafkaTopicRetention] {
        let handle = self.handle
        let milliseconds = Int32(min(Int64(Int32.max), timeout.components.seconds * 1000))
        return await offPool { Self.describeRetention(handle.pointer, topics, timeoutMilliseconds: milliseconds) }
    }

    private static func describeRetention(_ rk: OpaquePointer, _ topics: [String], timeoutMilliseconds: Int32) -> [String: KafkaTopicRetention] {
        guard !topics.isEmpty, let queue = rd_kafka_queue_new(rk) else { return [:] }
        defer { rd_kafka_queue_destroy(queue) }
        var resources: [OpaquePointer?] = topics.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
        defer { for resource in resources { if let resource { rd_kafka_ConfigResource_destroy(resource) } } }
        resources.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_DescribeConfigs(rk, buffer.baseAddress, buffer.count, nil, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds) else { return [:] }
        defer { rd_kafka_event_destroy(event) }
        guard rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR_NO_ERROR, let result = rd_kafka_event_DescribeConfigs_result(event) else { return [:] }
        var count = 0
        guard let described = rd_kafka_DescribeConfigs_result_resources(result, &count) else { return [:] }
        var found: [String: KafkaTopicRetention] = [:]
        for index in 0..<count {
            guard let resource = described[index], rd_kafka_ConfigResource_error(resource) == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let topic = String(cString: rd_kafka_ConfigResource_name(resource))
            var entries = 0
            guard let configs = rd_kafka_ConfigResource_configs(resource, &entries) else { continue }
            var retention = KafkaTopicRetention()
            for entry in 0..<entries {
                guard let config = configs[entry],
                      let value = rd_kafka_ConfigEntry_value(config).flatMap({ Int64(String(cString: $0)) }), value >= 0 else { continue }
                switch String(cString: rd_kafka_ConfigEntry_name(config)) {
                case "retention.ms": retention.milliseconds = value
                case "retention.bytes": retention.bytes = value
                default: break
                }
            }
            found[topic] = retention
        }
        return found
    }

    /// `close()` on a thread of its own: leaving the group can take seconds, and a thread of
    /// Swift's cooperative pool (one per core) held that long stalls every task.
    public func closeOffPool() async {
        await offPool { self.close() }
    }

    /// Commits what was stored, leaves the group and releases the handle.
    public func close() {
        // Inside the metadata queue, so no metadata request runs while or after the handle goes.
        metadataQueue.sync {
            queue.sync {
                guard !closed.value.exchange(true, ordering: .relaxed) else { return }
                _ = rd_kafka_commit(handle.pointer, nil, 0)
                rd_kafka_consumer_close(handle.pointer)
                rd_kafka_destroy(handle.pointer)
                callbacks.release()
            }
        }
    }

    deinit { close() }
}

/// Assigns and revokes partitions, committing what was done before a partition is given up, so
/// the next owner starts after it instead of repeating it.
private let rebalance: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = { rk, err, partitions, opaque in
    guard let rk else { return }
    // NULL while the consumer closes (a rebalance can still be delivered then).
    let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } == "COOPERATIVE"
    if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
        if let opaque, let partitions {
            let sink = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
            place(rk, partitions, sink)
        }
        if cooperative {
            if let error = rd_kafka_incremental_assign(rk, partitions) { rd_kafka_error_destroy(error) }
        } else {
            _ = rd_kafka_assign(rk, partitions)
        }
        // A partition paused by its previous assignment must not stay paused in this one.
        if let partitions { _ = rd_kafka_resume_partitions(rk, partitions) }
        return
    }
    if let opaque, let partitions {
        let sink = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
        var revoked: [(topic: String, partition: Int32)] = []
        for i in 0..<Int(partitions.pointee.cnt) {
            let element = partitions.pointee.elems[i]
            revoked.append((String(cString: element.topic), element.partition))
        }
        sink.revokedDuringRun.withLock { $0 += revoked }
        sink.beforeRevoke?(revoked)
        if err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS {
            // Partitions lost (session expired) cannot be committed; revoked ones can. A broker
            // may refuse (a rebalance begun meanwhile): the next owner then starts from the last
            // commit that went through and consumes again what this member delivered since.
            let committed = rd_kafka_commit(rk, nil, 0)
            if committed != RD_KAFKA_RESP_ERR_NO_ERROR && committed != RD_KAFKA_RESP_ERR__NO_OFFSET {
                let names = revoked.map { "\($0.topic)/\($0.partition)" }.joined(separator: ", ")
                sink.logger.warning("partitions revoked without their offsets committed (\(String(cString: rd_kafka_err2str(committed)))): \(names); their next owner consumes again the records delivered since the last commit")
            }
        }
    }
    if cooperative {
        if let error = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(error) }
    } else {
        _ = rd_kafka_assign(rk, nil)
    }
}

/// A topic's retention limits; nil where it has none (-1, or not reported).
public struct KafkaTopicRetention: Sendable, Equatable {
    /// `retention.ms`: how long a record is kept.
    public var milliseconds: Int64?
    /// `retention.bytes`: how large each partition's log may grow before its oldest records go.
    public var bytes: Int64?

    public init(milliseconds: Int64? = nil, bytes: Int64? = nil) {
        self.milliseconds = milliseconds
        self.bytes = bytes
    }
}

/// Where a partition the group never committed starts.
public enum KafkaStartPosition: Sendable {
    case beginning
    case end
    /// The first record at or after this time (epoch milliseconds, worked out at assignment).
    case time(@Sendable () -> Int64)
}

/// Records of a partition deleted by retention before the group read them: offsets `from`
/// (the committed offset) up to `to` (the log start), exclusive.
public struct KafkaRetentionLoss: Sendable, Equatable {
    public let topic: String
    public let partition: Int32
    public let from: Int64
    public let to: Int64
    public var records: Int64 { to - from }
}

/// Sets the start offset of assigned partitions: those never committed per `start`; those whose
/// committed offset retention has passed at the log start, reporting the loss. On a broker error
/// the partitions are left to `auto.offset.reset` (earliest).
private func place(_ rk: OpaquePointer, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, _ context: CallbackContext) {
    guard let committed = rd_kafka_topic_partition_list_copy(partitions) else { return }
    defer { rd_kafka_topic_partition_list_destroy(committed) }
    let err = rd_kafka_committed(rk, committed, 10_000)
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
        context.logger.warning("cannot read committed offsets of assigned partitions (they start at the earliest record): \(String(cString: rd_kafka_err2str(err)))")
        return
    }
    var uncommitted: [(topic: String, partition: Int32)] = []
    for i in 0..<Int(committed.pointee.cnt) {
        let element = committed.pointee.elems[i]
        let topic = String(cString: element.topic)
        guard element.offset >= 0 else {
            uncommitted.append((topic, element.partition))
            continue
        }
        var low: Int64 = -1, high: Int64 = -1
        guard rd_kafka_query_watermark_offsets(rk, element.topic, element.partition, &low, &high, 5_000) == RD_KAFKA_RESP_ERR_NO_ERROR,
              element.offset < low, let target = rd_kafka_topic_partition_list_find(partitions, element.topic, element.partition) else { continue }
        target.pointee.offset = low
        context.onRetentionLoss?(KafkaRetentionLoss(topic: topic, partition: element.partition, from: element.offset, to: low))
    }
    switch context.start {
    case .beginning:
        set(uncommitted, in: partitions, to: Int64(RD_KAFKA_OFFSET_BEGINNING))
    case .end:
        set(uncommitted, in: partitions, to: Int64(RD_KAFKA_OFFSET_END))
    case .time(let milliseconds):
        placeByTime(rk, uncommitted, in: partitions, at: milliseconds(), logger: context.logger)
    }
}

private func set(_ chosen: [(topic: String, partition: Int32)], in partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, to offset: Int64) {
    for (topic, partition) in chosen {
        rd_kafka_topic_partition_list_find(partitions, topic, partition)?.pointee.offset = offset
    }
}

/// Places `chosen` at the first record at or after `milliseconds` (the end when there is none).
private func placeByTime(_ rk: OpaquePointer, _ chosen: [(topic: String, partition: Int32)],
                         in partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, at milliseconds: Int64, logger: Logger) {
    guard !chosen.isEmpty, let times = rd_kafka_topic_partition_list_new(Int32(chosen.count)) else { return }
    defer { rd_kafka_topic_partition_list_destroy(times) }
    for (topic, partition) in chosen { rd_kafka_topic_partition_list_add(times, topic, partition)?.pointee.offset = milliseconds }
    let found = rd_kafka_offsets_for_times(rk, times, 10_000)
    guard found == RD_KAFKA_RESP_ERR_NO_ERROR else {
        logger.warning("cannot find offsets for time \(milliseconds): \(String(cString: rd_kafka_err2str(found)))")
        return
    }
    for i in 0..<Int(times.pointee.cnt) {
        let element = times.pointee.elems[i]
        guard element.err == RD_KAFKA_RESP_ERR_NO_ERROR,
              let target = rd_kafka_topic_partition_list_find(partitions, element.topic, element.partition) else { continue }
        target.pointee.offset = element.offset >= 0 ? element.offset : Int64(RD_KAFKA_OFFSET_END)
        logger.info("partition \(String(cString: element.topic))/\(element.partition) starts at offset \(target.pointee.offset) (time \(milliseconds))")
    }
}

/// A flag shared with work running on the poll queue.
final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}
