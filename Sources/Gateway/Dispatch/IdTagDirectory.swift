import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared

/// What the database knows about one id tag: its row in `ocpp.id_tags` and the
/// transactions it has open.
struct IdTagRecord: Sendable, Hashable {
    /// The stored status.
    var status: AuthorizationStatus
    var expiryDate: Date?
    var parentIdTag: String?
    /// The transactions started with this tag (in any case) and not known to be
    /// stopped (at most ``PostgresIdTagDirectory/openTransactionLimit``); read only
    /// when asked for (StartTransaction's ConcurrentTx check).
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
///
/// Tags are matched case-insensitively (an IdToken is a CiString): `idTag` may differ
/// in case from the stored tag, and the record keeps the stored case
/// (``IdTagRecord/parentIdTag`` as provisioned).
protocol IdTagDirectory: Sendable {
    /// The tag's record, or `nil` when `ocpp.id_tags` does not know it. With
    /// `openTransactions` false the record's ``IdTagRecord/openTransactions`` is empty
    /// and not read; with true it holds the transactions open at the moment of the
    /// call, read with the tag in one statement.
    func record(for idTag: String, openTransactions: Bool) async throws -> IdTagRecord?
}

/// How id tags are folded for comparison: the ASCII letters A–Z to a–z, nothing else.
///
/// The same folding as SQL's `lower(x COLLATE "C")`, which is what every query and
/// index of id tags compares (migration 0013), whatever the database's locale: two
/// tags with equal keys are one tag to the database too, so a cache keyed by this
/// never answers one tag with another's record. Id tags are RFID UIDs and similar
/// ASCII; other letters compare as sent.
enum IdTagKey {
    static func folded(_ idTag: String) -> String {
        guard idTag.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return idTag }
        return String(
            decoding: idTag.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 },
            as: UTF8.self)
    }
}

/// ``IdTagDirectory`` on `ocpp.id_tags`, `ocpp.transaction_starts` and
/// `ocpp.transactions`, in one round trip.
///
/// ## Which row, when tags differ only in case
/// Every comparison is on the folded tag, `lower(id_tag COLLATE "C")`, which the
/// indexes of migration 0013 serve. That index on `id_tags` is not unique: rows that
/// differ only in case may exist (provisioned before tags were compared so). They are
/// one tag, and the lookup answers the most restrictive of them: a stored Blocked
/// before Expired, Invalid, ConcurrentTx and Accepted; among those, the earliest
/// `expiry_date` (none last); then the one spelled as sent. A block on one spelling
/// is not bypassed by a charger that reads the UID in the other case.
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
/// A transaction started as "abc123" is open for "ABC123" too. Both lookups use the
/// folded-tag indexes `transaction_starts_id_tag` and `transactions_open_id_tag`
/// (partial, `stopped_at IS NULL`).
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

    /// Bounded (``DatabaseAttempt``): the station's CALL waits for it, and the
    /// connection reads nothing meanwhile.
    func record(for idTag: String, openTransactions: Bool) async throws -> IdTagRecord? {
        try await DatabaseAttempt.run { [client, logger] in
            try await Self.record(for: idTag, openTransactions: openTransactions, client: client, logger: logger)
        }
    }

    private static func record(
        for idTag: String, openTransactions: Bool, client: PostgresClient, logger: Logger
    ) async throws -> IdTagRecord? {
        let rows = try await client.query(query(for: idTag, openTransactions: openTransactions), logger: logger)
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

    /// The lookup's statement: one row per open transaction (at least one, its
    /// transaction columns NULL when there is none), none for an unknown tag.
    static func query(for idTag: String, openTransactions: Bool) -> PostgresQuery {
        // With a LIMIT of 0 the lateral subquery is never run: the tag-only lookup
        // costs one index probe.
        let limit = openTransactions ? openTransactionLimit : 0
        return
            """
            SELECT t.status, t.expiry_date, t.parent_id_tag, o.transaction_id, o.station_id, o.connector_id
            FROM (
                SELECT i.status, i.expiry_date, i.parent_id_tag
                FROM ocpp.id_tags AS i
                WHERE lower(i.id_tag COLLATE "C") = lower(\(idTag) COLLATE "C")
                ORDER BY CASE i.status WHEN 'Blocked' THEN 0 WHEN 'Expired' THEN 1 WHEN 'Invalid' THEN 2
                                       WHEN 'ConcurrentTx' THEN 3 ELSE 4 END,
                         i.expiry_date NULLS LAST, i.id_tag = \(idTag) DESC, i.id_tag
                LIMIT 1
            ) AS t
            LEFT JOIN LATERAL (
                SELECT s.transaction_id::bigint AS transaction_id, s.station_id, s.connector_id
                FROM ocpp.transaction_starts AS s
                WHERE lower(s.id_tag COLLATE "C") = lower(\(idTag) COLLATE "C")
                  AND NOT EXISTS (
                      SELECT 1 FROM ocpp.transactions AS x
                      WHERE x.id = s.transaction_id AND x.stopped_at IS NOT NULL)
                UNION ALL
                SELECT x.id::bigint, x.station_id, x.connector_id
                FROM ocpp.transactions AS x
                WHERE lower(x.id_tag COLLATE "C") = lower(\(idTag) COLLATE "C") AND x.stopped_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM ocpp.transaction_starts AS s WHERE s.transaction_id = x.id)
                LIMIT \(limit)
            ) AS o ON true
            """
    }
}
