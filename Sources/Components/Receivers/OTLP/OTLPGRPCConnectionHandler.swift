import NIOCore
import NIOHPACK
import NIOHTTP2
import OTLP
import Pipeline

/// One HTTP/2 connection of the OTLP/gRPC server: feeds each frame to the connection's state
/// machine (which collects each stream's request and keeps the client's flow-control windows
/// open) and carries out what it decides. Runs on the connection's event loop; exports run in
/// tasks and their answers are written back on the loop.
final class OTLPGRPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let export: OTLPGRPCExport
    private let state: OTLPGRPCServerState
    private var machine: OTLPGRPCConnectionStateMachine

    init(export: OTLPGRPCExport, state: OTLPGRPCServerState) {
        self.export = export
        self.state = state
        var authenticate: (@Sendable (RequestHeaders) -> String?)?
        if let authenticator = export.authenticator { authenticate = { authenticator.authenticate($0) } }
        machine = OTLPGRPCConnectionStateMachine(paths: export.paths, maxMessageSize: export.maxMessageSize,
                                                 streamWindow: OTLPGRPCServer.streamWindow, connectionWindow: OTLPGRPCServer.connectionWindow,
                                                 authenticate: authenticate)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        for action in machine.received(frame.payload, on: frame.streamID) {
            switch action {
            case .windowUpdate(let stream, let increment):
                context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .windowUpdate(windowSizeIncrement: increment))), promise: nil)
            case .respond(let stream, let outcome):
                Self.respond(outcome, on: stream, context.channel)
            case .respondHTTP(let stream, let status):
                Self.respond(httpStatus: status, on: stream, context.channel)
            case .export(let stream, let signal, let message, let headers):
                Self.export(message, of: signal, headers: headers, on: stream, context.channel, export, state)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine.connectionClosed()
        context.fireChannelInactive()
    }

    private static func export(_ message: [UInt8], of signal: Signal, headers: RequestHeaders, on stream: HTTP2StreamID,
                               _ channel: any Channel, _ export: OTLPGRPCExport, _ state: OTLPGRPCServerState) {
        state.callStarted()
        Task {
            let outcome = await export.export(signal, message, headers: headers)
            respond(outcome, on: stream, channel)
            state.callEnded()
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

extension String {
    /// The text with zeros in front up to `width` characters (hex bytes, digits).
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
