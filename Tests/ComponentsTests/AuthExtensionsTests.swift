import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import OTLP
import Pipeline
import TestScratch
import Testing
@testable import Components

/// bearertokenauth, basicauth and headers_setter as authenticators, without a server: what they
/// accept and refuse, and the headers they put on requests. htpasswd entries come from Apache's
/// own `htpasswd` (apache2-utils, installed by scripts/setup), an independent implementation.
@Suite struct AuthExtensionsTests {
    static func htpasswd(_ flag: String, _ user: String, _ password: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/htpasswd")
        process.arguments = ["-nb" + flag, user, password]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: ["m", "s", "p"])
    func htpasswdEntriesOfApachesToolVerify(flag: String) throws {
        let line = try Self.htpasswd(flag, "alice", "s3cret:with colon")
        let users = try Htpasswd("# users\n\n" + line + "\n", origin: "htpasswd.inline")
        #expect(users.verify(user: "alice", password: "s3cret:with colon"))
        #expect(!users.verify(user: "alice", password: "s3cret"))
        #expect(!users.verify(user: "bob", password: "s3cret:with colon"))
    }

    @Test func md5CryptMatchesApacheForManyPasswords() throws {
        for password in ["", "a", "exactly16bytes!!", String(repeating: "long password ", count: 5)] {
            let line = try Self.htpasswd("m", "u", password)
            let users = try Htpasswd(line, origin: "htpasswd.inline")
            #expect(users.verify(user: "u", password: password), "\(line)")
        }
    }

    @Test func bcryptEntriesAreRefusedNamingTheLine() throws {
        let line = try Self.htpasswd("B", "carol", "pw")
        #expect(throws: ConfigError.self) { try Htpasswd("alice:plain\n" + line, origin: "htpasswd.file") }
        do { _ = try Htpasswd("alice:plain\n" + line, origin: "htpasswd.file") } catch {
            #expect(error.path == "htpasswd.file")
            #expect(error.message.hasPrefix("line 2: bcrypt and SHA-crypt hashes are not supported"))
        }
    }

