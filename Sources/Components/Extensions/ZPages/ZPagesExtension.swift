import Foundation
import NIOHTTP1
import Pipeline

/// `zpages`: Go's `/debug/servicez` and `/debug/pipelinez`, and `/debug/status`, a page that
/// follows the collector live (rates per component, queue fill, per-partition lag in records and
/// seconds with plots of the last five minutes, recent errors). Plain HTML and SVG drawn by a
/// few lines of script from `/debug/status.json`: nothing is fetched from elsewhere, so it works
/// on a host without internet access.
public final class ZPagesExtension: CollectorExtension {
    public static let factory = ExtensionFactory(type: "zpages", stability: .development, config: ZPagesConfig.self) { settings, config in
        ZPagesExtension(settings: settings, config: config)
    }

    private let settings: ComponentSettings
    private let server: HTTPServer
    private let history = StatusHistory()
    private let sampler = MutexBox<Task<Void, Never>>(nil)

    init(settings: ComponentSettings, config: ZPagesConfig) {
        self.settings = settings
        let (host, port) = HTTPServer.split(endpoint: config.endpoint) ?? ("localhost", 55679)
        let history = self.history
        let telemetry = settings.telemetry
        let componentHost = settings.host
        server = HTTPServer(host: host, port: port, maxBodySize: 1024) { request in
            let uptime = Date().timeIntervalSince(componentHost.started)
            switch request.path {
            case "/debug/servicez":
                return ZPagesPages.html(ZPagesPages.servicez(started: componentHost.started, uptime: uptime, pipelines: componentHost.pipelines))
            case "/debug/pipelinez":
                return ZPagesPages.html(ZPagesPages.pipelinez(componentHost.pipelines))
            case "/debug/status":
                return ZPagesPages.html(ZPagesPages.status)
            case "/debug/status.json":
                let errors = telemetry.recentErrors.all.suffix(20).map { "\($0.time.ISO8601Format()) \($0.source): \($0.message)" }
                let snapshot = history.snapshot(uptime: uptime, errors: Array(errors))
                let body = (try? JSONEncoder().encode(snapshot)).map(Array.init) ?? Array("{}".utf8)
                return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"], body: body)
            default:
                return .text(.notFound, "not found; pages: /debug/servicez, /debug/pipelinez, /debug/status\n")
            }
        }
    }

    public func start() async throws {
        let bound = try await server.start()
        let history = self.history, telemetry = settings.telemetry
        sampler.set(Task {
            while !Task.isCancelled {
                history.sample(telemetry.prometheusText())
                try? await Task.sleep(for: .seconds(1))
            }
        })
        settings.logger.info("zpages on port \(bound): /debug/status, /debug/servicez, /debug/pipelinez")
    }

    public func shutdown() async {
        sampler.take()?.cancel()
        await server.shutdown()
    }
}
