import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import OCPP
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Shared

/// The gateway process: the database pool, the ingest writer, this instance's
/// presence and the HTTP/WebSocket server, as services of one group.
///
/// Graceful shutdown runs in reverse order of the list: the server stops accepting
/// and closes sockets (each after its CALL in flight is answered), then presence
/// removes this gateway's sessions, the ingest writer flushes, and the pool closes.
struct GatewayApplication {
    let settings: GatewaySettings
    let logger: Logger
    let prometheus: PrometheusCollectorRegistry

    /// Called with the bound port once the server listens (tests bind port 0); with the
    /// plain port off (`OCPP_PORT=off`), with the TLS listener's.
    var onServerRunning: @Sendable (Int) async -> Void = { _ in }
    /// The same for the TLS listener, when there is one.
    var onTLSServerRunning: @Sendable (Int) async -> Void = { _ in }

    /// Throws when the TLS files are unusable, before anything runs.
    func makeServiceGroup() throws(ConfigurationError) -> ServiceGroup {
        let tlsContexts = try settings.tls.map { tls throws(ConfigurationError) in
            try TLSContextStore(settings: tls)
        }
        let client = PostgresClient(configuration: settings.database, backgroundLogger: logger)
        let metrics = GatewayMetrics()
        let registry = ConnectionRegistry()
        let inboxNotifier = InboxNotifier(client: client, gatewayID: settings.gatewayID, logger: logger)
        let ingest = IngestWriter(
            client: client, settings: settings, logger: logger, committed: inboxNotifier.batchCommitted)
        let stations = PostgresStationStore(client: client, logger: logger)
        let clockOffsets = ClockOffsetWriter(
            log: ClockOffsetLog(), stations: stations, interval: settings.clockOffsetInterval, logger: logger)
        let dependencies = ConnectionDependencies(
            gatewayID: settings.gatewayID, calls: CallHandler(settings: settings, client: client, logger: logger),
            ingest: ingest, stations: stations, outbound: PostgresOutboundStore(client: client, logger: logger),
            metrics: metrics,
            decodingOptions: DecodingOptions(
                mode: settings.validationMode, quirkObserver: metrics.toleratedQuirks),
            clockOffsets: clockOffsets.log, callTimeout: settings.callTimeout)
        let drain = SessionDrain(registry: registry, duration: settings.drainDuration)
        let sessions = StationSessions(
            dependencies: dependencies, registry: registry, drain: drain, maxMessageRate: settings.maxMessageRate,
            messageBurst: settings.messageBurst)
        let policy = HandshakePolicy(
            auth: settings.auth, registration: settings.registrationPolicy, stations: stations,
            verifyPassword: { [passwords = PasswordVerifier()] in await passwords.verify($0, against: $1) })
        metrics.authenticationDisabled.record(settings.auth == .insecureNone ? 1 : 0)
        if settings.auth == .insecureNone {
            logger.warning(
                "OCPP_AUTH=insecure-none: stations without a password connect without credentials; anyone who reaches the port can connect as one of them"
            )
        }
        let throttle = AuthFailureThrottle()
        let upgradeBudget =
            settings.upgradeRate > 0
            ? SharedTokenBucket(rate: settings.upgradeRate, burst: settings.upgradeRate) : nil
        let presence = GatewayPresence(
            client: client, gatewayID: settings.gatewayID, heartbeatInterval: settings.presenceInterval,
            registry: registry, metrics: metrics, logger: logger)

        let idleTimeout = settings.effectiveIdleTimeout
        var channelConfiguration = OCPPUpgradeChannel.Configuration(
            maxFrameSize: settings.maxFrameSize, pingInterval: settings.pingInterval,
            idleTimeout: idleTimeout > .zero ? idleTimeout : nil,
            connectionLimiter: ConnectionLimiter(
                maxTotal: settings.maxConnections, maxPerAddress: settings.maxConnectionsPerAddress),
            handshakeTimeout: settings.handshakeTimeout)
        channelConfiguration.onConnectionRefused = { limit in metrics.connectionsRefused(limit.rawValue).increment() }
        let configuration = channelConfiguration

        let proxyRejections =
            settings.proxyProtocol == .on ? ProxyProtocolRejections(logger: logger) : nil
        let handshakeTimeout = settings.handshakeTimeout
        /// Behind a proxy that speaks the PROXY protocol, its header comes first, TLS included.
        @Sendable func behindProxy(_ channel: some ServerChildChannel) -> any ServerChildChannel {
            guard let proxyRejections else { return channel }
            return ProxyProtocolServerChannel(base: channel, timeout: handshakeTimeout, rejections: proxyRejections)
        }

        let router = Router()
        HealthRoutes.add(to: router, registry: prometheus) { ingest.isDatabaseReachable }
        let onServerRunning = self.onServerRunning
        // Stopped in reverse order: the notifier after the writer's last batch.
        var services: [any Service] = [PostgresClientService(client), inboxNotifier, ingest, clockOffsets, presence]
        let firstServer = services.count
        if let port = settings.port {
            let server = Application(
                router: router,
                server: HTTPServerBuilder { responder in
                    behindProxy(
                        OCPPUpgradeChannel(
                            responder: responder, configuration: configuration,
                            decide: { request, channel, logger in
                                await Self.decide(
                                    request: request, channel: channel, logger: logger, policy: policy,
                                    certificateRule: nil, tlsContexts: nil, throttle: throttle,
                                    upgradeBudget: upgradeBudget, sessions: sessions, metrics: metrics)
                            }))
                },
                configuration: .init(
                    address: .hostname(settings.host, port: port), serverName: "ocpp-gateway",
                    backlog: settings.listenBacklog),
                onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
                logger: logger)
            services.append(StationServer(server: server, drain: drain))
        }

        if let tlsContexts {
            let tls = tlsContexts.settings
            // Profile 3: the certificate authenticates the station instead of a password,
            // and must be the identity's own.
            let certificateRule =
                tls.clientCAPath != nil ? CertificateIdentityRule(requiredOrganization: tls.clientOrganization) : nil
            let tlsPolicy = certificateRule == nil ? policy.overTLS() : policy.authenticatedByCertificate()
            let logger = self.logger
            let onTLSServerRunning = self.onTLSServerRunning
            let plainPortOff = settings.port == nil
            let tlsServer = Application(
                router: router,
                server: HTTPServerBuilder { responder in
                    behindProxy(
                        TLSServerChannel(
                            base: OCPPUpgradeChannel(
                                responder: responder, configuration: configuration,
                                decide: { request, channel, logger in
                                    await Self.decide(
                                        request: request, channel: channel, logger: logger, policy: tlsPolicy,
                                        certificateRule: certificateRule, tlsContexts: tlsContexts, throttle: throttle,
                                        upgradeBudget: upgradeBudget, sessions: sessions, metrics: metrics)
                                }),
                            contexts: tlsContexts,
                            onHandshakeFailure: { error, peer in
                                metrics.tlsHandshakeFailures.increment()
                                logger.notice(
                                    "TLS handshake failed: \(error)",
                                    metadata: ["peer": "\(peer?.ipAddress ?? "unknown")"])
                            }))
                },
                configuration: .init(
                    address: .hostname(settings.host, port: tls.port), serverName: "ocpp-gateway",
                    backlog: settings.listenBacklog),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? 0
                    await onTLSServerRunning(port)
                    if plainPortOff { await onServerRunning(port) }
                },
                logger: logger)
            // Before the servers, so that it stops after them.
            services.insert(TLSCertificateReloader(store: tlsContexts, logger: logger), at: firstServer)
            services.append(StationServer(server: tlsServer, drain: drain))
        }

