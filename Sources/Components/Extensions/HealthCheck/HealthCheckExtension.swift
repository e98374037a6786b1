import Pipeline
import Synchronization

/// `extensions.health_check`: 200 while the collector runs, 503 while it starts or drains.
public struct HealthCheckConfig: ComponentConfig {
    public var endpoint = "localhost:13133"
    public var path = "/"
    public init() {}

    public static let inertKeys = [
        InertKey("check_collector_pipeline", "the answer reflects the collector's state (starting, running, draining), not exporter failures"),
        InertKey("response_body", "the body is a fixed JSON status"),
    ]

    public func validate() throws(ConfigError) {
        guard HTTPServer.split(endpoint: endpoint) != nil else {
            throw ConfigError(path: "endpoint", message: "expected host:port, got \"\(endpoint)\"")
        }
    }
}

public final class HealthCheckExtension: CollectorExtension {
    public static let factory = ExtensionFactory(type: "health_check", stability: .beta, config: HealthCheckConfig.self) { settings, config in
        HealthCheckExtension(settings: settings, config: config)
    }

    private let server: HTTPServer

    init(settings: ComponentSettings, config: HealthCheckConfig) {
        let status = settings.status
        let path = config.path
        let (host, port) = HTTPServer.split(endpoint: config.endpoint) ?? ("localhost", 13133)
        server = HTTPServer(host: host, port: port, maxBodySize: 1024) { request in
            guard request.path == path else { return .text(.notFound, "not found\n") }
            switch status.current {
            case .running:
                return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"],
                                    body: Array(#"{"status":"Server available"}"#.utf8))
            case .starting, .draining, .stopped:
                return HTTPResponse(status: .serviceUnavailable, headers: ["Content-Type": "application/json"],
                                    body: Array(#"{"status":"Server not available"}"#.utf8))
            }
        }
    }

    public func start() async throws { try await server.start() }
    public func shutdown() async { await server.shutdown() }
}
