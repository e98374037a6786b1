import NIOCore
import NIOHPACK
import NIOHTTP2
import OTLP
import Pipeline
import Testing
@testable import Components

/// The gRPC server's per-connection decisions, frame by frame, without a socket: which call is
/// exported with which message, which is answered at once and how, and when window updates go out.
@Suite struct OTLPGRPCConnectionStateMachineTests {
    typealias Machine = OTLPGRPCConnectionStateMachine
    static let traces = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    let one = HTTP2StreamID(1), three = HTTP2StreamID(3)

    func machine(limit: Int = 1024) -> Machine {
        var machine = Machine(paths: [Self.traces: .traces], maxMessageSize: limit, streamWindow: 1 << 20, connectionWindow: 16 << 20)
        // The first frame also raises the connection window; tests start after it.
        #expect(machine.received(.settings(.settings([])), on: .rootStream) == [.windowUpdate(.rootStream, increment: (16 << 20) - 65_535)])
        return machine
    }

    func headers(path: String = Self.traces, method: String = "POST", contentType: String = "application/grpc",
                 encoding: String? = nil, endStream: Bool = false) -> HTTP2Frame.FramePayload {
        var fields: HPACKHeaders = [":method": method, ":path": path, "content-type": contentType, "tenant": "a"]
        if let encoding { fields.add(name: "grpc-encoding", value: encoding) }
        return .headers(.init(headers: fields, endStream: endStream))
    }

    func data(_ bytes: [UInt8], endStream: Bool = true) -> HTTP2Frame.FramePayload {
        .data(.init(data: .byteBuffer(ByteBuffer(bytes: bytes)), endStream: endStream))
    }

    /// A gRPC length-prefixed message.
    func framed(_ message: [UInt8], compressed: Bool = false, announce: Int? = nil) -> [UInt8] {
        let length = UInt32(announce ?? message.count)
        return [compressed ? 1 : 0] + withUnsafeBytes(of: length.bigEndian, Array.init) + message
    }

    func exported(_ actions: [Machine.Action]) -> [UInt8]? {
        for case .export(_, .traces, let message, _) in actions { return message }
        return nil
    }

