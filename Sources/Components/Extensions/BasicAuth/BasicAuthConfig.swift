import Pipeline

/// `extensions.basicauth`: the Go extension's keys. `htpasswd` makes it a server authenticator,
/// `client_auth` a client authenticator; one instance is one or the other, as in Go.
public struct BasicAuthConfig: ComponentConfig {
    public struct HtpasswdSettings: ConfigSection {
        public var file = ""
        /// Takes precedence over `file` when both are set, as in Go.
        public var inline = ""
        public init() {}
    }

    public struct ClientAuth: ConfigSection {
        public var username = ""
        public var password = ""
        public init() {}
    }

    public var htpasswd: HtpasswdSettings?
    public var client_auth: ClientAuth?
    public init() {}

    public func validate() throws(ConfigError) {
        if htpasswd != nil, client_auth != nil {
            throw ConfigError(path: "client_auth", message: "cannot be combined with htpasswd: an instance authenticates either clients or itself")
        }
        if htpasswd == nil, client_auth == nil { throw ConfigError(path: "htpasswd", message: "one of htpasswd or client_auth is required") }
        if let htpasswd {
            if htpasswd.file.isEmpty, htpasswd.inline.isEmpty { throw ConfigError(path: "htpasswd", message: "file or inline is required") }
            _ = try users()
        }
        if let client_auth, client_auth.username.isEmpty { throw ConfigError(path: "client_auth.username", message: "must not be empty") }
    }

    /// The users of `htpasswd`: `inline`, else the file, read now.
    func users() throws(ConfigError) -> Htpasswd {
        guard let htpasswd else { return try Htpasswd("", origin: "htpasswd") }
        if !htpasswd.inline.isEmpty { return try Htpasswd(htpasswd.inline, origin: "htpasswd.inline") }
        let text: String
        do { text = try String(contentsOfFile: htpasswd.file, encoding: .utf8) } catch {
            throw ConfigError(path: "htpasswd.file", message: "cannot read \(htpasswd.file): \(error.localizedDescription)")
        }
        return try Htpasswd(text, origin: "htpasswd.file")
    }
}
