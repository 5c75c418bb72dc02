import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The gateway's per-connection channel: HTTP/1.1 with a WebSocket upgrade whose refusal
/// status we choose.
///
/// Hummingbird's `HTTP1WebSocketUpgradeChannel` answers every refused upgrade with 400, but
/// OCPP 1.6 security profile 1 needs 401 + `WWW-Authenticate` for bad credentials and we
/// want 404 for unknown stations. So, on NIO's typed upgrade pipeline:
/// - the WebSocket upgrader asks `decide`, and remembers the answer for the connection;
/// - a refusal makes the upgrader decline, NIO falls back to plain HTTP, and the connection
///   gets exactly the chosen status and is closed;
/// - an acceptance completes the handshake and starts the station's session on a
///   ``StationSocketHandler``, which lives in the channel: `handle(value:)` returns at once,
///   so an open WebSocket costs no task (the server's quiescing still tracks the channel);
/// - a request without an upgrade goes to the application's HTTP responder (the router).
struct OCPPUpgradeChannel: ServerChildChannel, HTTPChannelHandler {
    /// What became of a connection once its first request head was seen.
    enum Outcome: Sendable {
        /// Plain HTTP: served by the responder, keep-alive included.
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// Upgrade refused by `decide`, or 400 for a handshake NIO found malformed.
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPResponse.Status, HTTPFields)
        /// Upgraded: the 101 is sent and the session started.
        case webSocket
    }

    struct Value: ServerChildChannelValue {
        let outcome: EventLoopFuture<Outcome>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let configuration: Configuration
    let decide: OCPPUpgradeDecider

    init(
        responder: @escaping HTTPChannelHandler.Responder, configuration: Configuration,
        decide: @escaping OCPPUpgradeDecider
    ) {
        self.responder = Self.refusingLateUpgrades(responder)
        self.configuration = configuration
        self.decide = decide
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try self.admit(channel)
            // Child channels are set up on their own event loop, and every NIO callback below
            // runs there too, so a loop-bound box needs no lock.
            let pending = NIOLoopBoundBox<PendingUpgrade?>(nil, eventLoop: channel.eventLoop)
            let upgrader = self.makeUpgrader(pending: pending, logger: logger)

            // Runs when the first request is not upgraded. If it asked for a WebSocket, the
            // upgrader left a refusal in `pending` (NIO has then swallowed the request head, so
            // the HTTP side would never see it); otherwise it is a plain request, passed on.
            let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration<Outcome>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if case .refuse(let status, let headers) = pending.value {
                            // Only the codec: the refusal is written once, then the connection closes.
                            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                            return .refused(try Self.wrapHTTP(channel), status, headers)
                        }
                        try self.addHTTPHandlers(to: channel, logger: logger)
                        return .http(try Self.wrapHTTP(channel))
                    }
                }
            )

            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgradeConfiguration)
            // As in Hummingbird's HTTP1Channel: NIOAsyncChannel serialises requests and
            // swift-http-types validates headers.
            pipeline.enablePipelining = false
            pipeline.enableResponseHeaderValidation = false
            // Unlike it, keep NIO's parse-error handler: a first request that does not parse
            // never reaches `handleHTTP` (which answers later ones), so NIO's handler answers
            // it with 400 and `ParseErrorCloser` closes the connection.
            pipeline.enableErrorHandling = true
            let limits = self.configuration.http1.httpDecoder
            pipeline.decoderConfiguration.maxHeaderFieldSize = limits.maxHeaderFieldSize
            pipeline.decoderConfiguration.maxHeaderListSize = limits.maxHeaderListSize
            pipeline.decoderConfiguration.maxHeaderFieldCount = limits.maxHeaderFieldCount

            let operations = channel.pipeline.syncOperations
            let outcome = try operations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            let closer = ParseErrorCloser()
            try operations.addHandler(closer)
            outcome.assumeIsolated().whenComplete { _ in
                operations.removeHandler(closer, promise: nil)
            }
            if let timeout = self.configuration.handshakeTimeout {
                // Not cancelled when the handshake ends (``ConnectionTimers`` says why):
                // the timer then finds the handshake over, or the channel gone.
                let isOver = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
                outcome.assumeIsolated().whenComplete { _ in isOver.value = true }
                channel.eventLoop.assumeIsolated().scheduleTask(in: .init(timeout)) { [weak channel] in
                    guard !isOver.value, let channel else { return }
                    logger.debug("Connection closed: no complete request within the handshake timeout")
                    channel.close(promise: nil)
                }
            }
            return Value(outcome: outcome, channel: channel)
        }
    }

    /// Counts the connection against the limits until it closes, or closes it at once
    /// (the server does not close a channel whose setup failed).
    private func admit(_ channel: any Channel) throws {
        guard let limiter = self.configuration.connectionLimiter else { return }
        if let proxied = try? channel.pipeline.syncOperations.handler(type: ClientAddressHandler.self) {
            // Behind the PROXY protocol: counted under the client's address once its header
            // named it (a connection without one is closed by the header's handler).
            proxied.address.assumeIsolated().whenSuccess { address in
                do {
                    try self.admit(channel, address: address?.ipAddress ?? "unknown", limiter: limiter)
                } catch {
                    // Closed already.
                }
            }
            return
        }
        try admit(channel, address: channel.remoteAddress?.ipAddress ?? "unknown", limiter: limiter)
    }

    private func admit(_ channel: any Channel, address: String, limiter: ConnectionLimiter) throws {
        if let refusal = limiter.acquire(address) {
            self.configuration.onConnectionRefused(refusal)
            channel.close(promise: nil)
            throw ConnectionRefused(limit: refusal)
        }
        channel.closeFuture.whenComplete { _ in limiter.release(address) }
    }

    struct ConnectionRefused: Error {
        let limit: ConnectionLimiter.Refusal
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.outcome.get() {
            case .http(let http):
                await self.handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let status, let headers):
                logger.debug("WebSocket upgrade refused", metadata: ["http.status": "\(status.code)"])
                await Self.writeRefusal(status: status, headers: headers, on: http, logger: logger)
            case .webSocket:
                // The session runs on the channel's event loop from here on.
                break
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("Connection closed by the peer before its first request was handled")
        } catch {
            // E.g. an upgrade request with a body. The server does not close a child channel
            // when `handle` returns, so do it here.
            logger.debug("Connection failed before its first request was handled", metadata: ["error": "\(error)"])
            value.channel.close(promise: nil)
        }
    }

    // MARK: Plain HTTP

    /// The handlers Hummingbird's HTTP1Channel puts after the HTTP codec, so plain requests
    /// get the same idle timeout and graceful-shutdown handling.
    private func addHTTPHandlers(to channel: any Channel, logger: Logger) throws {
        let operations = channel.pipeline.syncOperations
        // From here on `handleHTTP` answers parse errors itself; NIO's handler would add a
        // second 400.
        operations.removeHandler(try operations.handler(type: HTTPServerProtocolErrorHandler.self), promise: nil)
        try operations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        try operations.addHandlers(self.configuration.http1.additionalChannelHandlers())
        try operations.addHandler(
            HTTPConnectionStateHandler(
                idleTimeout: self.configuration.http1.idleTimeout.map { .init($0) }, logger: logger)
        )
    }

    private static func wrapHTTP(_ channel: any Channel) throws -> NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart> {
        return try NIOAsyncChannel(
            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
    }

    /// Only a connection's first request can be upgraded: NIO removes its upgrade handler once
    /// a plain request went through. A later request asking for a WebSocket must not reach the
    /// router as if it were plain HTTP, so it gets 400 and the connection is closed; the
    /// station then retries on a fresh connection, where the upgrade works.
    private static func refusingLateUpgrades(
        _ responder: @escaping HTTPChannelHandler.Responder
    )
        -> HTTPChannelHandler.Responder
    {
        { (request: Request, responseWriter: consuming ResponseWriter, channel: any Channel) in
            guard let upgrade = request.headers[.upgrade], upgrade.lowercased().contains("websocket") else {
                try await responder(request, responseWriter, channel)
                return
            }
            try await responseWriter.writeResponse(
                HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
            )
            // handleHTTP closes the connection when the responder throws.
            throw UnservedUpgradeError()
        }
    }

    private struct UnservedUpgradeError: Error {}

    private static func writeRefusal(
        status: HTTPResponse.Status,
        headers: HTTPFields,
        on http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>,
        logger: Logger
    ) async {
        var headers = headers
        headers[.connection] = "close"
        headers[.contentLength] = "0"
        do {
            // NIO kept nothing of the declined upgrade request, so there is nothing to read.
            try await http.executeThenClose { _, outbound in
                try await outbound.write(contentsOf: [
                    .head(HTTPResponse(status: status, headerFields: headers)), .end(nil),
                ])
            }
        } catch {
            logger.trace("Could not write the upgrade refusal", metadata: ["error": "\(error)"])
        }
    }
}