    @Test func aCallSplitOverFramesIsExportedWhole() {
        var machine = machine()
        let message = Array(0..<200).map { UInt8($0) }
        let bytes = framed(message)
        #expect(machine.received(headers(), on: one).isEmpty)
        #expect(machine.received(data(Array(bytes[..<3]), endStream: false), on: one).isEmpty)
        let actions = machine.received(data(Array(bytes[3...])), on: one)
        #expect(exported(actions) == message)
        guard case .export(let stream, _, _, let fields)? = actions.first else { return #expect(Bool(false)) }
        #expect(stream == one)
        #expect(fields.first("tenant") == "a")
        #expect(machine.openCalls == 0)
    }

    @Test func interleavedStreamsKeepTheirOwnMessages() {
        var machine = machine()
        _ = machine.received(headers(), on: one)
        _ = machine.received(headers(), on: three)
        _ = machine.received(data(framed([3, 3, 3])), on: three)
        #expect(machine.openCalls == 1)
        #expect(exported(machine.received(data(framed([1])), on: one)) == [1])
    }

    @Test func callsThatAreNotOTLPExportsAreAnsweredAtOnce() {
        var machine = machine()
        #expect(machine.received(headers(method: "GET", endStream: true), on: one) == [.respondHTTP(one, status: "405")])
        #expect(machine.received(headers(contentType: "text/plain", endStream: true), on: one) == [.respondHTTP(one, status: "415")])
        #expect(machine.received(headers(path: "/x.Y/Export", endStream: true), on: one)
            == [.respond(one, .failed(.unimplemented, "unknown method /x.Y/Export"))])
        #expect(machine.received(headers(endStream: true), on: one) == [.export(one, .traces, message: [], headers: RequestHeaders([
            (":method", "POST"), (":path", Self.traces), ("content-type", "application/grpc"), ("tenant", "a"),
        ]))], "a call without a message exports nothing")
    }

    @Test func anOversizeMessageIsRefusedByItsAnnouncedLengthAndNotKept() {
        var machine = machine(limit: 100)
        _ = machine.received(headers(), on: one)
        _ = machine.received(data(framed(Array(repeating: 7, count: 60), announce: 5000), endStream: false), on: one)
        _ = machine.received(data(Array(repeating: 7, count: 60), endStream: false), on: one)
        #expect(machine.received(data([7]), on: one)
            == [.respond(one, .failed(.resourceExhausted, "message of 5000 bytes is larger than max_recv_msg_size_mib (100 bytes)"))])
    }

    @Test func compressedMessagesAreDecompressedOrRefusedWithTheirReason() throws {
        var machine = machine()
        let message = Array(repeating: UInt8(42), count: 500)
        let gzip = try #require(Compression.gzip(message)).readableBytesView.map { $0 }
        _ = machine.received(headers(encoding: "gzip"), on: one)
        #expect(exported(machine.received(data(framed(gzip, compressed: true)), on: one)) == message)

        _ = machine.received(headers(), on: one)
        #expect(machine.received(data(framed(gzip, compressed: true)), on: one)
            == [.respond(one, .failed(.internal, "the message is marked compressed but grpc-encoding is identity"))])
        _ = machine.received(headers(encoding: "snappy"), on: one)
        #expect(machine.received(data(framed(gzip, compressed: true)), on: one)
            == [.respond(one, .failed(.unimplemented, "grpc-encoding \"snappy\" is not supported; supported: gzip, deflate, zstd"))])

        var small = self.machine(limit: 100)
        _ = small.received(headers(encoding: "gzip"), on: one)
        #expect(small.received(data(framed(gzip, compressed: true)), on: one)
            == [.respond(one, .failed(.resourceExhausted, "decompressed message is larger than max_recv_msg_size_mib (100 bytes)"))])
    }

    @Test func aTruncatedMessageIsAnInternalError() {
        var machine = machine()
        _ = machine.received(headers(), on: one)
        #expect(machine.received(data(framed([1, 2], announce: 10)), on: one)
            == [.respond(one, .failed(.internal, "the request's gRPC message is shorter than its length prefix"))])
    }

    @Test func windowsAreGivenBackInHalves() {
        var machine = Machine(paths: [Self.traces: .traces], maxMessageSize: 1 << 24, streamWindow: 1000, connectionWindow: 3000)
        _ = machine.received(headers(), on: one)
        #expect(machine.received(data(Array(repeating: 0, count: 499), endStream: false), on: one) == [])
        #expect(machine.received(data([0], endStream: false), on: one) == [.windowUpdate(one, increment: 500)])
        #expect(machine.received(data(Array(repeating: 0, count: 1000), endStream: false), on: one)
            == [.windowUpdate(.rootStream, increment: 1500), .windowUpdate(one, increment: 1000)])
        // The last frame of a stream returns connection credit only: the stream is done.
        _ = machine.received(data(Array(repeating: 0, count: 1499), endStream: false), on: one)
        #expect(machine.received(data([0], endStream: true), on: one).first == .windowUpdate(.rootStream, increment: 1500))
    }

    @Test func aResetStreamIsForgotten() {
        var machine = machine()
        _ = machine.received(headers(), on: one)
        _ = machine.received(.rstStream(.cancel), on: one)
        #expect(machine.openCalls == 0)
        #expect(machine.received(data(framed([1])), on: one) == [], "data after the reset exports nothing")
    }

    @Test func closingTheConnectionDropsUnfinishedCalls() {
        var machine = machine()
        _ = machine.received(headers(), on: one)
        machine.connectionClosed()
        #expect(machine.openCalls == 0)
    }
}
