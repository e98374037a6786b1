import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OTLP
import Pipeline
import Synchronization

/// Posts `_bulk` requests to the configured endpoints in turn and reads the answers.
final class BulkClient: Sendable {
    /// One `_bulk` call's outcome.
    enum Outcome {
        case results([BulkItemResult])
        /// Nothing was taken; a retry may help.
        case retry(String)
        /// 413: the body is larger than the server accepts.
        case tooLarge
        /// The server rejected the `require_data_stream` parameter (not Elasticsearch 8.12+).
        case dataStreamParameterRejected
        /// Nothing was taken, and sending the same again will not help.
        case failed(status: Int, reason: String)
    }

    private struct Endpoint {
        var base: String
        var authorization: String?
    }

    private let client: HTTPClient
    private let endpoints: [Endpoint]
    private let query: [(String, String)]
    private let headers: [(name: String, value: String)]
    /// `auth.authenticator`, set when the exporter starts.
    let authenticator: ExporterAuthenticator
    /// The gzip level of request bodies; nil sends them uncompressed.
    private let gzipLevel: Int32?
    private let timeout: TimeAmount
    private let retryStatuses: Set<Int>
    private let turn = Atomic<Int>(0)
    private let server = Mutex<ElasticsearchServer?>(nil)

    init(config: ElasticsearchExporterConfig) throws(ConfigError) {
        client = try HTTPClients.make(tls: config.tls, timeout: config.timeout, connections: config.connections)
        authenticator = ExporterAuthenticator(config.auth)
        var authorization: String?
        if !config.api_key.isEmpty { authorization = "ApiKey \(config.api_key)" }
        if !config.user.isEmpty { authorization = Self.basic(config.user, config.password) }
        var endpoints: [Endpoint] = []
        var query: [(String, String)] = []
        for (position, url) in try config.resolvedEndpoints().enumerated() {
            guard var components = URLComponents(string: url) else { continue }
            if position == 0 { query = (components.queryItems ?? []).map { ($0.name, $0.value ?? "") } }
            var own = authorization
            if let user = components.user {
                own = Self.basic(user.removingPercentEncoding ?? user, components.password?.removingPercentEncoding ?? "")
                components.user = nil
                components.password = nil
            }
            components.query = nil
            let base = components.string ?? url
            endpoints.append(Endpoint(base: base.hasSuffix("/") ? String(base.dropLast()) : base, authorization: own))
        }
        self.endpoints = endpoints
        if !config.pipeline.isEmpty { query.append(("pipeline", config.pipeline)) }
        if let include = config.include_source_on_error { query.append(("include_source_on_error", include ? "true" : "false")) }
        query.append(("filter_path", BulkResponse.filterPath))
        self.query = query
        headers = config.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        // Go's default for this exporter is gzip.BestSpeed.
        gzipLevel = config.compression == .gzip ? config.compression_params.gzipLevel(default: 1) : nil
        timeout = .nanoseconds(config.timeout.nanoseconds)
        retryStatuses = Set(config.retry.retry_on_status)
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    private static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    private func nextEndpoint() -> Endpoint {
        endpoints[turn.add(1, ordering: .relaxed).oldValue % endpoints.count]
    }

    private func request(_ path: String, query: [(String, String)] = [], metadata: RequestMetadata = .empty) async throws -> HTTPClientRequest {
        let endpoint = nextEndpoint()
        var components = URLComponents()
        components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) }
        let suffix = query.isEmpty ? "" : "?" + (components.percentEncodedQuery ?? "")
        var request = HTTPClientRequest(url: endpoint.base + path + suffix)
        request.headers.add(name: "User-Agent", value: "otelcol-swift")
        if let authorization = endpoint.authorization { request.headers.add(name: "Authorization", value: authorization) }
        for (name, value) in try await authenticator.headers(headers, for: metadata).fields { request.headers.replaceOrAdd(name: name, value: value) }
        return request
    }

    /// The server behind the endpoints, asked once; when it cannot be asked, the Go exporter's
    /// assumption (Elasticsearch 8.12+), corrected if the server then rejects its parameter.
    func serverInfo() async -> ElasticsearchServer {
        if let known = server.withLock({ $0 }) { return known }
        var found = ElasticsearchServer.assumed
        if let root = try? await request("/"), let response = try? await client.execute(root, timeout: timeout), response.status == .ok,
           let body = try? await response.body.collect(upTo: 1 << 20),
           let described = ElasticsearchServer.from(rootResponse: Array(body.readableBytesView)) {
            found = described
        }
        server.withLock { $0 = $0 ?? found }
        return found
    }

    func markRejectsRequireDataStream() {
        server.withLock { current in
            current = ElasticsearchServer(distribution: .opensearch, major: current?.major ?? 0, minor: current?.minor ?? 0)
        }
    }

    func post(_ body: ArraySlice<UInt8>, items: Int, requireDataStream: Bool, metadata: RequestMetadata) async -> Outcome {
        var parameters = query
        if requireDataStream { parameters.append(("require_data_stream", "true")) }
        var request: HTTPClientRequest
        do { request = try await self.request("/_bulk", query: parameters, metadata: metadata) } catch { return .retry("\(error)") }
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Elastic-Event-Count", value: String(items))
        request.headers.add(name: "X-Elastic-Uncompressed-Request-Length", value: String(body.count))
        if let gzipLevel, let compressed = Compression.gzip(body, level: gzipLevel) {
            request.headers.add(name: "Content-Encoding", value: "gzip")
            request.body = .bytes(compressed)
        } else {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let url = request.url
        do {
            let response = try await client.execute(request, timeout: timeout)
            let answer = Array(try await response.body.collect(upTo: 256 << 20).readableBytesView)
            let status = Int(response.status.code)
            switch status {
            case 200..<300:
                guard let results = BulkResponse.parse(answer, expectedItems: items), results.count == items else {
                    return .retry("the answer of \(url) is not a bulk response for \(items) items")
                }
                return .results(results)
            case 413:
                return .tooLarge
            case 400 where String(decoding: answer, as: UTF8.self).contains("require_data_stream"):
                return .dataStreamParameterRejected
            case _ where retryStatuses.contains(status) || status >= 500 || status == 401 || status == 403 || status == 404 || status == 408:
                // Authentication, missing targets and server trouble are fixed outside the data;
                // the data waits for that instead of being dropped.
                return .retry("HTTP \(status) from \(url): \(BulkResponse.errorSummary(answer))")
            default:
                return .failed(status: status, reason: BulkResponse.errorSummary(answer))
            }
        } catch {
            return .retry("cannot reach \(url): \(error)")
        }
    }
}