    func basic(_ user: String, _ password: String) -> RequestHeaders {
        RequestHeaders([("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())])
    }

    @Test func basicAuthAsServerAndClient() throws {
        let server = try BasicAuthExtension(config: try decodeConfig(BasicAuthConfig.self, "htpasswd:\n  inline: |\n    \(try Self.htpasswd("m", "edge", "pw1"))"))
        #expect(server.authenticate(basic("edge", "pw1")) == nil)
        #expect(server.authenticate(basic("edge", "pw2")) == "unknown user or wrong password")
        #expect(server.authenticate(RequestHeaders()) == "no Authorization header")
        #expect(server.authenticate(RequestHeaders([("authorization", "Bearer x")])) == "the Authorization header is not Basic credentials")

        let client = try BasicAuthExtension(config: try decodeConfig(BasicAuthConfig.self, "client_auth: {username: edge, password: pw1}"))
        var headers = RequestHeaders([("authorization", "stale")])
        client.apply(to: &headers, for: .empty)
        #expect(headers == basic("edge", "pw1"))
        #expect(server.authenticate(headers) == nil)
    }

    @Test func bearerTokensWithSchemeHeaderAndLists() throws {
        let plain = BearerTokenAuthExtension(settings: settings("bearertokenauth", .extension), config: try decodeConfig(BearerTokenAuthConfig.self, "token: t0ken"))
        #expect(plain.authenticate(RequestHeaders([("authorization", "Bearer t0ken")])) == nil)
        #expect(plain.authenticate(RequestHeaders([("Authorization", "Bearer t0ke")])) == "the Authorization header does not hold an accepted token")
        #expect(plain.authenticate(RequestHeaders([("Authorization", "t0ken")])) != nil, "the scheme is part of the value")
        #expect(plain.authenticate(RequestHeaders()) == "no Authorization header")

        let custom = BearerTokenAuthExtension(settings: settings("bearertokenauth", .extension),
                                              config: try decodeConfig(BearerTokenAuthConfig.self, "scheme: ''\nheader: X-Api-Key\ntokens: [one, two]"))
        #expect(custom.authenticate(RequestHeaders([("x-api-key", "two")])) == nil)
        #expect(custom.authenticate(RequestHeaders([("Authorization", "two")])) == "no X-Api-Key header")
        var headers = RequestHeaders()
        custom.apply(to: &headers, for: .empty)
        #expect(headers == RequestHeaders([("X-Api-Key", "one")]))
    }

    @Test func aTokenFileIsReadAtStartAndAgainWhenItChanges() async throws {
        let path = TestScratch.file("token")
        try "first\n".write(toFile: path, atomically: true, encoding: .utf8)
        let auth = BearerTokenAuthExtension(settings: settings("bearertokenauth", .extension),
                                            config: try decodeConfig(BearerTokenAuthConfig.self, "filename: \(path)"))
        try await auth.start()
        #expect(auth.authenticate(RequestHeaders([("Authorization", "Bearer first")])) == nil)
        try "second\nthird\n".write(toFile: path, atomically: true, encoding: .utf8)
        try await waitUntil { auth.authenticate(RequestHeaders([("Authorization", "Bearer third")])) == nil }
        #expect(auth.authenticate(RequestHeaders([("Authorization", "Bearer first")])) != nil)
        await auth.shutdown()

        let missing = BearerTokenAuthExtension(settings: settings("bearertokenauth", .extension),
                                               config: try decodeConfig(BearerTokenAuthConfig.self, "filename: /nonexistent/token"))
        await #expect(throws: StartFailure.self) { try await missing.start() }
    }

    @Test func headersSetterActions() throws {
        let setter = HeadersSetterExtension(config: try decodeConfig(HeadersSetterConfig.self, """
            headers:
              - {key: X-Scope-OrgID, from_context: tenant, default_value: anonymous}
              - {key: X-Region, value: eu, action: insert}
              - {key: X-Trace, value: on, action: update}
              - {key: X-Internal, action: delete}
            """))
        var headers = RequestHeaders([("x-region", "us"), ("X-Internal", "secret")])
        setter.apply(to: &headers, for: RequestMetadata(headers: ["tenant": ["acme"]]))
        #expect(headers == RequestHeaders([("x-region", "us"), ("X-Scope-OrgID", "acme")]))
        var fallback = RequestHeaders([("X-Trace", "off")])
        setter.apply(to: &fallback, for: .empty)
        #expect(fallback == RequestHeaders([("X-Scope-OrgID", "anonymous"), ("X-Region", "eu"), ("X-Trace", "on")]))
    }

    @Test func anUnauthenticatedGRPCCallIsRefusedAndItsDataDropped() {
        var machine = OTLPGRPCConnectionStateMachine(paths: ["/p": .traces], maxMessageSize: 1024, streamWindow: 1 << 20, connectionWindow: 1 << 24,
                                                     authenticate: { $0.first("authorization") == "Bearer ok" ? nil : "wrong token" })
        let stream = HTTP2StreamID(1)
        func call(_ token: String) -> [OTLPGRPCConnectionStateMachine.Action] {
            _ = machine.received(.headers(.init(headers: [":method": "POST", ":path": "/p", "content-type": "application/grpc", "authorization": token])), on: stream)
            return machine.received(.data(.init(data: .byteBuffer(ByteBuffer(bytes: [0, 0, 0, 0, 1, 7])), endStream: true)), on: stream)
        }
        #expect(call("Bearer no").last == .respond(stream, .failed(.unauthenticated, "authentication failed: wrong token")))
        guard case .export(_, _, let message, _)? = call("Bearer ok").last else { return #expect(Bool(false)) }
        #expect(message == [7])
    }
}
