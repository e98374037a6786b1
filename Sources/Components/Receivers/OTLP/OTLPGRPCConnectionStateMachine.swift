import NIOCore
import NIOHPACK
import NIOHTTP2
import OTLP
import Pipeline

/// What one HTTP/2 connection of the OTLP/gRPC server decides, as a value: each frame read is an
/// event, and the answer is the list of actions to take (window updates to send, calls to answer,
/// messages to export). It holds no channel and starts no task, so tests drive it frame by frame;
/// `OTLPGRPCConnectionHandler` carries the actions out on the connection.
struct OTLPGRPCConnectionStateMachine {
    enum Action: Equatable {
        /// Give the client back `increment` bytes of window on `stream` (`.rootStream`: the connection).
        case windowUpdate(HTTP2StreamID, increment: Int)
        /// Answer the call without the pipeline.
        case respond(HTTP2StreamID, OTLPGRPCExport.Outcome)
        /// Answer with an HTTP status only: the request was not gRPC.
        case respondHTTP(HTTP2StreamID, status: String)
        /// Hand the call's message to the pipeline and answer with its outcome.
        case export(HTTP2StreamID, Signal, message: [UInt8], headers: RequestHeaders)
    }

    private struct Call {
        var path = ""
        var method = ""
        var contentType = ""
        var encoding = "identity"
        var headers = RequestHeaders()
        var body = ByteBuffer()
        /// The length the message's prefix announced, once seen.
        var announced: Int?
        /// Set once the message is known to exceed the limit; its bytes are dropped from then on.
        var tooLarge = false
        /// Bytes read since the last stream-level window update.
        var credit = 0
        /// Why the authenticator refused the call; its data is dropped unread.
        var unauthenticated: String?
    }

    /// `/<service>/Export` of each signal that has a pipeline.
    let paths: [String: Signal]
    let maxMessageSize: Int
    let streamWindow: Int
    let connectionWindow: Int
    let authenticate: (@Sendable (RequestHeaders) -> String?)?
    private var calls: [HTTP2StreamID: Call] = [:]
    private var connectionCredit = 0
    private var windowRaised = false

    init(paths: [String: Signal], maxMessageSize: Int, streamWindow: Int, connectionWindow: Int,
         authenticate: (@Sendable (RequestHeaders) -> String?)? = nil) {
        self.paths = paths
        self.maxMessageSize = maxMessageSize
        self.streamWindow = streamWindow
        self.connectionWindow = connectionWindow
        self.authenticate = authenticate
    }

    var openCalls: Int { calls.count }

    mutating func received(_ payload: HTTP2Frame.FramePayload, on stream: HTTP2StreamID) -> [Action] {
        var actions: [Action] = []
        if !windowRaised {
            // The connection window starts at 64 KiB and only a WINDOW_UPDATE can raise it; the
            // client's preface has arrived, so the update may go out now.
            windowRaised = true
            actions.append(.windowUpdate(.rootStream, increment: connectionWindow - 65_535))
        }
        switch payload {
        case .headers(let headers):
            if calls[stream] == nil {
                var call = Self.call(headers.headers)
                call.unauthenticated = authenticate?(call.headers)
                calls[stream] = call
            }
            if headers.endStream { finish(stream, into: &actions) }
        case .data(let data):
            guard case .byteBuffer(var bytes) = data.data else { break }
            let length = bytes.readableBytes + (data.paddingBytes.map { $0 + 1 } ?? 0)
            returnCredit(length, on: stream, endStream: data.endStream, into: &actions)
            // Taken out while it grows: a copy that left the entry in place would share the
            // body's storage with it, and each DATA frame would copy the whole body so far.
            if var call = calls.removeValue(forKey: stream) {
                append(&bytes, to: &call)
                calls[stream] = call
            }
            if data.endStream { finish(stream, into: &actions) }
        case .rstStream:
            calls[stream] = nil
        default:
            break
        }
        return actions
    }

    mutating func connectionClosed() { calls.removeAll() }

    private static func call(_ headers: HPACKHeaders) -> Call {
        var call = Call()
        for (name, value, _) in headers {
            switch name {
            case ":path": call.path = value
            case ":method": call.method = value
            case "content-type": call.contentType = value
            case "grpc-encoding": call.encoding = value
            default: break
            }
            call.headers.add(name, value)
        }
        return call
    }

