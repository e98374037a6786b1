import Foundation
import Pipeline

/// `extensions.oauth2client`: the Go extension's keys for OAuth 2 client credentials (RFC 6749
/// §4.4). Its tokens go on exporters' requests (`auth.authenticator`) and to Kafka brokers as
/// SASL/OAUTHBEARER (`auth.sasl.oauthbearer_token_source`).
public struct OAuth2ClientConfig: ComponentConfig {
    public var client_id = ""
    /// Read again each time a token is fetched, so a rotated id takes effect; wins over `client_id`.
    public var client_id_file = ""
    public var client_secret = ""
    public var client_secret_file = ""
    /// Extra form parameters of the token request (Go's url.Values: a value or a list of values).
    public var endpoint_params: [String: ConfigNode] = [:]
    public var token_url = ""
    public var scopes: [String] = []
    public var tls = TLSClientSettings()
    /// 0 waits as long as the server takes, as in Go.
    public var timeout: ConfigDuration = .seconds(0)
    /// How long before its expiry a token is replaced; 0 is the Go oauth2 library's 10 s.
    public var expiry_buffer: ConfigDuration = .seconds(0)
    public init() {}

    public static let inertKeys = TLSClientSettings.inertKeys.under("tls")

    public func validate() throws(ConfigError) {
        if client_id.isEmpty, client_id_file.isEmpty { throw ConfigError(path: "client_id", message: "client_id or client_id_file is required") }
        if client_secret.isEmpty, client_secret_file.isEmpty {
            throw ConfigError(path: "client_secret", message: "client_secret or client_secret_file is required")
        }
        if token_url.isEmpty { throw ConfigError(path: "token_url", message: "is required") }
        guard let url = URLComponents(string: token_url), ["http", "https"].contains(url.scheme?.lowercased()), url.host?.isEmpty == false else {
            throw ConfigError(path: "token_url", message: "expected an http:// or https:// URL, got \"\(token_url)\"")
        }
        if timeout.nanoseconds < 0 { throw ConfigError(path: "timeout", message: "must not be negative") }
        if expiry_buffer.nanoseconds < 0 { throw ConfigError(path: "expiry_buffer", message: "must not be negative") }
        for (key, value) in endpoint_params where Self.values(value) == nil {
            throw ConfigError(path: "endpoint_params.\(key)", message: "expected a string or a list of strings")
        }
        try tls.validate(path: "tls")
    }

    /// The form values of one `endpoint_params` entry.
    static func values(_ node: ConfigNode) -> [String]? {
        switch node {
        case .scalar(let text, _): return [text]
        case .sequence(let items):
            let texts = items.compactMap { if case .scalar(let text, _) = $0 { text } else { nil } }
            return texts.count == items.count ? texts : nil
        case .null: return []
        case .mapping: return nil
        }
    }
}
