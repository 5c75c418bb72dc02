import Foundation
import Logging
import PostgresNIO
import Shared

/// What the database knows about one id tag: its row in `ocpp.id_tags` and the
/// transactions it has open.
struct IdTagRecord: Sendable, Hashable {
    /// The stored status.
    var status: AuthorizationStatus
    var expiryDate: Date?
    var parentIdTag: String?
    /// The transactions started with this tag and not known to be stopped (at most
    /// ``PostgresIdTagDirectory/openTransactionLimit``).
    var openTransactions: [OpenTransaction]

    init(
        status: AuthorizationStatus, expiryDate: Date? = nil, parentIdTag: String? = nil,
        openTransactions: [OpenTransaction] = []
    ) {
        self.status = status
        self.expiryDate = expiryDate
        self.parentIdTag = parentIdTag
        self.openTransactions = openTransactions
    }
}

/// A transaction an id tag started that has no stop on record yet.
struct OpenTransaction: Sendable, Hashable {
    var transactionID: Int64
    var stationID: Int64
    /// `nil` only for a `ocpp.transactions` row whose start is not known.
    var connectorID: Int?
}

/// Where ``IdTagAuthorizer`` reads id tags: the database in production, a fake in
/// unit tests.
protocol IdTagDirectory: Sendable {
    /// The tag's record, or `nil` when `ocpp.id_tags` does not know it.
    func record(for idTag: String) async throws -> IdTagRecord?
}

/// ``IdTagDirectory`` on `ocpp.id_tags`, `ocpp.transaction_starts` and
/// `ocpp.transactions`, in one round trip.
///
/// ## Which transactions are open
/// `ocpp.transactions` is filled by the worker from the work rows, so it lags the
/// wire: a transaction started a moment ago may not be there yet. Its start is,
/// though: the gateway's batch statement allocates every transaction id in
/// `ocpp.transaction_starts` before the StartTransaction is acknowledged. So a
/// transaction is open when
/// - it has a `transaction_starts` row for the tag and no `transactions` row with
///   `stopped_at` set (the start is known at once; the stop once a worker has applied
///   it, so for the worker's lag after a stop the tag still counts as busy: the safe
///   side, it never lets one tag run two transactions), or
/// - it has a `transactions` row for the tag with `stopped_at IS NULL` and no
///   `transaction_starts` row (a start row pruned or never there, as for
///   transactions imported from another system).
///
/// Both lookups filter on the id tag: they want indexes on
/// `transaction_starts (id_tag)` and on `transactions (id_tag) WHERE stopped_at IS
/// NULL` on a large installation.
struct PostgresIdTagDirectory: IdTagDirectory {
    /// The most open transactions read for one tag; one is enough to refuse, a few
    /// more let StartTransaction see past stale ones on its own connector.
    static let openTransactionLimit = 16

    var client: PostgresClient
    var logger: Logger

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func record(for idTag: String) async throws -> IdTagRecord? {
        let limit = Self.openTransactionLimit
        let rows = try await client.query(
            """
            SELECT t.status, t.expiry_date, t.parent_id_tag, o.transaction_id, o.station_id, o.connector_id
            FROM ocpp.id_tags AS t
            LEFT JOIN LATERAL (
                SELECT s.transaction_id::bigint AS transaction_id, s.station_id, s.connector_id
                FROM ocpp.transaction_starts AS s
                WHERE s.id_tag = t.id_tag
                  AND NOT EXISTS (
                      SELECT 1 FROM ocpp.transactions AS x
                      WHERE x.id = s.transaction_id AND x.stopped_at IS NOT NULL)
                UNION ALL
                SELECT x.id::bigint, x.station_id, x.connector_id
                FROM ocpp.transactions AS x
                WHERE x.id_tag = t.id_tag AND x.stopped_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM ocpp.transaction_starts AS s WHERE s.transaction_id = x.id)
                LIMIT \(limit)
            ) AS o ON true
            WHERE t.id_tag = \(idTag)
            """,
            logger: logger)
        var record: IdTagRecord?
        for try await (status, expiryDate, parentIdTag, transactionID, stationID, connectorID) in rows.decode(
            (String, Date?, String?, Int64?, Int64?, Int32?).self)
        {
            if record == nil {
                // The column's CHECK constraint allows only the five statuses.
                record = IdTagRecord(
                    status: AuthorizationStatus(rawValue: status) ?? .invalid, expiryDate: expiryDate,
                    parentIdTag: parentIdTag)
            }
            if let transactionID, let stationID {
                record?.openTransactions.append(
                    OpenTransaction(
                        transactionID: transactionID, stationID: stationID, connectorID: connectorID.map(Int.init)))
            }
        }
        return record
    }
}
