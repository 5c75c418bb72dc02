import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared
import TestSupport

@testable import Worker

/// Writes work rows the way a gateway does and applies them with the real
/// ``InboxApplier``, on a fresh database of ``TestDatabase``.
struct InboxFixture: Sendable {
    let client: PostgresClient
    /// The CA the applier signs SignCertificate requests with (nil: none).
    var certificateSigning: CertificateSigning?

    /// A work row as a gateway writes it (see the gateway's ingest batch statement).
    struct Row: Sendable {
        var kind = "call"
        var action: String?
        var messageID: String? = UUID().uuidString
        /// JSON text of the CALL's payload, or of the connect/disconnect details.
        var payload: String
        /// JSON text of the answer the gateway gave.
        var response: String? = "{}"
        var stationTime: Date?
        var receivedAt = Date()

        static func call(
            _ action: String, _ payload: String, response: String = "{}", stationTime: Date? = nil,
            receivedAt: Date = Date()
        ) -> Row {
            Row(action: action, payload: payload, response: response, stationTime: stationTime, receivedAt: receivedAt)
        }
    }

    /// A fresh database with the schema applied.
    static func withFixture<Result: Sendable>(
        _ body: @Sendable (InboxFixture) async throws -> Result
    ) async throws -> Result {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            return try await body(InboxFixture(client: client))
        }
    }

    /// Registers a station (Accepted) and returns its id.
    @discardableResult
    func station(_ identity: String) async throws -> Int64 {
        try await client.scalar(
            """
            INSERT INTO ocpp.stations (identity, registration_status) VALUES (\(identity), 'Accepted')
            ON CONFLICT (identity) DO UPDATE SET identity = excluded.identity
            RETURNING id
            """)
    }

    /// Allocates the transaction id of a start, as the gateway's batch statement does.
    func allocateTransaction(
        station: Int64, connector: Int, idTag: String, startedAt: Date, meterStart: Int
    ) async throws -> Int32 {
        try await client.scalar(
            """
            INSERT INTO ocpp.transaction_starts AS t (station_id, connector_id, id_tag, started_at, meter_start)
            VALUES (\(station), \(Int32(connector)), \(idTag), \(startedAt), \(Int64(meterStart)))
            ON CONFLICT (station_id, connector_id, id_tag, started_at, meter_start)
                DO UPDATE SET meter_start = excluded.meter_start
            RETURNING t.transaction_id
            """)
    }

    /// Inserts work rows (unprocessed) for `station`; returns their inbox ids in order.
    @discardableResult
    func insert(_ rows: [Row], station: Int64) async throws -> [Int64] {
        var ids: [Int64] = []
        for row in rows {
            let id: Int64 = try await client.scalar(
                """
                INSERT INTO ocpp.inbox (received_at, gateway_id, station_id, kind, action, message_id, payload,
                                        response, station_time)
                VALUES (\(row.receivedAt), 'test-gateway', \(station), \(row.kind), \(row.action), \(row.messageID),
                        \(row.payload)::json, \(row.response)::jsonb, \(row.stationTime))
                RETURNING id
                """)
            ids.append(id)
        }
        return ids
    }

    /// Inserts and applies `rows` in this order: all in one batch, or each in a batch
    /// of its own (the order-free handlers must end in the same state either way).
    func apply(_ rows: [Row], station: Int64, inOneBatch: Bool) async throws {
        if inOneBatch {
            try await insert(rows, station: station)
            try await drain()
        } else {
            for row in rows {
                try await insert([row], station: station)
                try await drain()
            }
        }
    }

    func applier(batchSize: Int = 1000) -> InboxApplier {
        InboxApplier(
            client: client, batchSize: batchSize, metrics: WorkerMetrics(), logger: TestDatabase.logger,
            certificateSigning: certificateSigning)
    }

    /// Applies batches until the inbox has no unprocessed row; returns how many rows it applied.
    @discardableResult
    func drain(batchSize: Int = 1000) async throws -> Int {
        let applier = applier(batchSize: batchSize)
        var applied = 0
        while true {
            let batch = try await applier.applyNextBatch()
            if batch.isEmpty { return applied }
            applied += batch.ids.count
        }
    }
}
