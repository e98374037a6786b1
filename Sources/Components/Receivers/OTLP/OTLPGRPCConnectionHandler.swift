import NIOCore
import NIOHPACK
import NIOHTTP2
import OTLP

/// One HTTP/2 connection of the OTLP/gRPC server: collects each stream's request, answers it
/// once the pipeline has, and keeps the client's flow-control windows open. Runs on the
/// connection's event loop; exports run in tasks and their answers are written back on the loop.
final class OTLPGRPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private struct Call {
        var path: String
        var method: String
        var contentType: String
        var encoding: String
        var headers: [(name: String, value: String)]
        var body: ByteBuffer
        /// The length the message's prefix announced, once seen.
        var announced: Int?
        /// Set once the message is known to exceed the limit; its bytes are dropped from then on.
        var tooLarge = false
        /// Bytes read since the last stream-level window update.
        var credit = 0
    }

    private let export: OTLPGRPCExport
    private let state: OTLPGRPCServerState
    private var calls: [HTTP2StreamID: Call] = [:]
    private var connectionCredit = 0
    private var windowRaised = false

    init(export: OTLPGRPCExport, state: OTLPGRPCServerState) {
        self.export = export
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if !windowRaised {
            // The connection window starts at 64 KiB and only a WINDOW_UPDATE can raise it; the
            // client's preface has arrived, so the update may go out now.
            windowRaised = true
            let increment = OTLPGRPCServer.connectionWindow - 65_535
            context.write(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: increment))), promise: nil)
        }
        switch frame.payload {
        case .headers(let headers):
            if calls[frame.streamID] == nil { calls[frame.streamID] = Self.call(headers.headers, context.channel.allocator) }
            if headers.endStream { finish(frame.streamID, context: context) }
        case .data(let data):
            guard case .byteBuffer(var bytes) = data.data else { return }
            let length = bytes.readableBytes + (data.paddingBytes.map { $0 + 1 } ?? 0)
            returnCredit(length, on: frame.streamID, endStream: data.endStream, context: context)
            if var call = calls[frame.streamID] {
                append(&bytes, to: &call)
                calls[frame.streamID] = call
            }
            if data.endStream { finish(frame.streamID, context: context) }
        case .rstStream:
            calls[frame.streamID] = nil
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        calls.removeAll()
        context.fireChannelInactive()
    }

    private static func call(_ headers: HPACKHeaders, _ allocator: ByteBufferAllocator) -> Call {
        var call = Call(path: "", method: "", contentType: "", encoding: "identity", headers: [], body: allocator.buffer(capacity: 0))
        for (name, value, _) in headers {
            switch name {
            case ":path": call.path = value
            case ":method": call.method = value
            case "content-type": call.contentType = value
            case "grpc-encoding": call.encoding = value
            default: break
            }
            call.headers.append((name, value))
        }
        return call
    }

    /// Keeps the bytes of the call's message, up to the receiver's limit (plus the 5-byte prefix).
    private func append(_ bytes: inout ByteBuffer, to call: inout Call) {
        guard !call.tooLarge else { return }
        if call.body.readableBytes == 0, bytes.readableBytes >= 5,
           let length = bytes.getInteger(at: bytes.readerIndex + 1, as: UInt32.self) {
            call.announced = Int(length)
            call.body.reserveCapacity(min(Int(length), export.maxMessageSize) + 5)
        }
        if call.body.readableBytes + bytes.readableBytes > export.maxMessageSize + 5 {
            call.tooLarge = true
            call.body.clear()
            return
        }
        call.body.writeBuffer(&bytes)
    }

    /// Gives the client back the window its DATA used, on the connection and on the stream, in
    /// updates of at least half a window so they stay few.
    private func returnCredit(_ length: Int, on stream: HTTP2StreamID, endStream: Bool, context: ChannelHandlerContext) {
        guard length > 0 else { return }
        connectionCredit += length
        if connectionCredit >= OTLPGRPCServer.connectionWindow / 2 {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: connectionCredit))), promise: nil)
            connectionCredit = 0
        }
        guard !endStream, var call = calls[stream] else { return }
        call.credit += length
        if call.credit >= OTLPGRPCServer.streamWindow / 2 {
            context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .windowUpdate(windowSizeIncrement: call.credit))), promise: nil)
            call.credit = 0
        }
        calls[stream] = call
    }

    /// The request is complete: answer what can be answered at once, else export in a task.
    private func finish(_ stream: HTTP2StreamID, context: ChannelHandlerContext) {
        guard var call = calls.removeValue(forKey: stream) else { return }
        let channel = context.channel
        guard call.method == "POST" else { return Self.respond(httpStatus: "405", on: stream, channel) }
        guard call.contentType.hasPrefix("application/grpc") else { return Self.respond(httpStatus: "415", on: stream, channel) }
        guard let signal = export.paths[call.path] else {
            return Self.respond(.failed(.unimplemented, "unknown method \(call.path)"), on: stream, channel)
        }
        if call.tooLarge { return Self.respond(export.tooLarge(call.announced ?? export.maxMessageSize + 1), on: stream, channel) }
        do {
            let message = try Self.message(in: &call.body, encoding: call.encoding, limit: export.maxMessageSize)
            Self.export(message, of: signal, headers: call.headers, on: stream, channel, export, state)
        } catch {
            Self.respond(error.outcome, on: stream, channel)
        }
    }

    private static func export(_ message: [UInt8], of signal: Signal, headers: [(name: String, value: String)], on stream: HTTP2StreamID,
                               _ channel: any Channel, _ export: OTLPGRPCExport, _ state: OTLPGRPCServerState) {
        state.callStarted()
        Task {
            let outcome = await export.export(signal, message, headers: headers)
            respond(outcome, on: stream, channel)
            state.callEnded()
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

    private static func respond(_ outcome: OTLPGRPCExport.Outcome, on stream: HTTP2StreamID, _ channel: any Channel) {
        var frames: [HTTP2Frame] = []
        switch outcome {
        case .ok(let response):
            frames.append(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: responseHeaders))))
            var buffer = channel.allocator.buffer(capacity: 5 + response.count)
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt32(response.count))
            buffer.writeBytes(response)
            frames.append(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(buffer)))))
            frames.append(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: okTrailers, endStream: true))))
        case .failed(let code, let message):
            // Trailers-only: status and message in the one HEADERS frame that ends the stream.
            var headers = responseHeaders
            headers.add(name: "grpc-status", value: String(code.rawValue))
            headers.add(name: "grpc-message", value: percentEncoded(message))
            frames.append(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers, endStream: true))))
        }
        write(frames, channel)
    }

    private static func respond(httpStatus: String, on stream: HTTP2StreamID, _ channel: any Channel) {
        write([HTTP2Frame(streamID: stream, payload: .headers(.init(headers: [":status": httpStatus], endStream: true)))], channel)
    }

    private static func write(_ frames: [HTTP2Frame], _ channel: any Channel) {
        if channel.eventLoop.inEventLoop {
            for frame in frames { channel.write(frame, promise: nil) }
            channel.flush()
        } else {
            channel.eventLoop.execute {
                for frame in frames { channel.write(frame, promise: nil) }
                channel.flush()
            }
        }
    }

    private static let responseHeaders: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]
    private static let okTrailers: HPACKHeaders = ["grpc-status": "0"]

    /// gRPC's encoding of grpc-message: printable ASCII but `%` as is, every other byte as %XX.
    static func percentEncoded(_ message: String) -> String {
        var out = ""
        for byte in message.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

/// A call answered without reaching the pipeline.
struct OTLPGRPCExportRefusal: Error {
    var outcome: OTLPGRPCExport.Outcome
    init(_ outcome: OTLPGRPCExport.Outcome) { self.outcome = outcome }
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
