import Foundation
import Logging
import OCPP
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Shared
import TestSupport

@testable import Gateway

/// Real gateway instances for end-to-end tests, in this process, on port 0, against
/// a test database.
struct GatewayHarness {
    let gatewayID: String
    private let running: RunningServiceGroup
    /// The `wss://` listener's port, when the settings configure TLS.
    let tlsPort: Int?

    var port: Int { running.port }

    /// Starts a gateway; `configure` adjusts its settings.
    static func start(
        database: PostgresClient.Configuration, gatewayID: String = "test-\(UUID().uuidString.prefix(8).lowercased())",
        prometheus: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        configure: (inout GatewaySettings) -> Void = { _ in }
    ) async throws -> GatewayHarness {
        var settings = GatewaySettings(gatewayID: gatewayID, database: database)
        settings.host = "127.0.0.1"
        settings.port = 0
        // Tests stop gateways all the time; a spread-out drain would only slow them.
        settings.drainDuration = .zero
        // Past this, ServiceLifecycle's fatal error ends the whole test process, not one
        // test: a service slow to end once cancelled gets 60 s here, not 2 s.
        settings.cancellationTimeout = .seconds(60)
        // Most tests are about what stations send, not how they log in: the development
        // settings, chosen here explicitly (the defaults are secure). The security
        // tests set their own.
        settings.useDevelopmentAccess()
        configure(&settings)
        var logger = Logger(label: "gateway-\(gatewayID)")
        logger.logLevel = .warning
        var application = GatewayApplication(
            settings: settings, logger: logger, prometheus: prometheus)
        let (tlsPorts, tlsPortContinuation) = AsyncStream<Int>.makeStream()
        application.onTLSServerRunning = { port in
            tlsPortContinuation.yield(port)
            tlsPortContinuation.finish()
        }
        let running = try await RunningServiceGroup.start { onServerRunning in
            application.onServerRunning = onServerRunning
            return try application.makeServiceGroup()
        }
        var tlsPort: Int?
        if settings.tls != nil {
            var iterator = tlsPorts.makeAsyncIterator()
            tlsPort = await iterator.next()
        }
        return GatewayHarness(gatewayID: gatewayID, running: running, tlsPort: tlsPort)
    }

    /// Graceful shutdown, as on SIGTERM; waits until every service has stopped.
    func stop() async throws {
        try await running.stop()
    }
}

extension GatewayHarness {
    /// A fresh, migrated database with a gateway on it for `body`; the gateway is
    /// stopped afterwards, also when `body` throws.
    static func withGateway(
        configure: @escaping @Sendable (inout GatewaySettings) -> Void = { _ in },
        _ body: @Sendable (PostgresClient, PostgresClient.Configuration, GatewayHarness) async throws -> Void
    ) async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let gateway = try await GatewayHarness.start(database: configuration, configure: configure)
            do {
                try await body(client, configuration, gateway)
            } catch {
                try? await gateway.stop()
                throw error
            }
            try await gateway.stop()
        }
    }
}

extension GatewaySettings {
    /// What `scripts/run` sets for the local demo: stations without a password
    /// connect without credentials, unknown stations are registered Accepted, every
    /// id tag is Accepted.
    mutating func useDevelopmentAccess() {
        auth = .insecureNone
        registrationPolicy = .open
        authorizationPolicy = .open
    }
}
