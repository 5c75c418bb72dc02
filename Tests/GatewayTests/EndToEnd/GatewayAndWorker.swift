import PostgresNIO
import TestSupport

/// The whole system for an end-to-end test: a fresh, migrated database with a real
/// gateway and a real worker on it. Both are stopped afterwards, also when `body`
/// throws.
func withGatewayAndWorker(
    _ body: @Sendable (PostgresClient, GatewayHarness) async throws -> Void
) async throws {
    try await TestDatabase.withFreshDatabase { client, configuration in
        _ = try await TestDatabase.migrate(client)
        let gateway = try await GatewayHarness.start(database: configuration)
        let worker: WorkerHarness
        do {
            worker = try await WorkerHarness.start(database: configuration)
        } catch {
            try? await gateway.stop()
            throw error
        }
        do {
            try await body(client, gateway)
        } catch {
            try? await worker.stop()
            try? await gateway.stop()
            throw error
        }
        try await gateway.stop()
        try await worker.stop()
    }
}
