import NIOCore
import Pipeline
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import Synchronization

/// OTLP's unary Export calls served straight from HTTP/2 frames.
///
/// Hand-written because this is the edge tier's hot path: a general gRPC server gives every call
/// its own stream channel, handler pipeline, async sequences and tasks, which cost several times
/// the CPU of scanning and forwarding the call's spans (measured with `scripts/bench --target
/// edge`, docs/BENCHMARKS.md). Here one handler per connection collects each stream's DATA,
/// returns flow-control credit as it reads, and answers with HEADERS, DATA and trailers.
final class OTLPGRPCServer: Sendable {
    /// Stream-level window offered to clients, and the connection-level window it is raised to:
    /// HTTP/2's 64 KiB would make clients with many calls in flight wait for window updates.
    static let streamWindow = 1 << 20
    static let connectionWindow = 16 << 20
    static let maxFrameSize = 1 << 20
    /// How long a stop waits for calls in flight to be answered.
    static let drainLimit: Duration = .seconds(30)

    private let host: String
    private let port: Int
    private let export: OTLPGRPCExport
    private let maxConcurrentStreams: Int
    private let tls: NIOSSLContext?
    private let listener = Mutex<(any Channel)?>(nil)
    private let state = OTLPGRPCServerState()

    init(host: String, port: Int, export: OTLPGRPCExport, maxConcurrentStreams: Int, tls: NIOSSLContext? = nil) {
        self.host = host
        self.port = port
        self.export = export
        self.maxConcurrentStreams = maxConcurrentStreams
        self.tls = tls
    }

    /// Binds and starts serving; returns the bound port.
    func start() async throws -> Int {
        let export = self.export
        let state = self.state
        let tls = self.tls
        let settings: HTTP2Settings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams),
            HTTP2Setting(parameter: .initialWindowSize, value: Self.streamWindow),
            HTTP2Setting(parameter: .maxFrameSize, value: Self.maxFrameSize),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
        ]
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Reads of one size: with the adaptive default, NIOHTTP2's frame decoder copied what
            // was left of each read into the next, a seventh of the receiving process's CPU under
            // large requests (docs/BENCHMARKS.md); 64 KiB reads measured lowest.
            .childChannelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
            .childChannelInitializer { channel in
                state.opened(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addTLS(tls)
                    try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .server, initialSettings: settings))
                    try channel.pipeline.syncOperations.addHandler(OTLPGRPCConnectionHandler(export: export, state: state))
                }
            }
        let bound = try await StartFailure.binding(key: "protocols.grpc.endpoint", host: host, port: port) {
            try await bootstrap.bind(host: host, port: port).get()
        }
        listener.withLock { $0 = bound }
        return bound.localAddress?.port ?? port
    }

    /// Stops accepting connections, tells clients to open no new calls (GOAWAY), answers the
    /// calls in flight, then closes the connections.
    func shutdown() async {
        let bound = listener.withLock { current -> (any Channel)? in
            defer { current = nil }
            return current
        }
        try? await bound?.close()
        for connection in state.connections() {
            connection.writeAndFlush(HTTP2Frame(streamID: .rootStream, payload: .goAway(lastStreamID: .maxID, errorCode: .noError, opaqueData: nil)),
                                     promise: nil)
        }
        // Calls end when the pipeline answers them; the bound only guards against a pipeline that
        // never does (the collector's own shutdown timeout is the same).
        let deadline = ContinuousClock.now + Self.drainLimit
        while state.callsInFlight > 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        for connection in state.connections() { try? await connection.close() }
    }
}

/// Open connections and calls in flight, shared by the server and its connection handlers.
final class OTLPGRPCServerState: Sendable {
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let inFlight = Atomic<Int>(0)

    var callsInFlight: Int { inFlight.load(ordering: .relaxed) }

    func opened(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        open.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in _ = open.withLock { $0.removeValue(forKey: id) } }
    }

    func connections() -> [any Channel] { open.withLock { Array($0.values) } }

    func callStarted() { inFlight.add(1, ordering: .relaxed) }
    func callEnded() { inFlight.subtract(1, ordering: .relaxed) }
}
