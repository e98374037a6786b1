import Foundation
import Pipeline

/// A client's `tls` block, as the Go collector's configtls spells it. The CA, certificate and key
/// each come from a file or as PEM text, not both.
public struct TLSClientSettings: ConfigSection {
    public var insecure = false
    public var insecure_skip_verify = false
    public var ca_file = ""
    public var ca_pem = ""
    /// With a CA of its own: the system's trusted CAs are trusted too (without one they are anyway).
    public var include_system_ca_certs_pool = false
    public var cert_file = ""
    public var cert_pem = ""
    public var key_file = ""
    public var key_pem = ""
    public var min_version = ""
    public var max_version = ""
    /// Acted on by Kafka clients only; the others list it in `inertKeys`.
    public var server_name_override = ""
    public init() {}

    public static let inertKeys = [
        InertKey("server_name_override", "the server name checked is the endpoint's host"),
    ]

    /// Debian's bundle of the system's trusted CAs.
    static let systemBundle = "/etc/ssl/certs/ca-certificates.crt"

    /// `path` is where this block sits (`tls`, `auth.tls`); the files are read here, so a bad one
    /// fails validation naming its key.
    public func validate(path: String = "tls") throws(ConfigError) {
        for (name, file, pem) in [("ca", ca_file, ca_pem), ("cert", cert_file, cert_pem), ("key", key_file, key_pem)] where !file.isEmpty && !pem.isEmpty {
            throw ConfigError(path: "\(path).\(name)_pem", message: "cannot be combined with \(name)_file")
        }
        let hasCert = !cert_file.isEmpty || !cert_pem.isEmpty, hasKey = !key_file.isEmpty || !key_pem.isEmpty
        if hasCert != hasKey {
            throw ConfigError(path: hasCert ? "\(path).key_file" : "\(path).cert_file", message: "a client certificate and its key must be set together")
        }
        for (name, file) in [("ca_file", ca_file), ("cert_file", cert_file), ("key_file", key_file)] where !file.isEmpty {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigError(path: "\(path).\(name)", message: "cannot read \(file)")
            }
        }
        if hasCert, !insecure {
            try TLSCertificatePair.check(certificate: Self.part("cert", file: cert_file, pem: cert_pem, below: path),
                                         privateKey: Self.part("key", file: key_file, pem: key_pem, below: path))
        }
    }

    private static func part(_ name: String, file: String, pem: String, below path: String) -> TLSCertificatePair.Part {
        file.isEmpty ? .init(key: "\(path).\(name)_pem", source: "the PEM text", pem: Array(pem.utf8))
            : .init(key: "\(path).\(name)_file", source: file, pem: FileManager.default.contents(atPath: file).map { Array($0) } ?? [])
    }

    /// The CA certificates as PEM text: this block's (from the file or the PEM), with the system's
    /// after them when `include_system_ca_certs_pool` asks; nil when the block names no CA.
    func caPEM(path: String = "tls") throws(ConfigError) -> String? {
        var own = ca_pem
        if !ca_file.isEmpty {
            do { own = try String(contentsOfFile: ca_file, encoding: .utf8) } catch {
                throw ConfigError(path: "\(path).ca_file", message: "cannot read \(ca_file): \(error.localizedDescription)")
            }
        }
        guard !own.isEmpty else { return nil }
        guard include_system_ca_certs_pool else { return own }
        let system = (try? String(contentsOfFile: Self.systemBundle, encoding: .utf8)) ?? ""
        return own + (own.hasSuffix("\n") ? "" : "\n") + system
    }
}
