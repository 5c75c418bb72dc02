import Foundation
import PostgresNIO
import TestSupport
import Testing

/// Migration 0017 carries a journal written under the old rule (`processed_at` on
/// each row) forward to the cursors: what was applied stays applied, what was not
/// is applied next, refusals keep their reasons.
@Suite("Migrating the inbox journal to cursors")
struct JournalMigrationTests {
    @Test func rowsNotAppliedBeforeTheUpgradeArePendingAfterIt() async throws {
        let before = try MigrationTests.copyOfMigrations()
        defer { try? FileManager.default.removeItem(at: before) }
        for file in try FileManager.default.contentsOfDirectory(atPath: before.path)
        where (Int(file.prefix(4)) ?? 0) >= 17 {
            try FileManager.default.removeItem(at: before.appendingPathComponent(file))
        }
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client, directory: before)
            let station: Int64 = try await client.scalar(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-OLD', 'Accepted') RETURNING id")
            func journal(_ processed: Bool, error: String? = nil) async throws -> Int64 {
                try await client.scalar(
                    """
                    INSERT INTO ocpp.inbox (gateway_id, station_id, kind, action, message_id, payload, response,
                                            processed_at, apply_error)
                    VALUES ('old-gateway', \(station), 'call', 'Heartbeat', \(UUID().uuidString), '{}', '{}',
                            CASE WHEN \(processed) THEN now() END, \(error))
                    RETURNING id
                    """)
            }
            let applied = try await journal(true)
            let pending = try await journal(false)
            let refused = try await journal(true, error: "value out of range")
            let alsoPending = try await journal(false)

            let upgrade = try await TestDatabase.migrate(client)
            #expect(upgrade.contains { $0.hasPrefix("0017") })

            let stillPending: [Int64] = try await Self.ids("SELECT id FROM ocpp.inbox_pending ORDER BY id", client)
            #expect(stillPending == [pending, alsoPending])
            let refusals: [Int64] = try await Self.ids("SELECT inbox_id FROM ocpp.inbox_refusals", client)
            #expect(refusals == [refused])
            #expect(
                try await client.scalar(
                    "SELECT error FROM ocpp.inbox_refusals WHERE inbox_id = \(refused)", as: String.self)
                    == "value out of range")
            // A new row sorts after the carried-over ones.
            let new: Int64 = try await client.scalar(
                """
                INSERT INTO ocpp.inbox (gateway_id, station_id, kind, action, message_id, payload, response)
                VALUES ('new-gateway', \(station), 'call', 'Heartbeat', 'new', '{}', '{}') RETURNING id
                """)
            let order = try await Self.ids("SELECT id FROM ocpp.inbox_pending ORDER BY txid, id", client)
            #expect(order == [pending, alsoPending, new])
            #expect(!stillPending.contains(applied))
        }
    }

    private static func ids(_ sql: String, _ client: PostgresClient) async throws -> [Int64] {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger)
        var ids: [Int64] = []
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        return ids
    }
}
