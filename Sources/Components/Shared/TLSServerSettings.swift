import NIOCore
import NIOSSL
import Pipeline

/// A server's `tls` block, as the Go collector's configtls spells it; its presence means the
/// receiver serves TLS only.
public struct TLSServerSettings: ConfigSection {
    public var cert_file = ""
    public var cert_pem = ""
    public var key_file = ""
    public var key_pem = ""
    /// Clients must present a certificate signed by one of these (mutual TLS).
    public var client_ca_file = ""
    public var min_version = ""
    public var max_version = ""
    public init() {}

    public static let inertKeys = [
        InertKey("ca_file", "a server verifies clients with client_ca_file only"),
        InertKey("ca_pem", "a server verifies clients with client_ca_file only"),
        InertKey("include_system_ca_certs_pool", "a server verifies clients with client_ca_file only"),
        InertKey("reload_interval", "certificates are read once, at start; a restart picks up new ones"),
        InertKey("client_ca_file_reload", "certificates are read once, at start; a restart picks up new ones"),
        InertKey("cipher_suites", "BoringSSL's default cipher suites are offered"),
        InertKey("curve_preferences", "BoringSSL's default curves are offered"),
    ]

    /// The TLS context of this block, offering `alpn` protocols. Files are read here, so a bad
    /// path or key fails validation and start-up with the key's path (below `path`).
    func context(path: String, alpn: [String]) throws(ConfigError) -> NIOSSLContext {
        let chain = try TLSFiles.fileOrPEM("cert", file: cert_file, pem: cert_pem, below: path,
                                           missing: "a server certificate is required (cert_file or cert_pem)",
                                           fromFile: NIOSSLCertificate.fromPEMFile, fromPEM: NIOSSLCertificate.fromPEMBytes)
        let key = try TLSFiles.fileOrPEM("key", file: key_file, pem: key_pem, below: path,
                                         missing: "the certificate's private key is required (key_file or key_pem)",
                                         fromFile: { try NIOSSLPrivateKey(file: $0, format: .pem) },
                                         fromPEM: { try NIOSSLPrivateKey(bytes: $0, format: .pem) })
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.applicationProtocols = alpn
        if !client_ca_file.isEmpty {
            configuration.trustRoots = .certificates(try TLSFiles.certificates(client_ca_file, key: "\(path).client_ca_file"))
            // A server verifies the client's chain; there is no host name to check.
            configuration.certificateVerification = .noHostnameVerification
        }
        configuration.minimumTLSVersion = try TLSFiles.version(min_version, key: "\(path).min_version") ?? .tlsv12
        configuration.maximumTLSVersion = try TLSFiles.version(max_version, key: "\(path).max_version")
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigError(path: "\(path).\(key_pem.isEmpty ? "key_file" : "key_pem")",
                              message: "the certificate and key do not make a TLS context: \(error)")
        }
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Puts TLS in front of whatever the connection's pipeline holds next.
    func addTLS(_ context: NIOSSLContext?) throws {
        guard let context else { return }
        try addHandler(NIOSSLServerHandler(context: context))
    }
}
