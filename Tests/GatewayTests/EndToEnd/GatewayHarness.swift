import Foundation
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Shared

@testable import Gateway

/// Real gateway instances for end-to-end tests, in this process, on port 0, against
/// a test database.
struct GatewayHarness {
    let gatewayID: String
    private let running: RunningServiceGroup

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
        configure(&settings)
        var logger = Logger(label: "gateway-\(gatewayID)")
        logger.logLevel = .warning
        var application = GatewayApplication(
            settings: settings, logger: logger, prometheus: prometheus)
        let running = try await RunningServiceGroup.start { onServerRunning in
            application.onServerRunning = onServerRunning
            return application.makeServiceGroup()
        }
        return GatewayHarness(gatewayID: gatewayID, running: running)
    }

    /// Graceful shutdown, as on SIGTERM; waits until every service has stopped.
    func stop() async throws {
        try await running.stop()
    }
}
