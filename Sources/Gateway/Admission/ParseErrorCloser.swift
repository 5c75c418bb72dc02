import NIOCore
import NIOHTTP1

/// Closes the connection when its first request does not parse.
///
/// NIO's `HTTPServerProtocolErrorHandler` answers such a request with 400 but leaves closing
/// to a later handler, and until the first request is understood there is none: the upgrade
/// handler ignores errors. Without this, a port scanner or a TLS client on the plain port
/// would keep its connection for as long as it likes. Once the connection is plain HTTP or a
/// WebSocket it has its own error handling, so the channel removes this handler then.
final class ParseErrorCloser: ChannelInboundHandler, RemovableChannelHandler {
    // Reads pass through untouched.
    typealias InboundIn = Never

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            context.close(promise: nil)
        }
        context.fireErrorCaught(error)
    }
}