        return ServiceGroup.process(
            services: services, shutdownTimeout: settings.shutdownTimeout,
            cancellationTimeout: settings.cancellationTimeout, logger: logger)
    }

    /// Turns the handshake policy's decision into the server channel's.
    private static func decide(
        request: HTTPRequest, channel: any Channel, logger: Logger, policy: HandshakePolicy,
        certificateRule: CertificateIdentityRule?, tlsContexts: TLSContextStore?, throttle: AuthFailureThrottle,
        upgradeBudget: SharedTokenBucket?, sessions: StationSessions, metrics: GatewayMetrics
    ) async -> OCPPUpgradeDecision {
        if let upgradeBudget {
            // A reconnect storm: each upgrade waits its turn, up to 5 s; beyond that the
            // station is told to come back when the turns taken so far are done (within
            // a second of it at random): then there is room, and no turn stays unused.
            guard let turn = upgradeBudget.reserve(maximumWait: .seconds(5)) else {
                metrics.admissionDeferred("upgrade").increment()
                let backlog = Double(upgradeBudget.backlog / .milliseconds(1)) / 1000
                let retryAfter = Int((backlog + Double.random(in: 0...1)).rounded(.up))
                return .refuse(status: .serviceUnavailable, headers: [.retryAfter: "\(retryAfter)"])
            }
            if turn > .zero { try? await Task.sleep(for: turn) }
        }
        if let certificateRule,
            let refusal = await Self.checkCertificate(
                request: request, channel: channel, logger: logger, rule: certificateRule,
                revocations: tlsContexts?.revocations, metrics: metrics)
        {
            return refusal
        }
        // The socket's peer, or the client a PROXY protocol header named.
        let remoteAddress = await ClientAddress.of(channel)?.ipAddress
        let address = Self.throttleKey(address: remoteAddress, path: request.path ?? "")
        let wait = throttle.delay(for: address)
        if wait > .zero {
            metrics.authThrottled.increment()
            try? await Task.sleep(for: wait)
        }
        let decision = await policy.decide(path: request.path ?? "", headers: request.headerFields, logger: logger)
        switch decision {
        case .refuse(.unauthorized, _): throttle.recordFailure(from: address)
        case .accept: throttle.recordSuccess(from: address)
        case .refuse: break
        }
        switch decision {
        case .refuse(let status, let reason):
            metrics.handshakesRefused(String(status.code)).increment()
            // Never log credentials: only the reason and the path.
            logger.notice("upgrade refused with \(status.code): \(reason)", metadata: ["path": "\(request.path ?? "")"])
            var headers: HTTPFields = [:]
            if status == .unauthorized { headers[.wwwAuthenticate] = #"Basic realm="OCPP", charset="UTF-8""# }
            return .refuse(status: status, headers: headers)
        case .accept(let station, let registration, let subprotocol):
            var headers: HTTPFields = [:]
            if let subprotocol { headers[.secWebSocketProtocol] = subprotocol }
            return .upgrade(headers: headers) { socket, context in
                sessions.start(
                    station: station, registration: registration, subprotocol: subprotocol,
                    remoteAddress: remoteAddress, socket: socket, logger: context.logger)
            }
        }
    }

    /// What failed logins are counted by: the identity and the client address
    /// together, so that one bad actor slows only its own logins of the identities it
    /// tries. Behind a proxy the client address is the one its PROXY protocol header
    /// names (`OCPP_PROXY_PROTOCOL=on`); without that every station would share the
    /// proxy's, and only the identity would tell them apart.
    static func throttleKey(address: String?, path: String) -> String {
        let identity = (try? StationIdentity.parse(path: path)) ?? path
        return "\(address ?? "unknown") \(identity)"
    }
}
