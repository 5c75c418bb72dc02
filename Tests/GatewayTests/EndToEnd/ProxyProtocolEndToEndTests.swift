import CoreMetrics
import Foundation
import NIOCore
import NIOPosix
import OCPP
import PostgresNIO
import Prometheus
import Shared
import TestSupport
import Testing

@testable import Gateway

/// `OCPP_PROXY_PROTOCOL=on` through a real gateway: a small TCP proxy in the test writes
/// the header a load balancer would, then relays the station's bytes both ways.
@Suite("PROXY protocol end to end", .serialized, .timeLimit(.minutes(2)))
struct ProxyProtocolEndToEndTests {
    static let password = "AuthorizationKey-0123456789"
    static let boot: JSONValue = ["chargePointVendor": "Test", "chargePointModel": "Proxied"]

    @Test func aStationBehindTheProxyBootsUnderItsOwnAddress() async throws {
        try await withProxiedGateway { client, gateway, _ in
            // Version 2 on one connection, version 1 on another: both are accepted.
            let v2 = try await TestProxy.start(
                upstreamPort: gateway.port, header: TestProxy.v2(from: [203, 0, 113, 7]))
            let v1 = try await TestProxy.start(
                upstreamPort: gateway.port, header: Array("PROXY TCP4 198.51.100.9 10.0.0.1 40000 3000\r\n".utf8))
            defer {
                v2.stop()
                v1.stop()
            }
            for (identity, proxy, address) in [("CP-V2", v2, "203.0.113.7"), ("CP-V1", v1, "198.51.100.9")] {
                let station = try await TestStation.connect(port: proxy.port, identity: identity)
                #expect(try await station.callResult("BootNotification", Self.boot)["status"] == "Accepted")
                // The session records the client's address, not the proxy's.
                let recorded = try await client.scalar(
                    """
                    SELECT remote_address::text FROM ocpp.station_sessions s JOIN ocpp.stations t ON t.id = s.station_id
                    WHERE t.identity = \(identity)
                    """, as: String.self)
                #expect(recorded.hasPrefix(address), "\(recorded)")
                await station.close()
            }
            // The proxy's health check: LOCAL, the socket's own address stands.
            let health = try await TestProxy.start(upstreamPort: gateway.port, header: TestProxy.v2Local)
            defer { health.stop() }
            #expect(try await RawHTTP.get(port: health.port, path: "/healthz").status == 200)
        }
    }

