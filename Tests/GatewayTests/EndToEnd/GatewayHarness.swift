import Foundation
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Shared
import Synchronization

@testable import Gateway

/// Real gateway instances for end-to-end tests, in this process, on port 0, against
/// a test database.
struct GatewayHarness {
    let port: Int
    let gatewayID: String
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// Starts a gateway; `configure` adjusts its settings.
    static func start(
        database: PostgresClient.Configuration, gatewayID: String = "test-\(UUID().uuidString.prefix(8).lowercased())",
        configure: (inout GatewaySettings) -> Void = { _ in }
    ) async throws -> GatewayHarness {
        var settings = GatewaySettings(gatewayID: gatewayID, database: database)
        settings.host = "127.0.0.1"
        settings.port = 0
        configure(&settings)
        var logger = Logger(label: "gateway-\(gatewayID)")
        logger.logLevel = .warning
        let prometheus = PrometheusCollectorRegistry()
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        var application = GatewayApplication(settings: settings, logger: logger, prometheus: prometheus)
        application.onServerRunning = { port in
            portContinuation.yield(port)
            portContinuation.finish()
        }
        let group = application.makeServiceGroup()
        let running = Task {
            // A group that ends before listening (a service failed) must not leave the
            // caller waiting for a port.
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError.didNotStart }
        return GatewayHarness(port: port, gatewayID: gatewayID, group: group, running: running)
    }

    /// Graceful shutdown, as on SIGTERM; waits until every service has stopped.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }

}

enum HarnessError: Error {
    case didNotStart
}
