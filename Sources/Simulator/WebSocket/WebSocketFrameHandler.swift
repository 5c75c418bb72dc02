import NIOCore
import NIOWebSocket

/// Turns WebSocket frames into whole text messages for a ``WebSocketSession`` and
/// keeps the connection's housekeeping: pongs for pings, the closing handshake.
final class WebSocketFrameHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let session: any WebSocketSession
    private let maxMessageSize: Int
    /// A text message arriving in fragments, until its final frame.
    private var fragments: ByteBuffer?
    private var closeSent = false

    init(session: any WebSocketSession, maxMessageSize: Int) {
        self.session = session
        self.maxMessageSize = maxMessageSize
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { session.connected(context.channel) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            if frame.fin {
                session.received(frame.unmaskedData)
            } else {
                fragments = frame.unmaskedData
            }
        case .continuation:
            guard var buffer = fragments else { return close(context, code: .protocolError) }
            var data = frame.unmaskedData
            guard buffer.readableBytes + data.readableBytes <= maxMessageSize else {
                return close(context, code: .messageTooLarge)
            }
            buffer.writeBuffer(&data)
            if frame.fin {
                fragments = nil
                session.received(buffer)
            } else {
                fragments = buffer
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            // Echo the close (RFC 6455 §5.5.1), then let the server close the TCP connection.
            if !closeSent {
                closeSent = true
                var data = frame.unmaskedData
                let code = data.readWebSocketErrorCode() ?? .normalClosure
                close(context, code: code)
            } else {
                context.close(promise: nil)
            }
        case .binary:
            // OCPP-J uses text frames only.
            close(context, code: .unacceptableData)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.disconnected()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func close(_ context: ChannelHandlerContext, code: WebSocketErrorCode) {
        closeSent = true
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in
            // A server that does not close within a moment is closed on.
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }
}

extension WebSocketFrameHandler {
    /// Sends one text message on `channel`; call on the channel's event loop. Client
    /// frames are masked (RFC 6455 §5.3).
    static func sendText(_ bytes: [UInt8], on channel: any Channel) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Starts the closing handshake with 1000.
    static func sendClose(on channel: any Channel) {
        var data = channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: .normalClosure)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        channel.writeAndFlush(frame).whenComplete { _ in
            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
        }
    }
}
