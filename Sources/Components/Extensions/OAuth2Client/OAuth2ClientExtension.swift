import AsyncHTTPClient
import Dispatch
import Foundation
import Kafka
import NIOCore
import NIOHTTP1
import OTLP
import Pipeline
import Synchronization

/// `oauth2client`: tokens from an OAuth 2 token endpoint by the client credentials grant, kept
/// until shortly before they expire and fetched again on the next use. One fetch at a time:
/// requests that need a token while one is being fetched wait for it.
///
/// Client authentication follows Go's oauth2 library: id and secret form-escaped in a Basic
/// `Authorization` header first; if the endpoint refuses that, in the form body, and whichever
/// worked is kept. Tokens and secrets never appear in logs or errors.
public final class OAuth2ClientExtension: ClientAuthenticator, KafkaTokenProvider {
    public static let factory = ExtensionFactory(type: "oauth2client", stability: .beta, config: OAuth2ClientConfig.self) { settings, config in
        try OAuth2ClientExtension(settings: settings, config: config)
    }

    struct Token: Sendable {
        var value: String
        var type: String
        var expiresAt: Date?

        /// The `Authorization` scheme, as Go's oauth2 Token.Type() spells the common ones.
        var scheme: String {
            switch type.lowercased() {
            case "", "bearer": "Bearer"
            case "mac": "MAC"
            case "basic": "Basic"
            default: type
            }
        }
    }

    private struct State {
        var token: Token?
        var fetching: Task<Token, any Error>?
        /// nil until the endpoint took one of the two ways of client authentication.
        var credentialsInBody: Bool?
    }

    private let settings: ComponentSettings
    private let config: OAuth2ClientConfig
    private let client: HTTPClient
    private let state = Mutex(State())
    /// `timeout: 0` (Go: no limit) as a day: the HTTP client needs one.
    private static let unbounded = ConfigDuration.seconds(86_400)

    init(settings: ComponentSettings, config: OAuth2ClientConfig) throws(ConfigError) {
        self.settings = settings
        self.config = config
        client = try HTTPClients.make(tls: config.tls, timeout: config.timeout.nanoseconds > 0 ? config.timeout : Self.unbounded,
                                      connections: HTTPClientConnections(proxyURL: nil, idleConnTimeout: .seconds(0), maxIdleConnsPerHost: 0))
    }

    public func shutdown() async {
        state.withLock { $0.fetching }?.cancel()
        try? await client.shutdown()
    }

    public func apply(to headers: inout RequestHeaders, for metadata: RequestMetadata) async throws {
        let token: Token
        do { token = try await current() } catch { throw PipelineError.retryable("\(error)", retryAfter: .seconds(1)) }
        headers.set("Authorization", "\(token.scheme) \(token.value)")
    }

