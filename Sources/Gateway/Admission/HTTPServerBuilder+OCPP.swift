import HummingbirdCore

extension HTTPServerBuilder {
    /// An HTTP/1.1 server whose WebSocket upgrades are decided by `decide`, and whose plain
    /// requests go to the application's router:
    ///
    /// ```swift
    /// let app = Application(
    ///     router: httpRouter,  // /healthz, /readyz, /metrics
    ///     server: .ocppWebSocket(configuration: .init(maxFrameSize: 1 << 16)) { request, channel, logger in
    ///         .refuse(status: .notFound)
    ///     },
    ///     configuration: .init(address: .hostname("0.0.0.0", port: 8080))
    /// )
    /// ```
    ///
    /// Unlike `http1WebSocketUpgrade`, a refusal is sent with the status and headers chosen
    /// by `decide` (401, 404…) instead of always 400.
    static func ocppWebSocket(
        configuration: OCPPUpgradeChannel.Configuration = .init(),
        decide: @escaping OCPPUpgradeDecider
    ) -> HTTPServerBuilder {
        .init { responder in
            OCPPUpgradeChannel(responder: responder, configuration: configuration, decide: decide)
        }
    }
}
