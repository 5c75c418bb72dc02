import NIOCore
import NIOHTTP1

/// Sends the HTTP request that asks for the WebSocket upgrade, and reports a refusal.
///
/// NIO's upgrade handler adds the WebSocket headers to this request and, on a 101,
/// rebuilds the pipeline; any other answer passes through to here and fails
/// `upgraded` with its status (401 for a wrong password, 404 for an unknown station).
final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let upgraded: EventLoopPromise<Void>

    init(head: HTTPRequestHead, upgraded: EventLoopPromise<Void>) {
        self.head = head
        self.upgraded = upgraded
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let response) = unwrapInboundIn(data) {
            upgraded.fail(
                UpgradeRefused(
                    status: Int(response.status.code), reason: response.status.reasonPhrase,
                    retryAfter: response.headers.first(name: "Retry-After").flatMap { Int($0) }))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        upgraded.fail(SimulatorError("the connection closed during the upgrade"))
        context.fireChannelInactive()
    }
}

/// The server answered the upgrade with something other than 101: 401, 404, or 503
/// with a `Retry-After` (seconds) when it defers a reconnect storm.
struct UpgradeRefused: Error, Sendable, CustomStringConvertible {
    var status: Int
    var reason: String
    var retryAfter: Int?

    var description: String { "upgrade refused: HTTP \(status) \(reason)" }
}
