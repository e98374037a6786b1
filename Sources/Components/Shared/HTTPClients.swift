import AsyncHTTPClient
import NIOSSL
import Pipeline

extension TLSClientSettings {
    /// The NIO TLS configuration of this block; files are read here so a bad path fails the
    /// collector's start-up, naming the key.
    func nioConfiguration() throws(ConfigError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !ca_file.isEmpty {
            do { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca_file)) } catch {
                throw ConfigError(path: "tls.ca_file", message: "cannot read \(ca_file): \(error)")
            }
        }
        if !cert_file.isEmpty {
            do { configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(cert_file).map { .certificate($0) } } catch {
                throw ConfigError(path: "tls.cert_file", message: "cannot read \(cert_file): \(error)")
            }
            do { configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key_file, format: .pem)) } catch {
                throw ConfigError(path: "tls.key_file", message: "cannot read \(key_file): \(error)")
            }
        }
        if insecure_skip_verify { configuration.certificateVerification = .none }
        configuration.minimumTLSVersion = try TLSVersions.parse(min_version, path: "tls.min_version") ?? .tlsv12
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
