import CRdKafka
import Foundation
import Logging
import Synchronization

/// A librdkafka handle. librdkafka documents `rd_kafka_t` as safe to use from any thread, so
/// sharing the pointer across tasks is sound; the owner destroys it once, after its poll loop ended.
struct RdKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// One record to produce.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var key: [UInt8]?
    /// The value as pieces written one after another into the one copy librdkafka gets.
    public var valueParts: [[UInt8]]
    public var headers: [(name: String, value: [UInt8])]

    public init(topic: String, key: [UInt8]? = nil, value: [UInt8], headers: [(name: String, value: [UInt8])] = []) {
        self.init(topic: topic, key: key, valueParts: [value], headers: headers)
    }

    public init(topic: String, key: [UInt8]? = nil, valueParts: [[UInt8]], headers: [(name: String, value: [UInt8])] = []) {
        self.topic = topic
        self.key = key
        self.valueParts = valueParts
        self.headers = headers
    }
}

/// How a producer picks a record's partition.
public enum KafkaPartitioner: Sendable {
    /// Keyed records by Sarama's FNV-1a hash, as the Go collector; others at random.
    case saramaCompatible
    /// Keyed records by murmur2, as the Java client; others at random (librdkafka's
    /// `murmur2_random`).
    case murmur2
    /// Every record to the next partition in turn, keys ignored.
    case roundRobin
}

/// An asynchronous producer over librdkafka: `produce` returns when the broker acknowledged every
/// message (per `acks`), or says per message why not. A dedicated thread serves librdkafka's
/// delivery reports and logs; keyed messages are partitioned like the Go collector's producer
/// (Sarama-compatible FNV-1a), so Go and Swift edges put a trace on the same partition.
public final class KafkaProducer: Sendable {
    private let handle: RdKafkaHandle
    private let callbacks: Unmanaged<CallbackContext>
    private let poll = PollState()

    /// `onStatistics` receives librdkafka's statistics (every `statistics.interval.ms`, when set).
    public init(config: KafkaClientConfig, logger: Logger, partitioner: KafkaPartitioner = .saramaCompatible,
                onStatistics: (@Sendable (KafkaStatistics) -> Void)? = nil) throws(KafkaError) {
        let conf = try config.make()
        let sink = Unmanaged.passRetained(CallbackContext(logger: logger, onStatistics: onStatistics, client: config))
        rd_kafka_conf_set_opaque(conf, sink.toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryReport)
        rd_kafka_conf_set_log_cb(conf, librdkafkaLog)
        rd_kafka_conf_set_error_cb(conf, librdkafkaError)
        if onStatistics != nil { rd_kafka_conf_set_stats_cb(conf, librdkafkaStatistics) }
        // Topic-level properties given above (message.timeout.ms, acks, ...) live in the default
        // topic configuration; the partitioner is added to it rather than replacing it.
        var topicConf = rd_kafka_conf_get_default_topic_conf(conf)
        if topicConf == nil, let made = rd_kafka_topic_conf_new() {
            rd_kafka_conf_set_default_topic_conf(conf, made)
            topicConf = rd_kafka_conf_get_default_topic_conf(conf)
        }
        if let topicConf {
            switch partitioner {
            case .saramaCompatible: rd_kafka_topic_conf_set_partitioner_cb(topicConf, saramaCompatiblePartitioner)
            case .roundRobin: rd_kafka_topic_conf_set_partitioner_cb(topicConf, roundRobinPartitioner)
            case .murmur2: _ = rd_kafka_topic_conf_set(topicConf, "partitioner", "murmur2_random", nil, 0)
            }
        }
        let rk: OpaquePointer
        do {
            rk = try makeClient(RD_KAFKA_PRODUCER, conf, what: "the Kafka producer")
        } catch {
            sink.release()
            throw error
        }
        handle = RdKafkaHandle(pointer: rk)
        callbacks = sink
        let handle = self.handle
        let poll = self.poll
        let thread = Thread {
            while poll.running.load(ordering: .relaxed) { rd_kafka_poll(handle.pointer, 100) }
            poll.done.signal()
        }
        thread.name = "rdkafka-producer-poll"
        thread.start()
    }

