import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

public struct HTTPRequest: Sendable {
    public let method: HTTPMethod
    public let uri: String
    public let headers: HTTPHeaders
    public let body: ByteBuffer

    /// The URI without its query string.
    public var path: Substring { uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
}

public struct HTTPResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }
}

/// A small HTTP/1.1 server on SwiftNIO for the OTLP/HTTP receiver, health checks and the
/// metrics endpoint. Bodies are collected up to `maxBodySize`; a larger body is read and
/// discarded and answered with 413 without being buffered.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

    /// Connection handling, as Go's http.Server has it (`keep_alives_enabled`, `idle_timeout`).
    public struct Connections: Sendable {
        /// When false every response closes its connection.
        public var keepAlives = true
        /// A connection with no request in progress and nothing read or written for this long is
        /// closed; nil keeps it open.
        public var idleTimeout: TimeAmount?
        public init(keepAlives: Bool = true, idleTimeout: TimeAmount? = nil) {
            self.keepAlives = keepAlives
            self.idleTimeout = idleTimeout
        }
    }

    private let host: String
    private let port: Int
    private let maxBodySize: Int
    private let key: String
    private let connections: Connections
    private let handler: Handler
    private let prepareConnection: @Sendable (any Channel) throws -> Void
    private let channel = Mutex<(any Channel)?>(nil)

    /// `key` is the config key of the address, for the error when it cannot be bound;
    /// `prepareConnection` adds what goes in front of HTTP on each accepted connection (TLS).
    public init(host: String, port: Int, key: String = "endpoint", maxBodySize: Int, connections: Connections = Connections(),
                prepareConnection: @escaping @Sendable (any Channel) throws -> Void = { _ in },
                handler: @escaping Handler) {
        self.host = host
        self.port = port
        self.maxBodySize = maxBodySize
        self.key = key
        self.connections = connections
        self.prepareConnection = prepareConnection
        self.handler = handler
    }

    /// Parses `host:port` (`localhost:4318`, `:4318`, `0.0.0.0:0`).
    public static func split(endpoint: String) -> (host: String, port: Int)? {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(endpoint[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// Binds and starts serving; returns the bound port (useful with port 0).
    @discardableResult
    public func start() async throws -> Int {
        let maxBodySize = self.maxBodySize
        let connections = self.connections
        let handler = self.handler
        let prepareConnection = self.prepareConnection
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try prepareConnection(channel)
                    if let idle = connections.idleTimeout {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idle))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPServerHandler(maxBodySize: maxBodySize, keepAlives: connections.keepAlives, handler: handler))
                }
            }
        let bound = try await StartFailure.binding(key: key, host: host, port: port) { try await bootstrap.bind(host: host, port: port).get() }
        channel.withLock { $0 = bound }
        return bound.localAddress?.port ?? port
    }

    /// Stops accepting connections.
    public func shutdown() async {
        let bound = channel.withLock { current -> (any Channel)? in
            defer { current = nil }
            return current
        }
        try? await bound?.close()
    }
}

/// Collects one request at a time per connection and answers it. Runs on the channel's event
/// loop; the handler itself runs in a task, and its response is written back on the loop.
final class HTTPServerHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let maxBodySize: Int
    private let keepAlives: Bool
    private let handler: HTTPServer.Handler
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false
    /// Requests read whose answer is not written yet: an idle connection has none.
    private var answering = 0

    init(maxBodySize: Int, keepAlives: Bool, handler: @escaping HTTPServer.Handler) {
        self.maxBodySize = maxBodySize
        self.keepAlives = keepAlives
        self.handler = handler
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if head == nil, answering == 0 { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = context.channel.allocator.buffer(capacity: 0)
            tooLarge = false
            if let length = requestHead.headers.first(name: "content-length").flatMap(Int.init), length > maxBodySize {
                tooLarge = true
            }
        case .body(var chunk):
            guard !tooLarge else { return }
            if body.readableBytes + chunk.readableBytes > maxBodySize {
                tooLarge = true
                body.clear()
            } else {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let keepAlive = keepAlives && requestHead.isKeepAlive
            let channel = context.channel
            if tooLarge {
                let response = HTTPResponse.text(.payloadTooLarge, "request body is larger than the limit of \(maxBodySize) bytes")
                Self.write(response, keepAlive: keepAlive, version: requestHead.version, on: channel)
                return
            }
            let request = HTTPRequest(method: requestHead.method, uri: requestHead.uri, headers: requestHead.headers, body: body)
            body = ByteBuffer()
            answering += 1
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            Self.answer(request, with: handler, keepAlive: keepAlive, version: requestHead.version, on: channel) {
                this.value.answering -= 1
            }
        }
    }

    /// `written` runs on the channel's event loop once the response is out.
    private static func answer(
        _ request: HTTPRequest, with handler: @escaping HTTPServer.Handler, keepAlive: Bool,
        version: HTTPVersion, on channel: any Channel, written: @escaping @Sendable () -> Void
    ) {
        Task {
            let response = await handler(request)
            write(response, keepAlive: keepAlive, version: version, on: channel).whenComplete { _ in written() }
        }
    }

    @discardableResult
    private static func write(_ response: HTTPResponse, keepAlive: Bool, version: HTTPVersion, on channel: any Channel) -> EventLoopFuture<Void> {
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: response.status, headers: headers)
        var buffer = channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
        let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        if !keepAlive {
            done.whenComplete { _ in channel.close(promise: nil) }
        }
        return done
    }
}
