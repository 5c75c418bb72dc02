import Foundation
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle

@testable import Worker

/// A real worker for end-to-end tests, in this process, its HTTP endpoint on port 0,
/// against a test database the caller has already migrated (as ``GatewayHarness``
/// does for the gateway).
struct WorkerHarness {
    private let running: RunningServiceGroup

    var port: Int { running.port }

    /// Which of the worker's listeners ``port`` is.
    enum Listener {
        /// `/healthz`, `/readyz`, `/metrics`.
        case health
        /// The admin API (its settings must turn it on).
        case admin
    }

    /// Starts a worker as `ocpp-worker run` does (database preparation, then the
    /// service group), without migrations; `configure` adjusts its settings.
    static func start(
        database: PostgresClient.Configuration, workerID: String = "test-worker", listener: Listener = .health,
        configure: (inout WorkerSettings) -> Void = { _ in }
    ) async throws -> WorkerHarness {
        var settings = WorkerSettings(database: database, workerID: workerID)
        settings.host = "127.0.0.1"
        settings.port = 0
        // The test has migrated the database; a second runner would only wait for the lock.
        settings.migrateAtStart = false
        // Past this, ServiceLifecycle's fatal error ends the whole test process, not one
        // test: a service slow to end once cancelled gets 60 s here, not 2 s.
        settings.cancellationTimeout = .seconds(60)
        configure(&settings)
        var logger = Logger(label: "worker-\(workerID)")
        logger.logLevel = .warning
        var application = WorkerApplication(
            settings: settings, logger: logger, prometheus: PrometheusCollectorRegistry())
        try await application.prepareDatabase()
        let running = try await RunningServiceGroup.start { onServerRunning in
            switch listener {
            case .health: application.onServerRunning = onServerRunning
            case .admin: application.onAdminServerRunning = onServerRunning
            }
            return application.makeServiceGroup()
        }
        return WorkerHarness(running: running)
    }

    /// Graceful shutdown, as on SIGTERM; waits until every service has stopped.
    func stop() async throws {
        try await running.stop()
    }
}
