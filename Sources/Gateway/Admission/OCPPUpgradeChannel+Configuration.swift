import HummingbirdCore

extension OCPPUpgradeChannel {
    /// Settings of the gateway's listening channel: the plain-HTTP side (health and metrics)
    /// and the WebSocket side (stations).
    ///
    /// No WebSocket extension is ever negotiated: permessage-deflate costs zlib state per
    /// connection, which we do not want at 50k stations.
    struct Configuration: Sendable {
        /// Idle timeout, extra handlers and header limits for plain HTTP requests. The header
        /// limits also apply to the upgrade request.
        var http1: HTTP1Channel.Configuration
        /// Largest WebSocket frame, and message, accepted from a station. A bigger one is
        /// answered with close 1009 (message too big). Outgoing messages longer than this
        /// are sent in fragments of this size.
        var maxFrameSize: Int
        /// WebSocket ping interval (nil: no pings); a station that has not answered the
        /// previous ping when the next one is due is closed with 1001 ("Ping timeout").
        var pingInterval: Duration?
        /// How long to wait for the station's close frame after we sent ours.
        var closeTimeout: Duration
        /// A station that sends no message for this long is reported to its session,
        /// which closes it (nil: never).
        var idleTimeout: Duration?
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
            pingInterval: Duration? = .seconds(30),
            closeTimeout: Duration = .seconds(15),
            idleTimeout: Duration? = nil,
            validateUTF8: Bool = true,
            connectionLimiter: ConnectionLimiter? = nil,
            handshakeTimeout: Duration? = nil
        ) {
            self.http1 = http1
            self.maxFrameSize = maxFrameSize
            self.pingInterval = pingInterval
            self.closeTimeout = closeTimeout
            self.idleTimeout = idleTimeout
            self.validateUTF8 = validateUTF8
            self.connectionLimiter = connectionLimiter
            self.handshakeTimeout = handshakeTimeout
        }

        /// The part the station sockets use.
        var socket: StationSocketHandler.Configuration {
            StationSocketHandler.Configuration(
                maxMessageSize: maxFrameSize, maxFrameSize: maxFrameSize, pingInterval: pingInterval,
                closeTimeout: closeTimeout, idleTimeout: idleTimeout, validateUTF8: validateUTF8)
        }
    }
}
