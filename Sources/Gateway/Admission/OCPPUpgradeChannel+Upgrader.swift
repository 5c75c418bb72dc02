import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import NIOWebSocket

extension OCPPUpgradeChannel {
    /// What the connection's upgrade attempt came to, kept between NIO's steps ("should we
    /// upgrade?", "build the WebSocket pipeline", "not upgrading after all"), which do not
    /// pass anything of ours from one to the next.
    enum PendingUpgrade: Sendable {
        case upgrade(HTTPRequest, StationSocketAcceptor)
        case refuse(HTTPResponse.Status, HTTPFields)
    }

    /// NIO's WebSocket upgrader, asking `decide` before the 101.
    func makeUpgrader(pending: NIOLoopBoundBox<PendingUpgrade?>, logger: Logger) -> AttemptRecordingUpgrader {
        let webSocket = NIOTypedWebSocketServerUpgrader<Outcome>(
            maxFrameSize: self.configuration.maxFrameSize,
            // Adds NIO's protocol error handler, which answers an oversized or malformed frame
            // with a close frame (1009 / 1002) before closing.
            enableAutomaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                self.shouldUpgrade(channel: channel, head: head, pending: pending, logger: logger)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    guard case .upgrade(let request, let accept) = pending.value else {
                        // NIO only upgrades after `shouldUpgrade` returned headers, which it
                        // does only after storing `.upgrade`.
                        preconditionFailure("WebSocket upgrade without an upgrade decision")
                    }
                    let handler = StationSocketHandler(configuration: self.configuration.socket)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    let socket = StationSocket(channel: channel, handler: handler)
                    let session = accept(socket, OCPPWebSocketContext(logger: logger, request: request))
                    handler.start(socket: socket, delegate: session)
                    return .webSocket
                }
            }
        )
        return AttemptRecordingUpgrader(webSocket: webSocket, pending: pending)
    }

    /// NIO's "should we upgrade?" hook, called after NIO checked `Sec-WebSocket-Key` and
    /// `Sec-WebSocket-Version: 13`. Returning `nil` declines; the not-upgrading handler then
    /// finds the refusal in `pending`.
    private func shouldUpgrade(
        channel: any Channel,
        head: HTTPRequestHead,
        pending: NIOLoopBoundBox<PendingUpgrade?>,
        logger: Logger
    ) -> EventLoopFuture<HTTPHeaders?> {
        // `secure: false` only sets `request.scheme` to "http"; nothing here depends on it.
        guard let request = try? HTTPRequest(head, secure: false, splitCookie: false) else {
            pending.value = .refuse(.badRequest, [:])
            return channel.eventLoop.makeSucceededFuture(nil)
        }

        let decided = channel.eventLoop.makePromise(of: OCPPUpgradeDecision.self)
        decided.completeWithTask { [decide] in
            do {
                return try await decide(request, channel, logger)
            } catch {
                logger.error("WebSocket upgrade decision failed", metadata: ["error": "\(error)"])
                return .refuse(status: .internalServerError)
            }
        }
        // The promise belongs to the channel's loop, so this runs on it.
        return decided.futureResult.map { decision in
            switch decision {
            case .upgrade(let headers, let accept):
                pending.value = .upgrade(request, accept)
                return HTTPHeaders(headers)
            case .refuse(let status, let headers):
                pending.value = .refuse(status, headers)
                return nil
            }
        }
    }

    /// Notes that a WebSocket upgrade was asked for before letting NIO's upgrader handle it.
    ///
    /// NIO does not keep the head of an upgrade request it declines, so a request whose
    /// handshake NIO rejects itself (no `Sec-WebSocket-Key`, version other than 13) would
    /// reach neither `decide` nor the HTTP responder and get no answer at all. Starting from a
    /// 400 refusal, overwritten by `decide`'s answer when it is asked, gives it one.
    struct AttemptRecordingUpgrader: NIOTypedHTTPServerProtocolUpgrader {
        let webSocket: NIOTypedWebSocketServerUpgrader<Outcome>
        let pending: NIOLoopBoundBox<PendingUpgrade?>

        var supportedProtocol: String { self.webSocket.supportedProtocol }
        var requiredUpgradeHeaders: [String] { self.webSocket.requiredUpgradeHeaders }

        func buildUpgradeResponse(
            channel: any Channel,
            upgradeRequest: HTTPRequestHead,
            initialResponseHeaders: HTTPHeaders
        ) -> EventLoopFuture<HTTPHeaders> {
            self.pending.value = .refuse(.badRequest, [:])
            return self.webSocket.buildUpgradeResponse(
                channel: channel,
                upgradeRequest: upgradeRequest,
                initialResponseHeaders: initialResponseHeaders
            )
        }

        func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Outcome> {
            self.webSocket.upgrade(channel: channel, upgradeRequest: upgradeRequest)
        }
    }
}
