import CRdKafka

/// A Kafka failure, with librdkafka's code and whether retrying the same data can succeed.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String

    init(_ code: rd_kafka_resp_err_t, _ context: String? = nil) {
        self.code = code.rawValue
        let name = String(cString: rd_kafka_err2str(code))
        self.message = context.map { "\($0): \(name)" } ?? name
    }

    /// `error` with what caused it added to its message.
    init(_ error: KafkaError, cause: String) {
        self.code = error.code
        self.message = "\(error.message) (\(cause))"
    }

    public init(message: String) {
        self.code = RD_KAFKA_RESP_ERR__FAIL.rawValue
        self.message = message
    }

    public var description: String { message }

    /// Errors that will fail again however often they are retried: the data or the permissions
    /// are wrong, not the cluster's state.
    public var isPermanent: Bool {
        switch rd_kafka_resp_err_t(rawValue: code) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
             RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
             RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
             RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR_INVALID_RECORD, RD_KAFKA_RESP_ERR_INVALID_MSG,
             RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
             RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
            true
        default:
            false
        }
    }

    public var isMessageTooLarge: Bool {
        code == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue
    }
}
