import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// A server channel behind TLS: HummingbirdTLS's `TLSChannel`, except that the context is
/// looked up for every new connection, so that a reloaded certificate applies to the next
/// station that connects.
struct TLSServerChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let contexts: TLSContextStore
    /// Called with the error and the peer of every failed TLS handshake.
    let onHandshakeFailure: TLSHandshakeFailureReporter.Report

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers(
                NIOSSLServerHandler(context: self.contexts.context),
                TLSHandshakeFailureReporter(report: self.onHandshakeFailure))
        }.flatMap {
            self.base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}

/// Reports a failed TLS handshake (old protocol version, no common cipher suite, no or an
/// untrusted client certificate), a security event the whitepaper recommends logging
/// (A00.FR.323), and steps aside once the handshake succeeded.
final class TLSHandshakeFailureReporter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias Report = @Sendable (_ error: any Error, _ peer: SocketAddress?) -> Void

    private let report: Report

    init(report: @escaping Report) {
        self.report = report
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The client's address, which is the socket's peer unless a PROXY header named another.
        let channel = context.channel
        ClientAddress.future(of: channel).whenComplete { [report] address in
            report(error, (try? address.get()) ?? channel.remoteAddress)
        }
        context.fireErrorCaught(error)
    }
}
