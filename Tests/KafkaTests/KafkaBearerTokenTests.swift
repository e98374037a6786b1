import Foundation
import Logging
import Synchronization
import Testing
@testable import Kafka

/// The OAUTHBEARER refresh callback: librdkafka asks the client's token source on its SASL
/// thread as the client starts, takes the token, and a failing source is logged once with its
/// reason. (The mock cluster speaks no SASL, so no broker accepts the token here; the tokens
/// themselves are checked in AWSSigningTests.)
@Suite struct KafkaBearerTokenTests {
    final class Calls: Sendable { let count = Atomic<Int>(0) }

    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        var logger: Logger {
            Logger(label: "test") { _ in Handler(lines: self) }
        }
        struct Handler: LogHandler {
            let lines: Lines
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) { lines.all.withLock { $0.append("\(event.level) \(event.message)") } }
        }
    }

    struct Refused: Error, CustomStringConvertible { var description: String { "the credentials endpoint answered 403" } }

    func config(_ cluster: MockKafkaCluster, _ source: @escaping KafkaTokenSource) -> KafkaClientConfig {
        var config = KafkaClientConfig([("bootstrap.servers", cluster.bootstrapServers), ("security.protocol", "sasl_plaintext"),
                                        ("sasl.mechanisms", "OAUTHBEARER")])
        config.tokenSource = source
        return config
    }

    @Test func producerAndConsumerAskTheSourceAndTakeItsToken() async throws {
        let cluster = try MockKafkaCluster()
        let calls = Calls()
        let lines = Lines()
        let source: KafkaTokenSource = {
            calls.count.add(1, ordering: .relaxed)
            return KafkaBearerToken(value: "opaque-token", expiresAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000) + 900_000,
                                    principal: "AKIAEXAMPLE", extensions: [("traceid", "abc")])
        }
        let producer = try KafkaProducer(config: config(cluster, source), logger: lines.logger)
        var consumerConfig = config(cluster, source)
        consumerConfig.set("group.id", "g")
        let consumer = try KafkaConsumer(config: consumerConfig, topics: [], logger: lines.logger)
        try await waitUntil { calls.count.load(ordering: .relaxed) >= 2 && lines.all.withLock { $0.filter { $0.contains("token refreshed") }.count >= 2 } }
        #expect(lines.all.withLock { $0.allSatisfy { !$0.contains("Failed to acquire SASL OAUTHBEARER token") } })
        producer.close(timeout: .milliseconds(100))
        consumer.close()
        cluster.close()
    }

    @Test func aFailingSourceIsReportedWithItsReason() async throws {
        let cluster = try MockKafkaCluster()
        let lines = Lines()
        let producer = try KafkaProducer(config: config(cluster) { throw Refused() }, logger: lines.logger)
        let expected = "Failed to acquire SASL OAUTHBEARER token: the credentials endpoint answered 403"
        try await waitUntil { lines.all.withLock { $0.contains { $0.hasPrefix("error cannot authenticate: ") && $0.contains(expected) } } }
        producer.close(timeout: .milliseconds(100))
        cluster.close()
    }
}

func waitUntil(timeout: Duration = .seconds(30), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw CancellationError() }
        try await Task.sleep(for: .milliseconds(5))
    }
}
