import Foundation
import NIOCore
import NIOHTTP1
import OTLP
import Pipeline

/// OTLP/HTTP per the specification: POST of protobuf or JSON, optionally compressed, answered
/// in the request's own format; failures carry a google.rpc.Status body.
struct OTLPHTTPHandler: Sendable {
    let ingest: OTLPIngest
    let settings: OTLPReceiverConfig.HTTPSettings
    let paths: [String: Signal]
    /// `auth.authenticator`: a request it refuses is answered 401 and its body dropped unread.
    let authenticator: (any ServerAuthenticator)?

    init(ingest: OTLPIngest, settings: OTLPReceiverConfig.HTTPSettings, authenticator: (any ServerAuthenticator)? = nil) {
        self.ingest = ingest
        self.settings = settings
        self.authenticator = authenticator
        var paths: [String: Signal] = [:]
        if ingest.consumers[.traces] != nil { paths[settings.traces_url_path] = .traces }
        if ingest.consumers[.metrics] != nil { paths[settings.metrics_url_path] = .metrics }
        if ingest.consumers[.logs] != nil { paths[settings.logs_url_path] = .logs }
        self.paths = paths
    }

    enum Format { case protobuf, json }

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        var response = await respond(request)
        if let origin = request.headers.first(name: "origin"), allows(origin: origin) {
            response.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: origin)
            response.headers.replaceOrAdd(name: "Vary", value: "Origin")
        }
        for (name, value) in settings.response_headers ?? [:] { response.headers.replaceOrAdd(name: name, value: value) }
        return response
    }

    private func respond(_ request: HTTPRequest) async -> HTTPResponse {
        let path = String(request.path)
        guard let signal = paths[path] else {
            return .text(.notFound, "404 page not found: \(path) is not an OTLP path of this receiver\n")
        }
        if request.method == .OPTIONS { return preflight(request) }
        guard request.method == .POST else {
            var response = HTTPResponse.text(.methodNotAllowed, "405 method not allowed, supported: [POST]\n")
            response.headers.add(name: "Allow", value: "POST")
            return response
        }
        if let authenticator, let reason = authenticator.authenticate(RequestHeaders(request.headers.map { ($0.name, $0.value) })) {
            return .text(.unauthorized, "401 unauthorized: authentication failed: \(reason)\n")
        }
        let contentType = request.headers.first(name: "content-type")?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        let format: Format
        switch contentType {
        case "application/x-protobuf": format = .protobuf
        case "application/json": format = .json
        default:
            return .text(.unsupportedMediaType,
                         "415 unsupported media type \"\(contentType)\", supported: [application/json, application/x-protobuf]\n")
        }
        let encoding = request.headers.first(name: "content-encoding") ?? ""
        var raw = request.body
        let compressed = raw.readBytes(length: raw.readableBytes) ?? []
        guard let decoded = Decompression.decode(compressed, contentEncoding: encoding, limit: settings.max_request_body_size) else {
            return failure(.badRequest, "unsupported Content-Encoding \"\(encoding)\"; supported: gzip, deflate, zstd", format)
        }
        let body: [UInt8]
        switch decoded {
        case .success(let bytes): body = bytes
        case .failure(.tooLarge(let limit)):
            return failure(.payloadTooLarge, "request body is larger than the limit of \(limit) bytes after decompression", format)
        case .failure(let error): return failure(.badRequest, error.description, format)
        }

        let metadata = settings.include_metadata ? Self.requestMetadata(request.headers) : RequestMetadata.empty
        let batch: TelemetryBatch
        do {
            switch format {
            case .protobuf:
                batch = try TelemetryBatch(signal: signal, protobuf: body, metadata: metadata)
            case .json:
                batch = TelemetryBatch(try OTLPJSON.decode(signal, body), metadata: metadata)
            }
        } catch {
            return failure(.badRequest, error.message, format)
        }

        switch await ingest.deliver(batch) {
        case .accepted:
            return success(signal, format)
        case .retryLater(let error):
            var response = failure(.serviceUnavailable, error.message, format)
            let seconds = error.retryAfter.map { max(1, Int(($0 / .seconds(1)).rounded(.up))) } ?? 1
            response.headers.add(name: "Retry-After", value: String(seconds))
            return response
        case .rejected(let error):
            return failure(.badRequest, error.message, format)
        }
    }

    private func success(_ signal: Signal, _ format: Format) -> HTTPResponse {
        let body: [UInt8]
        switch format {
        case .protobuf: body = []
        case .json:
            switch signal {
            case .traces: body = OTLPJSON.encodeGeneric(ExportTraceServiceResponse())
            case .metrics: body = OTLPJSON.encodeGeneric(ExportMetricsServiceResponse())
            case .logs: body = OTLPJSON.encodeGeneric(ExportLogsServiceResponse())
            }
        }
        return HTTPResponse(status: .ok, headers: ["Content-Type": Self.contentType(format)], body: body)
    }

    private func failure(_ status: HTTPResponseStatus, _ message: String, _ format: Format) -> HTTPResponse {
        var rpc = RPCStatus()
        rpc.code = Self.grpcCode(for: status)
        rpc.message = message
        let body: [UInt8] = switch format {
        case .protobuf: (try? rpc.serializedBytes()) ?? []
        case .json: OTLPJSON.encodeGeneric(rpc)
        }
        return HTTPResponse(status: status, headers: ["Content-Type": Self.contentType(format)], body: body)
    }

    private func preflight(_ request: HTTPRequest) -> HTTPResponse {
        guard let origin = request.headers.first(name: "origin"), allows(origin: origin) else {
            return HTTPResponse(status: .noContent)
        }
        var headers: HTTPHeaders = ["Access-Control-Allow-Methods": "POST"]
        let allowedHeaders = ["Content-Type", "Content-Encoding", "X-Requested-With"] + (settings.cors?.allowed_headers ?? [])
        headers.add(name: "Access-Control-Allow-Headers", value: allowedHeaders.joined(separator: ", "))
        if let maxAge = settings.cors?.max_age, maxAge > 0 { headers.add(name: "Access-Control-Max-Age", value: String(maxAge)) }
        return HTTPResponse(status: .noContent, headers: headers)
    }

    /// Origins match exactly, or by a single `*` wildcard (`https://*.example.com`, `*`).
    private func allows(origin: String) -> Bool {
        for pattern in settings.cors?.allowed_origins ?? [] {
            if pattern == "*" || pattern == origin { return true }
            if let star = pattern.firstIndex(of: "*") {
                let prefix = pattern[..<star], suffix = pattern[pattern.index(after: star)...]
                if origin.hasPrefix(prefix), origin.hasSuffix(suffix), origin.count >= prefix.count + suffix.count { return true }
            }
        }
        return false
    }

    static func contentType(_ format: Format) -> String {
        format == .json ? "application/json" : "application/x-protobuf"
    }

    static func grpcCode(for status: HTTPResponseStatus) -> Int32 {
        switch status {
        case .badRequest: 3
        case .payloadTooLarge: 8
        case .serviceUnavailable: 14
        default: 2
        }
    }

    static func requestMetadata(_ headers: HTTPHeaders) -> RequestMetadata {
        var out: [String: [String]] = [:]
        for (name, value) in headers { out[name.lowercased(), default: []].append(value) }
        return RequestMetadata(headers: out)
    }
}