    /// For librdkafka's SASL thread, which may wait: the token, fetched while it waits if needed.
    public func kafkaToken() throws -> KafkaBearerToken {
        let result = Mutex<Result<Token, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let outcome: Result<Token, any Error>
            do { outcome = .success(try await current()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        guard let outcome = result.withLock({ $0 }) else { throw OAuth2Error(description: "no token was fetched") }
        let token = try outcome.get()
        // librdkafka needs a lifetime; a token without one is asked for again in an hour.
        let expiry = token.expiresAt ?? Date().addingTimeInterval(3600)
        return KafkaBearerToken(value: token.value, expiresAtMilliseconds: Int64(expiry.timeIntervalSince1970 * 1000),
                                principal: config.client_id.isEmpty ? "oauth2client" : config.client_id)
    }

    /// The kept token while it has more than the expiry buffer left, else the next one.
    func current() async throws -> Token {
        let buffer = TimeInterval(config.expiry_buffer.nanoseconds > 0 ? Double(config.expiry_buffer.nanoseconds) / 1e9 : 10)
        enum Next { case kept(Token), wait(Task<Token, any Error>) }
        let next: Next = state.withLock { state in
            if let token = state.token, token.expiresAt.map({ Date().addingTimeInterval(buffer) < $0 }) ?? true {
                return .kept(token)
            }
            if let fetching = state.fetching { return .wait(fetching) }
            let fetching = Task { try await self.fetch() }
            state.fetching = fetching
            return .wait(fetching)
        }
        switch next {
        case .kept(let token): return token
        case .wait(let fetching): return try await fetching.value
        }
    }

    private func fetch() async throws -> Token {
        defer { state.withLock { $0.fetching = nil } }
        let id = try Self.value(config.client_id, file: config.client_id_file, key: "client_id_file")
        let secret = try Self.value(config.client_secret, file: config.client_secret_file, key: "client_secret_file")
        let known = state.withLock { $0.credentialsInBody }
        var answer = try await post(id: id, secret: secret, inBody: known ?? false)
        if known == nil, !(200..<300).contains(answer.status) {
            answer = try await post(id: id, secret: secret, inBody: true)
            if (200..<300).contains(answer.status) { state.withLock { $0.credentialsInBody = true } }
        } else if known == nil {
            state.withLock { $0.credentialsInBody = false }
        }
        let token = try Self.token(from: answer.status, answer.body, url: config.token_url)
        state.withLock { $0.token = token }
        settings.logger.debug("OAuth2 token fetched from \(config.token_url)\(token.expiresAt.map { "; valid until \($0)" } ?? "")")
        return token
    }

    private func post(id: String, secret: String, inBody: Bool) async throws -> (status: Int, body: [UInt8]) {
        var form = [("grant_type", "client_credentials")]
        if !config.scopes.isEmpty { form.append(("scope", config.scopes.joined(separator: " "))) }
        for (key, node) in config.endpoint_params { for value in OAuth2ClientConfig.values(node) ?? [] { form.append((key, value)) } }
        var request = HTTPClientRequest(url: config.token_url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "User-Agent", value: "otelcol-swift")
        if inBody {
            form += [("client_id", id), ("client_secret", secret)]
        } else {
            let pair = "\(Self.formEscaped(id)):\(Self.formEscaped(secret))"
            request.headers.add(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        }
        // Sorted by key, as Go's url.Values encodes a form.
        let body = form.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }
            .map { "\(Self.formEscaped($0.element.0))=\(Self.formEscaped($0.element.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Self.unbounded.nanoseconds))
        } catch {
            throw OAuth2Error(description: "cannot get a token from \(config.token_url): \(error)")
        }
        let collected = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), Array(collected.readableBytesView))
    }

    /// The token of a token endpoint's answer, or what it said instead (`error`,
    /// `error_description`: the endpoint's own words, never credentials).
    static func token(from status: Int, _ body: [UInt8], url: String) throws -> Token {
        struct Answer: Decodable {
            var access_token: String?
            var token_type: String?
            var expires_in: Seconds?
            var error: String?
            var error_description: String?
        }
        /// `expires_in` as a number or, as some servers write it, a string.
        struct Seconds: Decodable {
            var value: Double
            init(from decoder: any Decoder) throws {
                let single = try decoder.singleValueContainer()
                if let number = try? single.decode(Double.self) { value = number; return }
                value = Double(try single.decode(String.self)) ?? 0
            }
        }
        let answer = try? JSONDecoder().decode(Answer.self, from: Data(body))
        guard (200..<300).contains(status) else {
            let said = [answer?.error, answer?.error_description].compactMap { $0 }.joined(separator: ": ")
            throw OAuth2Error(description: "the token endpoint \(url) answered \(status)\(said.isEmpty ? "" : " (\(said))")")
        }
        guard let answer, let value = answer.access_token, !value.isEmpty else {
            throw OAuth2Error(description: "the token endpoint \(url) answered without an access_token in JSON")
        }
        let expiresAt = answer.expires_in.flatMap { $0.value > 0 ? Date().addingTimeInterval($0.value) : nil }
        return Token(value: value, type: answer.token_type ?? "", expiresAt: expiresAt)
    }

    /// `file`'s content, trimmed, read at each fetch so that a rotated credential takes effect;
    /// `value` when no file is configured.
    private static func value(_ value: String, file: String, key: String) throws -> String {
        guard !file.isEmpty else { return value }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw OAuth2Error(description: "cannot read \(key) \(file)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func formEscaped(_ text: String) -> String { PercentEncoding.unreserved(text, spaceAsPlus: true) }
}

struct OAuth2Error: Error, CustomStringConvertible {
    var description: String
}
