import Kafka
import Pipeline

/// An extension that Kafka clients can take SASL/OAUTHBEARER tokens from
/// (`auth.sasl.oauthbearer_token_source`).
public protocol KafkaTokenProvider: CollectorExtension {
    /// The current token; called on librdkafka's SASL thread, which may wait for a fetch.
    func kafkaToken() throws -> KafkaBearerToken
}
