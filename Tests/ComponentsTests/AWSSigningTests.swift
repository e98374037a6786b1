import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import Pipeline
import Synchronization
import Testing
@testable import Components

/// SigV4 against AWS's published test vectors, MSK IAM tokens against the ones AWS's own signer
/// (PyPI aws-msk-iam-sasl-signer-python 1.0.2, on botocore 1.43) makes with the same credentials
/// and clock, and the credential chain against local endpoints of the ECS and IMDSv2 shapes.
@Suite struct AWSSigningTests {
    static let vectorCredentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    /// aws-sig-v4-test-suite's `get-vanilla` and `get-vanilla-query-order-key-case`.
    @Test(arguments: [
        ([(String, String)](), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ([("Param2", "value2"), ("Param1", "value1")], "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ])
    func publishedVectors(query: [(String, String)], signature: String) {
        let date = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z
        let signer = SigV4(credentials: Self.vectorCredentials, region: "us-east-1", service: "service")
        let request = SigV4.Request(query: query, headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")])
        #expect(signer.authorization(request, at: date)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=\(signature)")
    }

    static let mskCredentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let mskDate = Date(timeIntervalSince1970: 1_709_296_245) // 2024-03-01T12:30:45Z

    @Test func mskTokenIsTheOneAWSSignerMakes() {
        let token = MSKIAMToken.make(region: "us-east-1", credentials: Self.mskCredentials, at: Self.mskDate,
                                     userAgent: "aws-msk-iam-sasl-signer-python/1.0.2")
        #expect(token.value == "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QUtJQUlPU0ZPRE5ON0VYQU1QTEUlMkYyMDI0MDMwMSUyRnVzLWVhc3QtMSUyRmthZmthLWNsdXN0ZXIlMkZhd3M0X3JlcXVlc3QmWC1BbXotRGF0ZT0yMDI0MDMwMVQxMjMwNDVaJlgtQW16LUV4cGlyZXM9OTAwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCZYLUFtei1TaWduYXR1cmU9NDAyZjAyY2M4MTVhODVhYTk1ZTA2OWUwODhhMWM0MGJhNzkxNTc2NTM0ZWFhMTk1MGIxMGI2YTg4NjI3OWQ3ZCZVc2VyLUFnZW50PWF3cy1tc2staWFtLXNhc2wtc2lnbmVyLXB5dGhvbiUyRjEuMC4y")
        #expect(token.expiresAtMilliseconds == 1_709_297_145_000)
    }

    @Test func mskTokenWithASessionTokenIsTheOneAWSSignerMakes() {
        var credentials = Self.mskCredentials
        credentials.sessionToken = "FwoGZXIvYXdzEBYaDSESSION/TOKEN+abc="
        let token = MSKIAMToken.make(region: "us-east-1", credentials: credentials, at: Self.mskDate,
                                     userAgent: "aws-msk-iam-sasl-signer-python/1.0.2")
        #expect(token.value == "aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlgtQW16LUFsZ29yaXRobT1BV1M0LUhNQUMtU0hBMjU2JlgtQW16LUNyZWRlbnRpYWw9QUtJQUlPU0ZPRE5ON0VYQU1QTEUlMkYyMDI0MDMwMSUyRnVzLWVhc3QtMSUyRmthZmthLWNsdXN0ZXIlMkZhd3M0X3JlcXVlc3QmWC1BbXotRGF0ZT0yMDI0MDMwMVQxMjMwNDVaJlgtQW16LUV4cGlyZXM9OTAwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCZYLUFtei1TZWN1cml0eS1Ub2tlbj1Gd29HWlhJdllYZHpFQllhRFNFU1NJT04lMkZUT0tFTiUyQmFiYyUzRCZYLUFtei1TaWduYXR1cmU9OTJhMmQ4YzEzYjNhNDMyZDNhZmFkNjM3OWJiZmI5ODQxZmRmNTIzOTRlNDQ4NmQ0ZWI2OGVjZjYwM2RjMjJmNyZVc2VyLUFnZW50PWF3cy1tc2staWFtLXNhc2wtc2lnbmVyLXB5dGhvbiUyRjEuMC4y")
    }

    @Test func environmentComesFirst() throws {
        let chain = AWSCredentialChain(environment: ["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "session"],
                                       home: "/nonexistent")
        let found = try chain.resolve()
        #expect(found.accessKeyID == "AKENV" && found.secretAccessKey == "secret" && found.sessionToken == "session")
        #expect(found.source == "environment")
    }

    @Test func sharedFileProfiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aws-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("credentials")
        try """
        # comment
        [default]
        aws_access_key_id = AKDEFAULT
        aws_secret_access_key = default-secret

        [ingest]
        aws_access_key_id=AKINGEST
        aws_secret_access_key=ingest-secret
        aws_session_token = ingest-session
        """.write(to: file, atomically: true, encoding: .utf8)
        let base = ["AWS_SHARED_CREDENTIALS_FILE": file.path]
        let standard = try AWSCredentialChain(environment: base, home: "/nonexistent").resolve()
        #expect(standard.accessKeyID == "AKDEFAULT" && standard.secretAccessKey == "default-secret" && standard.sessionToken == nil)
        let named = try AWSCredentialChain(environment: base.merging(["AWS_PROFILE": "ingest"]) { $1 }, home: "/nonexistent").resolve()
        #expect(named.accessKeyID == "AKINGEST" && named.sessionToken == "ingest-session")
        #expect(named.source == "\(file.path) [ingest]")
        #expect(throws: AWSCredentialsError.self) {
            try AWSCredentialChain(environment: base.merging(["AWS_PROFILE": "missing"]) { $1 }, home: "/nonexistent").resolve()
        }
    }

    /// Answers as the ECS/EKS container endpoint and IMDSv2 do, recording what was asked.
    final class MetadataServer: Sendable {
        final class Asked: Sendable { let lines = Mutex<[String]>([]) }
        let asked = Asked()
        let server: HTTPServer
        init() {
            let asked = self.asked
            let json = #"{"AccessKeyId":"AKTEMP","SecretAccessKey":"temp-secret","Token":"temp-session","Expiration":"2030-01-01T00:00:00Z"}"#
            server = HTTPServer(host: "127.0.0.1", port: 0, maxBodySize: 1024) { request in
                let auth = request.headers.first(name: "Authorization") ?? request.headers.first(name: "X-aws-ec2-metadata-token") ?? "-"
                asked.lines.withLock { $0.append("\(request.method.rawValue) \(request.uri) \(auth)") }
                switch (request.method, request.uri) {
                case (.GET, "/creds"):
                    guard auth == "container-token" else { return .text(.unauthorized, "no\n") }
                    return HTTPResponse(status: .ok, body: Array(json.utf8))
                case (.PUT, "/latest/api/token"): return .text(.ok, "imds-session")
                case (.GET, "/latest/meta-data/iam/security-credentials/"): return .text(.ok, "ingest-role\n")
                case (.GET, "/latest/meta-data/iam/security-credentials/ingest-role"):
                    guard auth == "imds-session" else { return .text(.unauthorized, "no\n") }
                    return HTTPResponse(status: .ok, body: Array(json.utf8))
                default: return .text(.notFound, "not found\n")
                }
            }
        }
    }

    @Test func containerEndpointAndInstanceMetadata() async throws {
        let metadata = MetadataServer()
        let port = try await metadata.server.start()
        defer { Task { await metadata.server.shutdown() } }
        var container = AWSCredentialChain(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(port)/creds",
                                                         "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token"], home: "/nonexistent")
        // The server answers from the test pool, which other suites may keep busy for longer
        // than the chain's 2 s.
        container.timeout = .seconds(60)
        let containerChain = container
        let fromContainer = try await offThePool { try containerChain.resolve() }
        #expect(fromContainer.accessKeyID == "AKTEMP" && fromContainer.sessionToken == "temp-session")
        #expect(fromContainer.expiration == Date(timeIntervalSince1970: 1_893_456_000))
        var instance = AWSCredentialChain(environment: [:], home: "/nonexistent")
        instance.instanceMetadataEndpoint = "http://127.0.0.1:\(port)"
        instance.timeout = .seconds(60)
        let imds = instance
        let fromInstance = try await offThePool { try imds.resolve() }
        #expect(fromInstance.accessKeyID == "AKTEMP" && fromInstance.source == "instance metadata (role ingest-role)")
        #expect(metadata.asked.lines.withLock { $0 } == [
            "GET /creds container-token",
            "PUT /latest/api/token -",
            "GET /latest/meta-data/iam/security-credentials/ imds-session",
            "GET /latest/meta-data/iam/security-credentials/ingest-role imds-session",
        ])
    }

    @Test func noCredentialsAnywhereSaysWhereItLooked() async throws {
        var unreachable = AWSCredentialChain(environment: [:], home: "/nonexistent")
        unreachable.instanceMetadataEndpoint = "http://127.0.0.1:1"
        let chain = unreachable
        let error = try await #require(throws: AWSCredentialsError.self) { try await offThePool { try chain.resolve() } }
        #expect(error.description.hasPrefix("no AWS credentials: none in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared credentials file, the container endpoint, or instance metadata"))
    }
}

/// Runs a blocking call on a thread of its own, as librdkafka's SASL thread runs the chain.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