    /// Produces every message and waits for all delivery reports. The result holds, per message
    /// in order, nil for delivered or the error.
    public func produce(_ messages: [KafkaMessage]) async -> [KafkaError?] {
        guard !messages.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let group = DeliveryGroup(count: messages.count, continuation: continuation)
            for (index, message) in messages.enumerated() {
                let ticket = Unmanaged.passRetained(DeliveryTicket(group: group, index: index)).toOpaque()
                if let error = enqueue(message, opaque: ticket) {
                    Unmanaged<DeliveryTicket>.fromOpaque(ticket).takeRetainedValue().complete(error)
                }
            }
        }
    }

    private func enqueue(_ message: KafkaMessage, opaque: UnsafeMutableRawPointer) -> KafkaError? {
        let headers: OpaquePointer? = message.headers.isEmpty ? nil : rd_kafka_headers_new(message.headers.count)
        if let headers {
            for header in message.headers {
                _ = header.value.withUnsafeBytes { value in
                    rd_kafka_header_add(headers, header.name, -1, value.baseAddress, value.count)
                }
            }
        }
        // One copy of the value, made here and handed over (librdkafka frees it after the
        // delivery report): parts need joining anyway, and RD_KAFKA_MSG_F_COPY would copy again.
        let size = message.valueParts.reduce(0) { $0 + $1.count }
        guard let value = malloc(max(size, 1)) else {
            if let headers { rd_kafka_headers_destroy(headers) }
            return KafkaError(RD_KAFKA_RESP_ERR__FAIL, "produce to \(message.topic) failed (out of memory)")
        }
        var written = 0
        for part in message.valueParts {
            part.withUnsafeBytes { bytes in
                if let source = bytes.baseAddress { (value + written).copyMemory(from: source, byteCount: bytes.count) }
            }
            written += part.count
        }
        let error: OpaquePointer? = message.topic.withCString { topic in
            (message.key ?? []).withUnsafeBytes { key in
                var vus = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                vus[0].vtype = RD_KAFKA_VTYPE_TOPIC
                vus[0].u.cstr = topic
                vus[1].vtype = RD_KAFKA_VTYPE_VALUE
                vus[1].u.mem.ptr = value
                vus[1].u.mem.size = size
                vus[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                vus[2].u.i = RD_KAFKA_MSG_F_FREE
                vus[3].vtype = RD_KAFKA_VTYPE_OPAQUE
                vus[3].u.ptr = opaque
                var count = 4
                if message.key != nil {
                    vus[count].vtype = RD_KAFKA_VTYPE_KEY
                    vus[count].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                    vus[count].u.mem.size = key.count
                    count += 1
                }
                if let headers {
                    vus[count].vtype = RD_KAFKA_VTYPE_HEADERS
                    vus[count].u.headers = headers
                    count += 1
                }
                return rd_kafka_produceva(handle.pointer, vus, count)
            }
        }
        guard let error else { return nil }
        // On failure neither the value nor the headers were taken over by librdkafka.
        free(value)
        if let headers { rd_kafka_headers_destroy(headers) }
        let code = rd_kafka_error_code(error)
        let text = String(cString: rd_kafka_error_string(error))
        rd_kafka_error_destroy(error)
        return KafkaError(code, "produce to \(message.topic) failed (\(text))")
    }

    /// `close(timeout:)` on a thread of its own, as `KafkaConsumer.closeOffPool` does.
    public func closeOffPool(timeout: Duration = .seconds(10)) async {
        await offPool { self.close(timeout: timeout) }
    }

    /// Waits up to `timeout` for queued messages, then stops the poll thread and destroys the
    /// handle. Messages still undelivered then fail with a timeout report.
    public func close(timeout: Duration = .seconds(10)) {
        guard poll.running.exchange(false, ordering: .relaxed) else { return }
        let ms = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        rd_kafka_flush(handle.pointer, ms)
        poll.done.wait()
        rd_kafka_destroy(handle.pointer)
        callbacks.release()
    }

    deinit { close(timeout: .seconds(1)) }
}

