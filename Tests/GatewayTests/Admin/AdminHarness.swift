import Foundation
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import TestSupport

@testable import Worker

/// A real worker with its admin API on a port of its own (port 0), as
/// `ocpp-worker run` starts it with OCPP_ADMIN_TOKEN set.
struct AdminHarness {
    static let token = "test-admin-token-0123456789"

    private let running: RunningServiceGroup

    /// A client that sends the right token.
    var client: AdminClient { AdminClient(port: running.port, token: Self.token) }

    /// The same listener, for requests with another token or none.
    func client(token: String?) -> AdminClient { AdminClient(port: running.port, token: token) }

    static func start(database: PostgresClient.Configuration) async throws -> AdminHarness {
        var settings = WorkerSettings(database: database, workerID: "admin-test-worker")
        settings.host = "127.0.0.1"
        settings.port = 0
        settings.migrateAtStart = false
        settings.admin.port = 0
        settings.admin.token = token
        var logger = Logger(label: "admin-test-worker")
        logger.logLevel = .warning
        var application = WorkerApplication(
            settings: settings, logger: logger, prometheus: PrometheusCollectorRegistry())
        try await application.prepareDatabase()
        let running = try await RunningServiceGroup.start { onServerRunning in
            application.onAdminServerRunning = onServerRunning
            return application.makeServiceGroup()
        }
        return AdminHarness(running: running)
    }

    func stop() async throws {
        try await running.stop()
    }

    /// A fresh, migrated database with a worker and its admin API on it for `body`.
    static func withAdmin(
        _ body: @Sendable (PostgresClient, PostgresClient.Configuration, AdminHarness) async throws -> Void
    ) async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let admin = try await AdminHarness.start(database: configuration)
            do {
                try await body(client, configuration, admin)
            } catch {
                try? await admin.stop()
                throw error
            }
            try await admin.stop()
        }
    }
}
