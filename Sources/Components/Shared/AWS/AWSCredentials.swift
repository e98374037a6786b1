import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An AWS access key, with the session token and expiry of temporary credentials.
struct AWSCredentials: Sendable {
    var accessKeyID: String
    var secretAccessKey: String
    var sessionToken: String?
    var expiration: Date?
    /// Where they came from, for logs (never the secret itself).
    var source = ""
}

struct AWSCredentialsError: Error, CustomStringConvertible {
    var description: String
}

/// The AWS SDKs' default credential chain, in their order: the environment variables, the shared
/// credentials file (`AWS_SHARED_CREDENTIALS_FILE` or ~/.aws/credentials, profile `AWS_PROFILE`
/// or `default`), the container credentials endpoint (ECS, EKS Pod Identity) and the EC2 instance
/// metadata service (IMDSv2). Web identity and SSO profiles are not read.
///
/// Lookups block the calling thread: they run on librdkafka's SASL thread, which waits for them.
struct AWSCredentialChain: Sendable {
    var environment: [String: String] = ProcessInfo.processInfo.environment
    var home: String = NSHomeDirectory()
    /// Where IMDS answers; only tests change it.
    var instanceMetadataEndpoint = "http://169.254.169.254"
    var containerHost = "http://169.254.170.2"
    var timeout: TimeAmount = .seconds(2)

    func resolve() throws -> AWSCredentials {
        if let found = fromEnvironment() { return found }
        if let found = try fromSharedFile() { return found }
        if let found = try fromContainerEndpoint() { return found }
        do {
            return try fromInstanceMetadata()
        } catch {
            throw AWSCredentialsError(description: "no AWS credentials: none in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                                      + "the shared credentials file, the container endpoint, or instance metadata (\(error))")
        }
    }

    func fromEnvironment() -> AWSCredentials? {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"], source: "environment")
    }

    func fromSharedFile() throws -> AWSCredentials? {
        let path = environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/.aws/credentials"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let values = Self.iniSection(text, profile)
        guard let key = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else {
            // A profile asked for by name that is missing is an error; a file without a default is not.
            if environment["AWS_PROFILE"] != nil {
                throw AWSCredentialsError(description: "profile \"\(profile)\" in \(path) has no aws_access_key_id and aws_secret_access_key")
            }
            return nil
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: values["aws_session_token"],
                              source: "\(path) [\(profile)]")
    }

    /// The `key = value` lines of `[name]` in an INI text.
    static func iniSection(_ text: String, _ name: String) -> [String: String] {
        var values: [String: String] = [:]
        var inside = false
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.hasPrefix(";") || line.isEmpty { continue }
            if line.hasPrefix("[") {
                inside = line.dropFirst().prefix { $0 != "]" }.trimmingCharacters(in: .whitespaces) == name
                continue
            }
            guard inside, let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return values
    }

    func fromContainerEndpoint() throws -> AWSCredentials? {
        let url: String
        if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            url = full
        } else if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = containerHost + relative
        } else {
            return nil
        }
        var headers: [(String, String)] = []
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            guard let token = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw AWSCredentialsError(description: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file)")
            }
            headers.append(("Authorization", token.trimmingCharacters(in: .whitespacesAndNewlines)))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            headers.append(("Authorization", token))
        }
        let body = try fetch("GET", url, headers: headers, what: "the container credentials endpoint")
        return try Self.credentials(fromJSON: body, source: "container endpoint", what: "the container credentials endpoint")
    }

    func fromInstanceMetadata() throws -> AWSCredentials {
        let token = try fetch("PUT", "\(instanceMetadataEndpoint)/latest/api/token",
                              headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], what: "instance metadata")
        let session = [("X-aws-ec2-metadata-token", String(decoding: token, as: UTF8.self))]
        let base = "\(instanceMetadataEndpoint)/latest/meta-data/iam/security-credentials/"
        let roles = String(decoding: try fetch("GET", base, headers: session, what: "instance metadata"), as: UTF8.self)
        guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw AWSCredentialsError(description: "instance metadata names no IAM role")
        }
        let body = try fetch("GET", base + role, headers: session, what: "instance metadata")
        return try Self.credentials(fromJSON: body, source: "instance metadata (role \(role))", what: "instance metadata")
    }

    /// The JSON both endpoints answer with: AccessKeyId, SecretAccessKey, Token, Expiration.
    static func credentials(fromJSON body: [UInt8], source: String, what: String) throws -> AWSCredentials {
        struct Answer: Decodable {
            var AccessKeyId: String?
            var SecretAccessKey: String?
            var Token: String?
            var Expiration: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(body)),
              let key = answer.AccessKeyId, let secret = answer.SecretAccessKey else {
            throw AWSCredentialsError(description: "\(what) answered without AccessKeyId and SecretAccessKey")
        }
        let expiration = answer.Expiration.flatMap { ISO8601DateFormatter().date(from: $0) }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: answer.Token, expiration: expiration, source: source)
    }

    private func fetch(_ method: String, _ url: String, headers: [(String, String)], what: String) throws -> [UInt8] {
        var request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: method == "PUT" ? .PUT : .GET)
        } catch {
            throw AWSCredentialsError(description: "\(what): bad URL \(url)")
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response: HTTPClient.Response
        do {
            response = try HTTPClient.shared.execute(request: request, deadline: .now() + timeout).wait()
        } catch {
            throw AWSCredentialsError(description: "\(what) at \(url): \(error)")
        }
        guard response.status == .ok else {
            throw AWSCredentialsError(description: "\(what) at \(url) answered \(response.status.code)")
        }
        return response.body.map { Array($0.readableBytesView) } ?? []
    }
}
