import Foundation
import AsyncHTTPClient
import NIOSSL
import Pipeline

extension TLSClientSettings {
    /// The NIO TLS configuration of this block; files are read here so a bad path fails the
    /// collector's start-up, naming the key.
    func nioConfiguration() throws(ConfigError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !ca_file.isEmpty || !ca_pem.isEmpty {
            let own = try TLSFiles.fileOrPEM("ca", file: ca_file, pem: ca_pem, below: "tls", missing: "",
                                             fromFile: NIOSSLCertificate.fromPEMFile, fromPEM: NIOSSLCertificate.fromPEMBytes)
            if include_system_ca_certs_pool {
                configuration.additionalTrustRoots = [.certificates(own)]
            } else {
                configuration.trustRoots = .certificates(own)
            }
        }
        if !cert_file.isEmpty || !cert_pem.isEmpty {
            configuration.certificateChain = try TLSFiles.fileOrPEM("cert", file: cert_file, pem: cert_pem, below: "tls", missing: "",
                                                                    fromFile: NIOSSLCertificate.fromPEMFile,
                                                                    fromPEM: NIOSSLCertificate.fromPEMBytes).map { .certificate($0) }
            configuration.privateKey = .privateKey(try TLSFiles.fileOrPEM("key", file: key_file, pem: key_pem, below: "tls", missing: "",
                                                                          fromFile: { try NIOSSLPrivateKey(file: $0, format: .pem) },
                                                                          fromPEM: { try NIOSSLPrivateKey(bytes: $0, format: .pem) }))
        }
        if insecure_skip_verify { configuration.certificateVerification = .none }
        configuration.minimumTLSVersion = try TLSFiles.version(min_version, key: "tls.min_version") ?? .tlsv12
        configuration.maximumTLSVersion = try TLSFiles.version(max_version, key: "tls.max_version")
        return configuration
    }
}

/// The connection keys of Go's confighttp client that an exporter's HTTP client acts on.
struct HTTPClientConnections {
    var proxyURL: String?
    var idleConnTimeout: ConfigDuration
    var maxIdleConnsPerHost: Int

    /// The rest of confighttp's client keys: accepted so Go configs load, each named in a warning.
    static let inertKeys = [
        InertKey("max_idle_conns", "idle connections are limited per host (max_idle_conns_per_host)"),
        InertKey("max_conns_per_host", "connections beyond max_idle_conns_per_host are opened when needed and closed once idle"),
        InertKey("disable_keep_alives", "connections are reused"),
        InertKey("http2_read_idle_timeout", "no HTTP/2 health pings are sent; a dead connection fails the request at timeout"),
        InertKey("http2_ping_timeout", "no HTTP/2 health pings are sent; a dead connection fails the request at timeout"),
        InertKey("force_attempt_http2", "HTTP/2 is offered by TLS negotiation on https endpoints; plaintext endpoints use HTTP/1.1"),
        InertKey("cookies", "cookies the server sets are not stored or sent back"),
        InertKey("middlewares", "middleware extensions are not supported; requests go out unchanged"),
    ]

    /// `proxy_url` as AsyncHTTPClient's proxy: `http://[user:password@]host[:port]`; https
    /// destinations are reached through CONNECT. Without it, `HTTPS_PROXY`/`HTTP_PROXY` are not
    /// read (Go reads them): the proxy is always configured explicitly.
    func proxy(key: String) throws(ConfigError) -> HTTPClient.Configuration.Proxy? {
        guard let proxyURL, !proxyURL.isEmpty else { return nil }
        guard let url = URLComponents(string: proxyURL), let host = url.host, !host.isEmpty,
              url.scheme == "http" || url.scheme == nil else {
            throw ConfigError(path: key, message: "expected http://host:port, got \"\(proxyURL)\"")
        }
        let authorization = url.user.map { HTTPClient.Authorization.basic(username: $0, password: url.password ?? "") }
        return .server(host: host, port: url.port ?? 80, authorization: authorization)
    }
}

enum HTTPClients {
    /// A client for an exporter: TLS per its `tls` block, the exporter's timeout per read, its
    /// connection keys.
    static func make(tls: TLSClientSettings, timeout: ConfigDuration, connections: HTTPClientConnections) throws(ConfigError) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = try tls.nioConfiguration()
        configuration.timeout = .init(connect: .seconds(10), read: .nanoseconds(timeout.nanoseconds))
        configuration.decompression = .enabled(limit: .ratio(200))
        configuration.proxy = try connections.proxy(key: "proxy_url")
        if connections.idleConnTimeout.nanoseconds > 0 {
            configuration.connectionPool.idleTimeout = .nanoseconds(connections.idleConnTimeout.nanoseconds)
        }
        if connections.maxIdleConnsPerHost > 0 {
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections.maxIdleConnsPerHost
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
