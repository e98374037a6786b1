import CRdKafka

/// librdkafka configuration properties, applied in order; the collector's config keys are mapped
/// to these by the components.
public struct KafkaClientConfig: Sendable {
    public var properties: [(String, String)] = []
    /// Tokens for `sasl.mechanism` OAUTHBEARER, made by the collector instead of librdkafka.
    public var tokenSource: KafkaTokenSource?
    /// How the client authenticates, for errors (e.g. `SASL/SCRAM-SHA-512 as user "edge"`).
    public var authentication: String?
    /// Called each time a broker refuses the client's authentication (for a counter).
    public var onAuthenticationFailure: (@Sendable () -> Void)?
    /// The name broker certificates must be valid for, instead of the broker's address.
    public var serverName: String?

    public init(_ properties: [(String, String)] = []) { self.properties = properties }

    public mutating func set(_ key: String, _ value: String) { properties.append((key, value)) }

    /// A librdkafka configuration object, or the first property it rejected.
    func make() throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(message: "cannot allocate a librdkafka configuration") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(message: "librdkafka property \(key)=\(value): \(text(errorText))")
            }
        }
        if serverName != nil {
            rd_kafka_conf_set(conf, "ssl.endpoint.identification.algorithm", "none", nil, 0)
            rd_kafka_conf_set_ssl_cert_verify_cb(conf, librdkafkaVerifyCertificate)
        }
        if tokenSource != nil {
            rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, librdkafkaTokenRefresh)
            rd_kafka_conf_enable_sasl_queue(conf, 1)
        }
        return conf
    }
}

/// A librdkafka client handle made from `conf`, which it takes over; on failure `conf` is freed
/// and the error says what could not be created.
func makeClient(_ type: rd_kafka_type_t, _ conf: OpaquePointer, what: String) throws(KafkaError) -> OpaquePointer {
    var errorText = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(type, conf, &errorText, errorText.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError(message: "cannot create \(what): \(text(errorText))")
    }
    // Tokens are made on librdkafka's own SASL thread, so that a client whose owner does not
    // poll its main queue (a producer between deliveries) still gets them in time.
    if let opaque = rd_kafka_opaque(rk), Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue().tokenSource != nil,
       let failure = rd_kafka_sasl_background_callbacks_enable(rk) {
        let message = String(cString: rd_kafka_error_string(failure))
        rd_kafka_error_destroy(failure)
        rd_kafka_destroy(rk)
        throw KafkaError(message: "cannot create \(what): SASL background callbacks: \(message)")
    }
    return rk
}

/// The text in a NUL-terminated buffer librdkafka wrote an error into.
func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
