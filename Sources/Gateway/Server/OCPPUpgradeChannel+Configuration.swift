import HummingbirdCore
import HummingbirdWebSocket

extension OCPPUpgradeChannel {
    /// Settings of the gateway's listening channel: the plain-HTTP side (health and metrics)
    /// and the WebSocket side (stations).
    ///
    /// Like HummingbirdWebSocket's `WebSocketServerConfiguration`, minus extensions:
    /// permessage-deflate costs zlib state per connection, which we do not want at 50k
    /// stations, so no extension is ever negotiated.
    struct Configuration: Sendable {
        /// Idle timeout, extra handlers and header limits for plain HTTP requests. The header
        /// limits also apply to the upgrade request.
        var http1: HTTP1Channel.Configuration
        /// Largest WebSocket frame accepted from a station. A bigger frame is answered with
        /// close 1009 (message too big) and the connection is closed. Outgoing text written
        /// with `writeTextMessage` is split into frames of this size.
        var maxFrameSize: Int
        /// WebSocket ping interval; a station that has not answered the previous ping when the
        /// next one is due is closed with 1001 ("Ping timeout").
        var autoPing: AutoPingSetup
        /// How long to wait for the station's close frame after we sent ours.
        var closeTimeout: Duration
        /// Reject text frames that are not UTF-8 (OCPP-J is JSON, hence UTF-8).
        var validateUTF8: Bool
        /// Connections beyond these limits are closed as soon as they are accepted.
        var connectionLimiter: ConnectionLimiter?
        /// A connection whose first request has not been answered (upgraded, refused or
        /// served) within this time is closed: a slow or silent client cannot hold a
        /// socket open without ever becoming a station.
        var handshakeTimeout: Duration?
        /// Called with the limit that refused a connection.
        var onConnectionRefused: @Sendable (ConnectionLimiter.Refusal) -> Void = { _ in }

        init(
            http1: HTTP1Channel.Configuration = .init(),
            maxFrameSize: Int = 1 << 16,
            autoPing: AutoPingSetup = .enabled(timePeriod: .seconds(30)),
            closeTimeout: Duration = .seconds(15),
            validateUTF8: Bool = true,
            connectionLimiter: ConnectionLimiter? = nil,
            handshakeTimeout: Duration? = nil
        ) {
            self.http1 = http1
            self.maxFrameSize = maxFrameSize
            self.autoPing = autoPing
            self.closeTimeout = closeTimeout
            self.validateUTF8 = validateUTF8
            self.connectionLimiter = connectionLimiter
            self.handshakeTimeout = handshakeTimeout
        }
    }
}
