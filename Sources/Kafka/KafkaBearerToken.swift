import CRdKafka
import Foundation

/// A SASL/OAUTHBEARER token for librdkafka, made by the owner of the client (an AWS MSK IAM
/// signature, a token from an OAuth 2 server).
public struct KafkaBearerToken: Sendable {
    public var value: String
    /// When the token stops being valid, in milliseconds since 1970; librdkafka asks for the next
    /// one at 80% of the time left.
    public var expiresAtMilliseconds: Int64
    /// The principal librdkafka reports the connection under; brokers read the identity from
    /// the token.
    public var principal: String
    /// SASL extensions sent beside the token (key, value).
    public var extensions: [(String, String)]

    public init(value: String, expiresAtMilliseconds: Int64, principal: String, extensions: [(String, String)] = []) {
        self.value = value
        self.expiresAtMilliseconds = expiresAtMilliseconds
        self.principal = principal
        self.extensions = extensions
    }
}

/// Makes the next token. Called on librdkafka's SASL background thread when a client starts and
/// again before each token expires; it may block that thread while it fetches credentials.
/// A thrown error is reported to librdkafka, which logs it and asks again shortly.
public typealias KafkaTokenSource = @Sendable () throws -> KafkaBearerToken

extension CallbackContext {
    /// Gives librdkafka the next token of `tokenSource`, or the reason there is none.
    func refreshToken(_ rk: OpaquePointer) {
        guard let tokenSource else { return }
        let failure: String
        do {
            let token = try tokenSource()
            var errorText = [CChar](repeating: 0, count: 512)
            let flat = token.extensions.flatMap { [$0.0, $0.1] }
            let result = withCStrings(flat) { pointers in
                var pointers = pointers
                return pointers.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_oauthbearer_set_token(rk, token.value, token.expiresAtMilliseconds, token.principal,
                                                   buffer.baseAddress, buffer.count, &errorText, errorText.count)
                }
            }
            if result == RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.debug("SASL OAUTHBEARER token refreshed; valid until \(token.expiresAtMilliseconds) ms since 1970")
                return
            }
            failure = "librdkafka refused the token: \(text(errorText))"
        } catch {
            failure = "\(error)"
        }
        // librdkafka logs the failure as an error ("Failed to acquire SASL OAUTHBEARER token: …")
        // and asks again every 10 s; `log` holds back the repeats.
        rd_kafka_oauthbearer_set_token_failure(rk, failure)
    }
}

let librdkafkaTokenRefresh: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { rk, _, opaque in
    guard let rk, let opaque else { return }
    Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue().refreshToken(rk)
}

/// Calls `body` with NUL-terminated copies of `strings` that live until it returns.
private func withCStrings<T>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}
