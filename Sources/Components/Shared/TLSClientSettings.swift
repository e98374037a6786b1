import Pipeline

/// A client's `tls` block, as the Go collector's configtls spells it.
public struct TLSClientSettings: ConfigSection {
    public var insecure = false
    public var insecure_skip_verify = false
    public var ca_file = ""
    public var cert_file = ""
    public var key_file = ""
    public var min_version = ""
    public var max_version = ""
    public init() {}

    public static let inertKeys = [
        InertKey("server_name_override", "the server name checked is the endpoint's host"),
    ]

    public func validate() throws(ConfigError) {
        if cert_file.isEmpty != key_file.isEmpty {
            throw ConfigError(path: cert_file.isEmpty ? "tls.cert_file" : "tls.key_file", message: "tls.cert_file and tls.key_file must be set together")
        }
    }
}