    @Test func aConnectionWithoutTheHeaderIsClosed() async throws {
        let registry = PrometheusCollectorRegistry()
        try await withProxiedGateway(prometheus: registry) { _, gateway, _ in
            // Straight to the gateway, bypassing the proxy: no answer, the connection closes.
            let answer = try await RawHTTP.untilClosed(
                port: gateway.port, sending: "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(answer.isEmpty)
            // A header that is not one: closed too.
            let broken = try await RawHTTP.untilClosed(
                port: gateway.port, sending: "PROXY TCP4 999.0.113.7 10.0.0.1 1 2\r\nGET /healthz HTTP/1.1\r\n\r\n")
            #expect(broken.isEmpty)
            // Half a header, then silence: closed at the timeout (the header's or the
            // handshake's, whichever comes first: counted as malformed or not).
            let silent = try await RawHTTP.untilClosed(port: gateway.port, sending: "PROXY TCP4 203.0")
            #expect(silent.isEmpty)
            let metrics = Self.text(of: registry)
            #expect(metrics.contains(#"ocpp_gateway_proxy_protocol_rejected_total{reason="missing"} 1"#), "\(metrics)")
            #expect(
                metrics.contains(#"ocpp_gateway_proxy_protocol_rejected_total{reason="malformed"}"#), "\(metrics)")
        }
    }

    @Test func failedLoginsFromOneClientDoNotSlowAnotherBehindTheSameProxy() async throws {
        let registry = PrometheusCollectorRegistry()
        try await withProxiedGateway(prometheus: registry, configure: { $0.auth = .basic }) { client, gateway, _ in
            try await Self.addStation(client, "CP-A")
            try await Self.addStation(client, "CP-B")
            let attacker = try await TestProxy.start(
                upstreamPort: gateway.port, header: TestProxy.v2(from: [203, 0, 113, 66]))
            let neighbour = try await TestProxy.start(
                upstreamPort: gateway.port, header: TestProxy.v2(from: [198, 51, 100, 20]))
            defer {
                attacker.stop()
                neighbour.stop()
            }
            func throttled() -> Int { Self.counter("ocpp_gateway_auth_throttled_total", in: registry) }
            // Four wrong passwords for CP-A from one client: three are free, the fourth
            // waits, and so will the next attempt from that client.
            for _ in 0..<4 {
                let refused = try await RawHTTP.upgrade(
                    port: attacker.port, path: "/ocpp/CP-A", authorization: RawHTTP.basic("CP-A", "wrong-password-000"))
                #expect(refused.status == 401)
            }
            #expect(throttled() == 1)
            // Both proxies connect from 127.0.0.1: only the header tells the clients apart.
            // The same identity and another, from another client: neither waits.
            for identity in ["CP-A", "CP-B"] {
                let accepted = try await RawHTTP.upgrade(
                    port: neighbour.port, path: "/ocpp/\(identity)",
                    authorization: RawHTTP.basic(identity, Self.password))
                #expect(accepted.status == 101)
                #expect(throttled() == 1, "\(identity) was throttled")
            }
            // The attacker's own client is slowed down, even with the right password.
            let clock = ContinuousClock()
            let start = clock.now
            let late = try await RawHTTP.upgrade(
                port: attacker.port, path: "/ocpp/CP-A", authorization: RawHTTP.basic("CP-A", Self.password))
            #expect(late.status == 101)
            #expect(throttled() == 2)
            #expect(clock.now - start >= .milliseconds(900))
        }
    }

    @Test func thePerAddressLimitCountsTheClientsAddress() async throws {
        try await withProxiedGateway(configure: { $0.maxConnectionsPerAddress = 1 }) { _, gateway, _ in
            let busy = try await TestProxy.start(
                upstreamPort: gateway.port, header: TestProxy.v2(from: [203, 0, 113, 1]))
            let other = try await TestProxy.start(
                upstreamPort: gateway.port, header: TestProxy.v2(from: [203, 0, 113, 2]))
            defer {
                busy.stop()
                other.stop()
            }
            let first = try await TestStation.connect(port: busy.port, identity: "CP-1")
            // A second connection from the same client is over its limit: closed unanswered.
            await #expect(throws: (any Error).self) {
                _ = try await RawHTTP.upgrade(port: busy.port, path: "/ocpp/CP-2")
            }
            // Another client behind the same proxy (the same socket address) connects.
            let second = try await TestStation.connect(port: other.port, identity: "CP-3")
            _ = try await first.callResult("Heartbeat", [:])
            _ = try await second.callResult("Heartbeat", [:])
            await first.close()
            await second.close()
        }
    }

    @Test func theTLSListenerReadsTheHeaderBeforeTheClientHello() async throws {
        let pki = try TestPKI()
        let files = try TLSFileSet()
        defer { files.remove() }
        try files.write(server: try pki.server())
        try await withProxiedGateway(configure: { $0.tls = files.settings() }) { _, gateway, _ in
            let tlsPort = try #require(gateway.tlsPort)
            let proxy = try await TestProxy.start(upstreamPort: tlsPort, header: TestProxy.v2(from: [203, 0, 113, 8]))
            defer { proxy.stop() }
            let station = try await TestStation.connect(
                port: proxy.port, identity: "CP-TLS", tls: try pki.clientConfiguration())
            #expect(try await station.callResult("BootNotification", Self.boot)["status"] == "Accepted")
            await station.close()
            // Without the header the ClientHello is refused as no header.
            let direct = try await RawHTTP.untilClosed(port: tlsPort, sending: "\u{16}\u{03}\u{01}\u{00}")
            #expect(direct.isEmpty)
        }
    }

    // MARK: Helpers

    private func withProxiedGateway(
        prometheus: PrometheusCollectorRegistry? = nil,
        configure: @escaping @Sendable (inout GatewaySettings) -> Void = { _ in },
        _ body: @Sendable (PostgresClient, GatewayHarness, PostgresClient.Configuration) async throws -> Void
    ) async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let start = {
                try await GatewayHarness.start(database: configuration, prometheus: prometheus ?? .init()) {
                    $0.proxyProtocol = .on
                    // Long enough for a throttled login (1 s), short for a silent client.
                    $0.handshakeTimeout = .seconds(3)
                    configure(&$0)
                }
            }
            let gateway =
                if let prometheus {
                    try await withMetricsFactory(PrometheusMetricsFactory(registry: prometheus)) { try await start() }
                } else {
                    try await start()
                }
            do {
                try await body(client, gateway, configuration)
            } catch {
                try? await gateway.stop()
                throw error
            }
            try await gateway.stop()
        }
    }

    private static func addStation(_ client: PostgresClient, _ identity: String) async throws {
        let hash = try PasswordHash.make(password: Self.password)
        try await client.query(
            """
            INSERT INTO ocpp.stations (identity, registration_status, password_hash)
            VALUES (\(identity), 'Accepted', \(hash))
            """, logger: TestDatabase.logger)
    }

    /// The value of an unlabelled counter, 0 before its first increment.
    private static func counter(_ name: String, in registry: PrometheusCollectorRegistry) -> Int {
        let line = text(of: registry).split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    private static func text(of registry: PrometheusCollectorRegistry) -> String {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A TCP proxy on 127.0.0.1: for each connection it opens one to the upstream port,
/// writes `header` first, then relays bytes both ways until either side closes.
final class TestProxy: Sendable {
    let port: Int
    private let server: any Channel

    private init(port: Int, server: any Channel) {
        self.port = port
        self.server = server
    }

    /// A version 2 PROXY header for a TCP over IPv4 client at `address`, port 40000.
    static func v2(from address: [UInt8]) -> [UInt8] {
        ProxyProtocolTests.v2IPv4(source: address, sourcePort: 40_000)
    }

    /// The version 2 LOCAL header of a proxy's own health check.
    static let v2Local = ProxyProtocolTests.v2(command: 0x0, family: 0x0, payload: [])

    static func start(upstreamPort: Int, header: [UInt8]) async throws -> TestProxy {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: upstreamPort)
                    .flatMap { outbound in
                        inbound.eventLoop.makeCompletedFuture {
                            let (toInbound, toOutbound) = Relay.pair()
                            try inbound.pipeline.syncOperations.addHandler(toOutbound)
                            try outbound.pipeline.syncOperations.addHandler(toInbound)
                            toOutbound.partner = outbound
                            toInbound.partner = inbound
                            // The child channel reads only once this initializer is done,
                            // so the header goes out before any byte of the client's.
                            outbound.writeAndFlush(ByteBuffer(bytes: header), promise: nil)
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestProxy(port: server.localAddress?.port ?? 0, server: server)
    }

    func stop() {
        server.close(promise: nil)
    }

    /// Writes what its channel reads to the partner channel, and closes the partner when
    /// its own channel closes.
    private final class Relay: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var partner: (any Channel)?

        static func pair() -> (Relay, Relay) { (Relay(), Relay()) }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            partner?.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner?.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
