import CoreMetrics
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// A listener behind a proxy that speaks the PROXY protocol: every connection must start
/// with a ``ProxyProtocolHeader``, whose source address then stands for the connection's
/// client wherever the gateway uses one (failed-login throttle, connection limit per
/// address, log lines, the session's recorded address). Without it every station would
/// have the proxy's address, and one bad actor could slow everyone's logins.
///
/// Goes in front of everything else, TLS included: the proxy writes the header before the
/// client's first byte (the TLS ClientHello).
struct ProxyProtocolServerChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    /// How long a connection has to send its header.
    let timeout: Duration
    let rejections: ProxyProtocolRejections

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let handler = ProxyProtocolHandler(
                eventLoop: channel.eventLoop, timeout: .nanoseconds(Int64(timeout / .nanoseconds(1))),
                rejections: rejections)
            let operations = channel.pipeline.syncOperations
            try operations.addHandler(ClientAddressHandler(address: handler.clientAddress), position: .first)
            try operations.addHandler(handler, position: .first)
        }.flatMap {
            self.base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await self.base.handle(value: value, logger: logger)
    }
}

/// Where a connection comes from: the socket's peer or, behind the PROXY protocol, the
/// client the proxy named.
enum ClientAddress {
    /// The client's address once known. Call on the channel's event loop.
    static func future(of channel: any Channel) -> EventLoopFuture<SocketAddress?> {
        if let record = try? channel.pipeline.syncOperations.handler(type: ClientAddressHandler.self) {
            return record.address
        }
        return channel.eventLoop.makeSucceededFuture(channel.remoteAddress)
    }

    /// The client's address, from anywhere; nil when the connection closed before its
    /// PROXY header arrived.
    static func of(_ channel: any Channel) async -> SocketAddress? {
        let address = channel.eventLoop.flatSubmit { Self.future(of: channel) }
        return (try? await address.get()) ?? nil
    }
}

/// Holds a connection's client address for the handlers and the upgrade decision that
/// want it. Passes every event on untouched.
final class ClientAddressHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    let address: EventLoopFuture<SocketAddress?>

    init(address: EventLoopFuture<SocketAddress?>) {
        self.address = address
    }
}

/// Reads the PROXY header at the start of a connection, then removes itself and passes
/// the bytes after it on. No valid header (wrong bytes, too long, or not complete within
/// the timeout): the connection is closed.
final class ProxyProtocolHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    struct Closed: Error {}

    private let promise: EventLoopPromise<SocketAddress?>
    private let timeout: TimeAmount
    private let rejections: ProxyProtocolRejections
    private var buffer: ByteBuffer?
    private var deadline: Scheduled<Void>?
    private var finished = false

    /// The header's source address, or the socket's peer when the header names none.
    var clientAddress: EventLoopFuture<SocketAddress?> { promise.futureResult }

    init(eventLoop: any EventLoop, timeout: TimeAmount, rejections: ProxyProtocolRejections) {
        self.promise = eventLoop.makePromise()
        self.timeout = timeout
        self.rejections = rejections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let context = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.value.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.reject(context: context.value, .malformed("no complete header within the timeout"))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        guard !finished else { return }
        finish()
        promise.fail(Closed())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else {
            context.fireChannelRead(data)
            return
        }
        var incoming = unwrapInboundIn(data)
        if buffer == nil {
            buffer = incoming
        } else {
            buffer!.writeBuffer(&incoming)
        }
        guard var buffer else { return }
        do {
            switch try ProxyProtocolHeader.parse(buffer.readableBytesView) {
            case .incomplete:
                return
            case .complete(let header, let length):
                finish()
                buffer.moveReaderIndex(forwardBy: length)
                self.buffer = nil
                promise.succeed(header.source ?? context.channel.remoteAddress)
                // Whatever followed the header (a ClientHello, a request) is the client's.
                if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buffer)) }
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        } catch {
            reject(context: context, error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finish()
            promise.fail(Closed())
        }
        context.fireChannelInactive()
    }

    private func reject(context: ChannelHandlerContext, _ failure: ProxyProtocolHeader.Failure) {
        guard !finished else { return }
        finish()
        buffer = nil
        promise.fail(failure)
        rejections.record(failure, peer: context.channel.remoteAddress)
        context.close(promise: nil)
    }

    private func finish() {
        finished = true
        deadline?.cancel()
        deadline = nil
    }
}

/// Counts the connections closed for want of a valid PROXY header, and logs them without
/// flooding the log: each at debug level, and a notice at most once a minute with how many
/// there were since the previous one (a misconfigured proxy, or someone bypassing it).
final class ProxyProtocolRejections: Sendable {
    private let logger: Logger
    private let counters: [String: Counter]
    private let state = Mutex<(unreported: Int, lastNotice: ContinuousClock.Instant?)>((0, nil))
    private let noticeInterval: Duration

    init(logger: Logger, noticeInterval: Duration = .seconds(60)) {
        self.logger = logger
        self.noticeInterval = noticeInterval
        self.counters = Dictionary(
            uniqueKeysWithValues: ["missing", "malformed", "too_long"].map { reason in
                (
                    reason,
                    Counter(label: "ocpp_gateway_proxy_protocol_rejected_total", dimensions: [("reason", reason)])
                )
            })
    }

    func record(_ failure: ProxyProtocolHeader.Failure, peer: SocketAddress?, now: ContinuousClock.Instant = .now) {
        counters[failure.label]?.increment()
        let peer = peer?.ipAddress ?? "unknown"
        logger.debug("Connection closed: no valid PROXY protocol header (\(failure))", metadata: ["peer": "\(peer)"])
        let count: Int? = state.withLock { state in
            state.unreported += 1
            if let last = state.lastNotice, now - last < noticeInterval { return nil }
            defer { state = (0, now) }
            return state.unreported
        }
        if let count {
            logger.notice(
                "Connections closed without a valid PROXY protocol header (OCPP_PROXY_PROTOCOL=on): \(count) since the last notice; the latest: \(failure)",
                metadata: ["peer": "\(peer)"])
        }
    }
}
