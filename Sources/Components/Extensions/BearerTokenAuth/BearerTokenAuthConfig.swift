import Pipeline

/// `extensions.bearertokenauth`: the Go extension's keys. As a server authenticator it accepts
/// requests whose `header` is `scheme token` for one of the tokens; as a client authenticator it
/// sends that header with the first token.
public struct BearerTokenAuthConfig: ComponentConfig {
    public var scheme = "Bearer"
    public var header = "Authorization"
    public var token = ""
    public var tokens: [String] = []
    /// Read at start and again whenever the file changes; one token per line.
    public var filename = ""
    public init() {}

    public static let inertKeys = [
        InertKey("file_retry", "a missing token file fails the start; the collector does not wait for it"),
    ]

    public func validate() throws(ConfigError) {
        if token.isEmpty, tokens.isEmpty, filename.isEmpty {
            throw ConfigError(path: "token", message: "one of token, tokens or filename is required")
        }
        if !token.isEmpty, !tokens.isEmpty { throw ConfigError(path: "tokens", message: "cannot be combined with token") }
        if header.isEmpty { throw ConfigError(path: "header", message: "must not be empty") }
    }

    public func warnings() -> [String] {
        !filename.isEmpty && (!token.isEmpty || !tokens.isEmpty) ? ["filename is set, so token and tokens are not used (as in Go)"] : []
    }

    /// The header values that authenticate, for `tokens` in order.
    func values(_ tokens: [String]) -> [String] {
        tokens.map { scheme.isEmpty ? $0 : "\(scheme) \($0)" }
    }
}
