import Foundation
import NIOCore
import NIOHTTP1
import OTLP
import Pipeline
import Synchronization
import Testing
@testable import Components

/// The oauth2client extension against a token endpoint served here (an HTTPServer answering as
/// RFC 6749 §4.4 and §5 describe; no client-credentials server is packaged for this machine).
@Suite struct OAuth2ClientTests {
    /// A token endpoint on a free port; `answer` decides from the Authorization header and form body.
    static func endpoint(_ answer: @escaping @Sendable (String?, String) -> HTTPResponse) async throws -> (HTTPServer, String) {
        let server = HTTPServer(host: "127.0.0.1", port: 0, maxBodySize: 4096) { request in
            answer(request.headers.first(name: "Authorization"), String(buffer: request.body))
        }
        let port = try await server.start()
        return (server, "http://127.0.0.1:\(port)/oauth2/token")
    }

    static func json(_ status: HTTPResponseStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(text.utf8))
    }

    func make(_ yaml: String) throws -> OAuth2ClientExtension {
        try OAuth2ClientExtension(settings: settings("oauth2client", .extension), config: try decodeConfig(OAuth2ClientConfig.self, yaml))
    }

    final class Log: Sendable { let lines = Mutex<[String]>([]) }

    @Test func credentialsInAHeaderAndTheTokenKeptUntilItExpires() async throws {
        let log = Log()
        let (server, url) = try await Self.endpoint { authorization, body in
            log.lines.withLock { $0.append("\(authorization ?? "-") \(body)") }
            return Self.json(.ok, #"{"access_token":"tok-1","token_type":"bearer","expires_in":3600}"#)
        }
        let client = try make("""
        client_id: "ingest client"
        client_secret: "s3cr3t:/+"
        token_url: \(url)
        scopes: [api.metrics, api.logs]
        endpoint_params:
          audience: edge
          resource: [a, b]
        """)
        for _ in 0..<3 {
            var headers = RequestHeaders()
            try await client.apply(to: &headers, for: .empty)
            #expect(headers.first("authorization") == "Bearer tok-1")
        }
        // Id and secret form-escaped, then Basic; the form sorted by key, as Go writes it.
        let basic = "Basic " + Data("ingest+client:s3cr3t%3A%2F%2B".utf8).base64EncodedString()
        #expect(log.lines.withLock { $0 } == ["\(basic) audience=edge&grant_type=client_credentials&resource=a&resource=b&scope=api.metrics+api.logs"])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func credentialsInTheBodyWhenTheHeaderIsRefusedAndThatIsRemembered() async throws {
        let log = Log()
        let (server, url) = try await Self.endpoint { authorization, body in
            log.lines.withLock { $0.append(authorization == nil ? "body" : "header") }
            guard body.contains("client_secret=secret") else { return Self.json(.unauthorized, #"{"error":"invalid_client"}"#) }
            // Expired at once: every use asks again.
            return Self.json(.ok, #"{"access_token":"tok-2","expires_in":"1"}"#)
        }
        let client = try make("client_id: app\nclient_secret: secret\ntoken_url: \(url)\n")
        for _ in 0..<2 {
            var headers = RequestHeaders()
            try await client.apply(to: &headers, for: .empty)
            #expect(headers.first("authorization") == "Bearer tok-2")
        }
        #expect(log.lines.withLock { $0 } == ["header", "body", "body"])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aRefusalIsRetryableAndNamesTheEndpointsReasonNotTheSecret() async throws {
        let (server, url) = try await Self.endpoint { _, _ in
            Self.json(.badRequest, #"{"error":"invalid_client","error_description":"unknown client"}"#)
        }
        let client = try make("client_id: app\nclient_secret: do-not-show-me\ntoken_url: \(url)\n")
        var headers = RequestHeaders()
        let error = try await #require(throws: PipelineError.self) { try await client.apply(to: &headers, for: .empty) }
        #expect(error.isRetryable)
        #expect(error.message == "the token endpoint \(url) answered 400 (invalid_client: unknown client)")
        #expect(headers.first("authorization") == nil)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aSecretFileIsReadAgainForEachToken() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oauth2-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("secret")
        try "first\n".write(to: file, atomically: true, encoding: .utf8)
        let log = Log()
        let (server, url) = try await Self.endpoint { authorization, _ in
            log.lines.withLock { $0.append(String(decoding: Data(base64Encoded: String((authorization ?? "").dropFirst(6))) ?? Data(), as: UTF8.self)) }
            return Self.json(.ok, #"{"access_token":"t","expires_in":5}"#)
        }
        // An expiry buffer longer than the token's life: each use fetches.
        let client = try make("client_id: app\nclient_secret_file: \(file.path)\ntoken_url: \(url)\nexpiry_buffer: 1m\n")
        var headers = RequestHeaders()
        try await client.apply(to: &headers, for: .empty)
        try "second".write(to: file, atomically: true, encoding: .utf8)
        try await client.apply(to: &headers, for: .empty)
        #expect(log.lines.withLock { $0 } == ["app:first", "app:second"])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func kafkaTakesTheSameTokenWithItsExpiry() async throws {
        let (server, url) = try await Self.endpoint { _, _ in Self.json(.ok, #"{"access_token":"kafka-tok","expires_in":600}"#) }
        let client = try make("client_id: app\nclient_secret: s\ntoken_url: \(url)\n")
        let before = Date()
        let token = try await offThePool { try client.kafkaToken() }
        #expect(token.value == "kafka-tok" && token.principal == "app")
        let after = Date()
        // 600 s from when the answer came, which lies between the two readings of the clock (a
        // loaded machine can hold the fetch for many seconds).
        let expiry = Double(token.expiresAtMilliseconds) / 1000
        #expect(expiry >= before.timeIntervalSince1970 + 599 && expiry <= after.timeIntervalSince1970 + 601)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func configErrorsNameTheirKey() throws {
        for (yaml, path) in [("client_secret: s\ntoken_url: http://h/t\n", "client_id"), ("client_id: a\ntoken_url: http://h/t\n", "client_secret"),
                             ("client_id: a\nclient_secret: s\n", "token_url"), ("client_id: a\nclient_secret: s\ntoken_url: h/t\n", "token_url"),
                             ("client_id: a\nclient_secret: s\ntoken_url: http://h/t\nendpoint_params: {x: {y: z}}\n", "endpoint_params.x")] {
            let error = #expect(throws: ConfigError.self) { try decodeConfig(OAuth2ClientConfig.self, yaml) }
            #expect(error?.path == path, "\(yaml)")
        }
    }
}
