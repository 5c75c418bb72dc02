import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// Opens station connections: TCP (from a chosen local address when given, so that
/// load runs can spread over several source addresses), TLS for `wss://`, the HTTP
/// upgrade offering the `ocpp1.6` subprotocol and, for security profile 1 and 2,
/// Basic credentials whose user is the station identity.
struct WebSocketConnector: Sendable {
    static let subprotocol = "ocpp1.6"

    let endpoint: StationEndpoint
    private let tlsContext: NIOSSLContext?
    var maxMessageSize = 1 << 20
    var connectTimeout = TimeAmount.seconds(10)

    /// `verifyCertificates: false` accepts any server certificate (a test server's
    /// self-signed one).
    init(endpoint: StationEndpoint, verifyCertificates: Bool = true) throws {
        self.endpoint = endpoint
        if endpoint.useTLS {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if !verifyCertificates { configuration.certificateVerification = .none }
            tlsContext = try NIOSSLContext(configuration: configuration)
        } else {
            tlsContext = nil
        }
    }

    /// Connects one station on `eventLoop`; the future succeeds once the upgrade is
    /// done and `makeSession`'s session is receiving (it is called on that loop).
    func connect(
        identity: String, password: String?, localAddress: SocketAddress?, on eventLoop: any EventLoop,
        makeSession: @escaping @Sendable (any Channel) -> any WebSocketSession
    ) -> EventLoopFuture<any Channel> {
        let upgraded = eventLoop.makePromise(of: Void.self)
        let head = upgradeRequest(identity: identity, password: password)
        let serverHostname = endpoint.host.isIPAddress ? nil : endpoint.host
        let tlsContext = self.tlsContext
        let maxMessageSize = self.maxMessageSize

        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    let pipeline = channel.pipeline.syncOperations
                    if let tlsContext {
                        try pipeline.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: serverHostname))
                    }
                    let requestHandler = UpgradeRequestHandler(head: head, upgraded: upgraded)
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: maxMessageSize) { channel, response in
                        Self.finishUpgrade(
                            channel: channel, response: response, makeSession: makeSession,
                            maxMessageSize: maxMessageSize, upgraded: upgraded)
                    }
                    try pipeline.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try pipeline.addHandler(requestHandler)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        if let localAddress { bootstrap = bootstrap.bind(to: localAddress) }

        let connected = bootstrap.connect(host: endpoint.host, port: endpoint.port)
        connected.whenFailure { upgraded.fail($0) }
        return connected.flatMap { channel in
            upgraded.futureResult.map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }

    private func upgradeRequest(identity: String, password: String?) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        let defaultPort = endpoint.useTLS ? 443 : 80
        let host = endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host
        headers.add(name: "Host", value: endpoint.port == defaultPort ? host : "\(host):\(endpoint.port)")
        headers.add(name: "Sec-WebSocket-Protocol", value: Self.subprotocol)
        if let password {
            let credentials = Data("\(identity):\(password)".utf8).base64EncodedString()
            headers.add(name: "Authorization", value: "Basic \(credentials)")
        }
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path(for: identity), headers: headers)
    }

    /// After the 101: checks the subprotocol, replaces the HTTP request handler by the
    /// frame handler and its session.
    private static func finishUpgrade(
        channel: any Channel, response: HTTPResponseHead,
        makeSession: @Sendable (any Channel) -> any WebSocketSession, maxMessageSize: Int,
        upgraded: EventLoopPromise<Void>
    ) -> EventLoopFuture<Void> {
        do {
            let pipeline = channel.pipeline.syncOperations
            let requestHandler = try pipeline.handler(type: UpgradeRequestHandler.self)
            pipeline.removeHandler(requestHandler, promise: nil)
            let offered = response.headers["Sec-WebSocket-Protocol"].flatMap {
                $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
            guard offered.contains(subprotocol) else {
                // OCPP-J 1.6 §3.1.2: no agreed subprotocol, no OCPP.
                throw SimulatorError("the server did not accept the subprotocol \(subprotocol)")
            }
            try pipeline.addHandler(
                WebSocketFrameHandler(session: makeSession(channel), maxMessageSize: maxMessageSize))
            upgraded.succeed()
            return channel.eventLoop.makeSucceededVoidFuture()
        } catch {
            upgraded.fail(error)
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(error)
        }
    }
}

extension String {
    /// An IP literal gets no TLS server name (RFC 6066 §3).
    fileprivate var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}