/// Tells the poll thread to stop, and signals when it has.
final class PollState: Sendable {
    let running = Atomic<Bool>(true)
    let done = DispatchSemaphore(value: 0)
}

/// Collects the delivery reports of one `produce` call and resumes it after the last one.
final class DeliveryGroup: Sendable {
    private let state: Mutex<(remaining: Int, results: [KafkaError?])>
    private let continuation: CheckedContinuation<[KafkaError?], Never>

    init(count: Int, continuation: CheckedContinuation<[KafkaError?], Never>) {
        state = Mutex((count, Array(repeating: nil, count: count)))
        self.continuation = continuation
    }

    func complete(_ index: Int, _ error: KafkaError?) {
        let finished = state.withLock { s -> [KafkaError?]? in
            s.results[index] = error
            s.remaining -= 1
            return s.remaining == 0 ? s.results : nil
        }
        if let finished { continuation.resume(returning: finished) }
    }
}

/// What a message's opaque pointer holds: its group and position.
final class DeliveryTicket: Sendable {
    let group: DeliveryGroup
    let index: Int
    init(group: DeliveryGroup, index: Int) {
        self.group = group
        self.index = index
    }
    func complete(_ error: KafkaError?) { group.complete(index, error) }
}

private let deliveryReport: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = { rk, message, _ in
    guard let message, let opaque = message.pointee._private else { return }
    let ticket = Unmanaged<DeliveryTicket>.fromOpaque(opaque).takeRetainedValue()
    let context = rk.flatMap { rd_kafka_opaque($0) }.map { Unmanaged<CallbackContext>.fromOpaque($0).takeUnretainedValue() }
    let err = message.pointee.err
    if err == RD_KAFKA_RESP_ERR_NO_ERROR {
        context?.authenticationFailure.withLock { $0 = nil }
        ticket.complete(nil)
    } else {
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        var error = KafkaError(err, "delivery to \(topic) failed")
        // A record that timed out because no broker would take the credentials says so.
        if let refused = context?.authenticationFailure.withLock({ $0 }) { error = KafkaError(error, cause: refused) }
        ticket.complete(error)
    }
}

/// Sarama's (and so the Go collector's) hash partitioner: FNV-1a of the key as a signed 32-bit
/// integer, modulo the partition count, made non-negative. Messages without a key go to a
/// random partition.
private let saramaCompatiblePartitioner: @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32 = { topic, key, length, partitions, topicOpaque, messageOpaque in
    guard let key, length > 0, partitions > 0 else {
        return rd_kafka_msg_partitioner_random(topic, key, length, partitions, topicOpaque, messageOpaque)
    }
    return saramaPartition(UnsafeRawBufferPointer(start: key, count: length), partitions: partitions)
}

/// Shared by every round-robin producer of the process: spreading is all it promises.
private let roundRobinNext = Atomic<UInt32>(0)

private let roundRobinPartitioner: @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32 = { _, _, _, partitions, _, _ in
    guard partitions > 0 else { return 0 }
    return Int32(roundRobinNext.wrappingAdd(1, ordering: .relaxed).oldValue % UInt32(partitions))
}

public func saramaPartition(_ key: UnsafeRawBufferPointer, partitions: Int32) -> Int32 {
    var hash: UInt32 = 2_166_136_261
    for byte in key {
        hash ^= UInt32(byte)
        hash = hash &* 16_777_619
    }
    var partition = Int32(bitPattern: hash) % partitions
    if partition < 0 { partition = -partition }
    return partition
}

/// Runs `work`, which blocks, on a thread outside Swift's cooperative pool, and waits for it.
func offPool<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
        Thread { continuation.resume(returning: work()) }.start()
    }
}
