import Foundation
import OTLP
import Pipeline

/// `basicauth`: HTTP Basic credentials, checked against htpasswd users or sent with every
/// request. Passwords are never logged.
public final class BasicAuthExtension: ServerAuthenticator, ClientAuthenticator {
    public static let factory = ExtensionFactory(type: "basicauth", stability: .beta, config: BasicAuthConfig.self) { settings, config in
        try BasicAuthExtension(config: config)
    }

    private let users: Htpasswd
    private let clientHeader: String?

    init(config: BasicAuthConfig) throws(ConfigError) {
        users = try config.users()
        clientHeader = config.client_auth.map { "Basic " + Data("\($0.username):\($0.password)".utf8).base64EncodedString() }
    }

    public func start() async throws {}
    public func shutdown() async {}

    public func authenticate(_ headers: RequestHeaders) -> String? {
        guard let value = headers.first("authorization") else { return "no Authorization header" }
        guard value.count > 6, value.prefix(6).lowercased() == "basic ",
              let decoded = Data(base64Encoded: String(value.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else {
            return "the Authorization header is not Basic credentials"
        }
        let user = String(text[..<colon]), password = String(text[text.index(after: colon)...])
        return users.verify(user: user, password: password) ? nil : "unknown user or wrong password"
    }

    public func apply(to headers: inout RequestHeaders, for metadata: RequestMetadata) {
        if let clientHeader { headers.set("Authorization", clientHeader) }
    }
}
