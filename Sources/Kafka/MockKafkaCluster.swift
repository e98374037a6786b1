import CRdKafka
import Logging
import Synchronization

/// A Kafka-protocol broker set in this process: librdkafka's mock cluster, which speaks the real
/// wire protocol over TCP on 127.0.0.1 (produce, fetch, consumer groups, offsets, compression).
///
/// For local runs and tests only: everything is in memory, and each partition keeps only its
/// newest ~5 MiB or 100k message sets, silently deleting older ones (a tiny retention). Not for
/// production data.
public final class MockKafkaCluster: Sendable {
    private let host: RdKafkaHandle
    private let cluster: RdKafkaHandle
    public let bootstrapServers: String
    private let closed = Atomic<Bool>(false)

    public init(brokers: Int = 1) throws(KafkaError) {
        let conf = try KafkaClientConfig([("log_level", "3")]).make()
        let rk = try makeClient(RD_KAFKA_PRODUCER, conf, what: "the mock cluster's host handle")
        guard let mcluster = rd_kafka_mock_cluster_new(rk, Int32(brokers)) else {
            rd_kafka_destroy(rk)
            throw KafkaError(message: "cannot create a mock Kafka cluster")
        }
        host = RdKafkaHandle(pointer: rk)
        cluster = RdKafkaHandle(pointer: mcluster)
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(mcluster))
    }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster.pointer, name, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "create topic \(name)") }
    }

    /// Fault injection: a broker stops answering (its connections are closed) until `setUp`.
    public func setDown(broker: Int32) {
        _ = rd_kafka_mock_broker_set_down(cluster.pointer, broker)
    }

    public func setUp(broker: Int32) {
        _ = rd_kafka_mock_broker_set_up(cluster.pointer, broker)
    }

    /// Fault injection: adds `rtt` of latency to every answer of a broker.
    public func setRoundTripTime(broker: Int32, _ rtt: Duration) {
        _ = rd_kafka_mock_broker_set_rtt(cluster.pointer, broker, Int32(rtt.components.seconds * 1000 + rtt.components.attoseconds / 1_000_000_000_000_000))
    }

    /// Fault injection: the next requests of `apiKey` (0 = Produce) fail with these error codes.
    public func pushRequestErrors(apiKey: Int16, _ errors: [Int32]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster.pointer, apiKey, codes.count, &codes)
    }

    public func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        rd_kafka_mock_cluster_destroy(cluster.pointer)
        rd_kafka_destroy(host.pointer)
    }

    deinit { close() }
}