    /// Keeps the bytes of the call's message, up to the receiver's limit (plus the 5-byte prefix).
    private func append(_ bytes: inout ByteBuffer, to call: inout Call) {
        guard !call.tooLarge, call.unauthenticated == nil else { return }
        if call.body.readableBytes == 0, bytes.readableBytes >= 5,
           let length = bytes.getInteger(at: bytes.readerIndex + 1, as: UInt32.self) {
            call.announced = Int(length)
            call.body.reserveCapacity(min(Int(length), maxMessageSize) + 5)
        }
        if call.body.readableBytes + bytes.readableBytes > maxMessageSize + 5 {
            call.tooLarge = true
            call.body.clear()
            return
        }
        call.body.writeBuffer(&bytes)
    }

    /// Gives the client back the window its DATA used, on the connection and on the stream, in
    /// updates of at least half a window so they stay few.
    private mutating func returnCredit(_ length: Int, on stream: HTTP2StreamID, endStream: Bool, into actions: inout [Action]) {
        guard length > 0 else { return }
        connectionCredit += length
        if connectionCredit >= connectionWindow / 2 {
            actions.append(.windowUpdate(.rootStream, increment: connectionCredit))
            connectionCredit = 0
        }
        guard !endStream, var call = calls[stream] else { return }
        call.credit += length
        if call.credit >= streamWindow / 2 {
            actions.append(.windowUpdate(stream, increment: call.credit))
            call.credit = 0
        }
        calls[stream] = call
    }

    /// The request is complete: answer what can be answered at once, else export it.
    private mutating func finish(_ stream: HTTP2StreamID, into actions: inout [Action]) {
        guard var call = calls.removeValue(forKey: stream) else { return }
        guard call.method == "POST" else { return actions.append(.respondHTTP(stream, status: "405")) }
        guard call.contentType.hasPrefix("application/grpc") else { return actions.append(.respondHTTP(stream, status: "415")) }
        guard let signal = paths[call.path] else {
            return actions.append(.respond(stream, .failed(.unimplemented, "unknown method \(call.path)")))
        }
        if let reason = call.unauthenticated { return actions.append(.respond(stream, .failed(.unauthenticated, "authentication failed: \(reason)"))) }
        if call.tooLarge { return actions.append(.respond(stream, OTLPGRPCExport.tooLarge(call.announced ?? maxMessageSize + 1, limit: maxMessageSize))) }
        do {
            let message = try Self.message(in: &call.body, encoding: call.encoding, limit: maxMessageSize)
            actions.append(.export(stream, signal, message: message, headers: call.headers))
        } catch {
            actions.append(.respond(stream, error.outcome))
        }
    }

    /// The call's one message: the gRPC length prefix removed, decompressed per `grpc-encoding`.
    /// A call without a message exports nothing.
    private static func message(in body: inout ByteBuffer, encoding: String, limit: Int) throws(OTLPGRPCExportRefusal) -> [UInt8] {
        guard body.readableBytes > 0 else { return [] }
        guard let compressed = body.readInteger(as: UInt8.self), let length = body.readInteger(as: UInt32.self),
              let bytes = body.readBytes(length: Int(length)) else {
            throw .init(.failed(.internal, "the request's gRPC message is shorter than its length prefix"))
        }
        guard compressed != 0 else { return bytes }
        guard encoding != "identity" else {
            throw .init(.failed(.internal, "the message is marked compressed but grpc-encoding is identity"))
        }
        switch Decompression.decode(bytes, contentEncoding: encoding, limit: limit) {
        case nil:
            throw .init(.failed(.unimplemented, "grpc-encoding \"\(encoding)\" is not supported; supported: gzip, deflate, zstd"))
        case .success(let plain)?:
            return plain
        case .failure(.tooLarge)?:
            throw .init(.failed(.resourceExhausted, "decompressed message is larger than max_recv_msg_size_mib (\(limit) bytes)"))
        case .failure(let error)?:
            throw .init(.failed(.internal, "cannot decompress the message: \(error.description)"))
        }
    }
}

/// A call answered without reaching the pipeline.
struct OTLPGRPCExportRefusal: Error {
    var outcome: OTLPGRPCExport.Outcome
    init(_ outcome: OTLPGRPCExport.Outcome) { self.outcome = outcome }
}
