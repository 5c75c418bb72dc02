import Foundation
import PostgresNIO
import TestSupport

@testable import Worker

/// A real worker with its admin API on a port of its own (port 0), as
/// `ocpp-worker run` starts it with OCPP_ADMIN_TOKEN set.
struct AdminHarness {
    static let token = "test-admin-token-0123456789"

    private let worker: WorkerHarness

    /// A client that sends the right token.
    var client: AdminClient { AdminClient(port: worker.port, token: Self.token) }

    /// The same listener, for requests with another token or none.
    func client(token: String?) -> AdminClient { AdminClient(port: worker.port, token: token) }

    static func start(database: PostgresClient.Configuration) async throws -> AdminHarness {
        let worker = try await WorkerHarness.start(
            database: database, workerID: "admin-test-worker", listener: .admin
        ) { settings in
            settings.admin.port = 0
            settings.admin.token = token
        }
        return AdminHarness(worker: worker)
    }

    func stop() async throws {
        try await worker.stop()
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
