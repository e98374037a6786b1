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
    // Accepted without effect (docs/COMPATIBILITY.md): a server does not verify with `ca_file`,
    // and certificates are read once, at start.
    public var ca_file = ""
    public var ca_pem = ""
    public var include_system_ca_certs_pool = false
    public var reload_interval: ConfigDuration?
    public var client_ca_file_reload = false
    public var cipher_suites: [String] = []
    public var curve_preferences: [String] = []
    public init() {}

    /// The TLS context of this block, offering `alpn` protocols. Files are read here, so a bad
    /// path or key fails validation and start-up with the key's path (below `path`).
    func context(path: String, alpn: [String]) throws(ConfigError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        switch (cert_file.isEmpty, cert_pem.isEmpty) {
        case (true, true): throw ConfigError(path: "\(path).cert_file", message: "a server certificate is required (cert_file or cert_pem)")
        case (false, false): throw ConfigError(path: "\(path).cert_pem", message: "cannot be combined with cert_file")
        case (false, true): chain = try Self.read("\(path).cert_file", cert_file) { try NIOSSLCertificate.fromPEMFile($0) }
        case (true, false): chain = try Self.read("\(path).cert_pem", "the PEM text") { _ in try NIOSSLCertificate.fromPEMBytes(Array(cert_pem.utf8)) }
        }
        switch (key_file.isEmpty, key_pem.isEmpty) {
        case (true, true): throw ConfigError(path: "\(path).key_file", message: "the certificate's private key is required (key_file or key_pem)")
        case (false, false): throw ConfigError(path: "\(path).key_pem", message: "cannot be combined with key_file")
        case (false, true): key = try Self.read("\(path).key_file", key_file) { try NIOSSLPrivateKey(file: $0, format: .pem) }
        case (true, false): key = try Self.read("\(path).key_pem", "the PEM text") { _ in try NIOSSLPrivateKey(bytes: Array(key_pem.utf8), format: .pem) }
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.applicationProtocols = alpn
        if !client_ca_file.isEmpty {
            let roots = try Self.read("\(path).client_ca_file", client_ca_file) { try NIOSSLCertificate.fromPEMFile($0) }
            configuration.trustRoots = .certificates(roots)
            // A server verifies the client's chain; there is no host name to check.
            configuration.certificateVerification = .noHostnameVerification
        }
        configuration.minimumTLSVersion = try TLSVersions.parse(min_version, path: "\(path).min_version") ?? .tlsv12
        configuration.maximumTLSVersion = try TLSVersions.parse(max_version, path: "\(path).max_version")
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigError(path: "\(path).key_file", message: "the certificate and key do not make a TLS context: \(error)")
        }
    }

    private static func read<T>(_ path: String, _ file: String, _ load: (String) throws -> T) throws(ConfigError) -> T {
        do { return try load(file) } catch {
            throw ConfigError(path: path, message: "cannot read \(file): \(error)")
        }
    }
}

/// configtls's version names.
enum TLSVersions {
    static func parse(_ text: String, path: String) throws(ConfigError) -> TLSVersion? {
        switch text {
        case "": nil
        case "1.0": .tlsv1
        case "1.1": .tlsv11
        case "1.2": .tlsv12
        case "1.3": .tlsv13
        default: throw ConfigError(path: path, message: "must be one of 1.0, 1.1, 1.2, 1.3, got \"\(text)\"")
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
