import AsyncHTTPClient
import NIOSSL
import Pipeline

extension TLSClientSettings {
    /// The NIO TLS configuration of this block; files are read here so a bad path fails the
    /// collector's start-up, naming the key.
    func nioConfiguration() throws(ConfigError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !ca_file.isEmpty { configuration.trustRoots = .certificates(try TLSFiles.certificates(ca_file, key: "tls.ca_file")) }
        if !cert_file.isEmpty {
            configuration.certificateChain = try TLSFiles.certificates(cert_file, key: "tls.cert_file").map { .certificate($0) }
            configuration.privateKey = .privateKey(try TLSFiles.privateKey(key_file, key: "tls.key_file"))
        }
        if insecure_skip_verify { configuration.certificateVerification = .none }
        configuration.minimumTLSVersion = try TLSFiles.version(min_version, key: "tls.min_version") ?? .tlsv12
        return configuration
    }
}

enum HTTPClients {
    /// A client for an exporter: TLS per its `tls` block, the exporter's timeout per read.
    static func make(tls: TLSClientSettings, timeout: ConfigDuration) throws(ConfigError) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try tls.nioConfiguration()
        configuration.timeout = .init(connect: .seconds(10), read: .nanoseconds(timeout.nanoseconds))
        configuration.decompression = .enabled(limit: .ratio(200))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
