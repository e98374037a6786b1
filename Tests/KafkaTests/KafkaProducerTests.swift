import Logging
import Testing
@testable import Kafka

@Suite struct KafkaProducerTests {
    func producer(_ cluster: MockKafkaCluster, _ extra: [(String, String)] = []) throws -> KafkaProducer {
        try KafkaProducer(config: KafkaClientConfig([("bootstrap.servers", cluster.bootstrapServers), ("acks", "all")] + extra),
                          logger: Logger(label: "test"))
    }

    @Test func producesAndWaitsForAcknowledgement() async throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 3)
        let producer = try producer(cluster)
        let messages = (0..<50).map { KafkaMessage(topic: "t", key: Array("k\($0)".utf8), value: Array("v\($0)".utf8), headers: [("h", [1, 2])]) }
        let results = await producer.produce(messages)
        #expect(results.count == 50)
        #expect(results.allSatisfy { $0 == nil })
        producer.close()
        cluster.close()
    }

    @Test func oversizeMessageIsAPermanentError() async throws {
        let cluster = try MockKafkaCluster()
        try cluster.createTopic("t", partitions: 1)
        let producer = try producer(cluster, [("message.max.bytes", "1000")])
        let results = await producer.produce([KafkaMessage(topic: "t", value: [UInt8](repeating: 7, count: 5000)),
                                              KafkaMessage(topic: "t", value: [1])])
        let error = try #require(results[0])
        #expect(error.isMessageTooLarge)
        #expect(error.isPermanent)
        #expect(results[1] == nil)
        producer.close()
        cluster.close()
    }

    @Test func brokerDownIsRetryableAfterTheMessageTimeout() async throws {
        let cluster = try MockKafkaCluster()
        try cluster.createTopic("t", partitions: 1)
        let producer = try producer(cluster, [("message.timeout.ms", "1500"), ("reconnect.backoff.max.ms", "200")])
        #expect(await producer.produce([KafkaMessage(topic: "t", value: [1])]) == [nil])
        cluster.setDown(broker: 1)
        let error = try #require(await producer.produce([KafkaMessage(topic: "t", value: [2])])[0])
        #expect(!error.isPermanent)
        #expect(error.message.contains("timed out"))
        cluster.setUp(broker: 1)
        // A client retries after the broker is back; within a few attempts a send succeeds.
        var attempts = 0
        while await producer.produce([KafkaMessage(topic: "t", value: [3])]) != [nil], attempts < 10 { attempts += 1 }
        #expect(attempts < 10)
        producer.close(timeout: .milliseconds(100))
        cluster.close()
    }

    @Test func brokerErrorsAreClassified() async throws {
        let cluster = try MockKafkaCluster()
        try cluster.createTopic("t", partitions: 1)
        let producer = try producer(cluster, [("retries", "0")])
        cluster.pushRequestErrors(apiKey: 0, [10]) // MESSAGE_TOO_LARGE, as a broker with a lower limit answers
        let denied = try #require(await producer.produce([KafkaMessage(topic: "t", value: [1])])[0])
        #expect(denied.isPermanent)
        let after = await producer.produce([KafkaMessage(topic: "t", value: [2])])
        #expect(after == [nil], "\(String(describing: after))")
        producer.close()
        cluster.close()
    }

    @Test func partitionsLikeSarama() {
        // FNV-1a-32 values: "a" 0xe40c292c, "foobar" 0xbf9cf968; as int32, modulo 7, made positive.
        #expect(Array("a".utf8).withUnsafeBytes { saramaPartition($0, partitions: 7) } == 6)
        #expect(Array("foobar".utf8).withUnsafeBytes { saramaPartition($0, partitions: 7) } == 4)
        #expect(Array("5b8efff798038103d269b633813fc60c".utf8).withUnsafeBytes { saramaPartition($0, partitions: 7) } == 1)
    }
}

extension KafkaError: Equatable {
    public static func == (a: KafkaError, b: KafkaError) -> Bool { a.code == b.code }
}
