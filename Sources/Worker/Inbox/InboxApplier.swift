import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared

/// Applies one batch of work rows: lease buckets, claim, apply, advance the
/// cursors, in one transaction.
///
/// The journal is append-only (migration 0017): what has been applied is a cursor
/// per bucket of stations. A batch leases buckets that have rows waiting by locking
/// their rows `FOR UPDATE SKIP LOCKED`, so workers take disjoint buckets without
/// waiting for each other, and claims the rows after the cursors in (txid, id)
/// order, only from transactions older than every one still running (a row can
/// then never appear behind a cursor). The cursors advance in the transaction that
/// applies the rows: a worker that dies mid-batch (even `kill -9`) loses its
/// connection, the transaction rolls back, the leases go, and another worker
/// applies the same rows: nothing lost, nothing twice.
///
/// A row the database refuses (a value outside its column's range, a station deleted
/// meanwhile: SQLSTATE classes 22 and 23), or whose payload the protocol core cannot
/// read (``UnreadableWorkRow``: its payload, or an action the core does not know),
/// must not block the rows behind it forever:
/// the batch is then applied row by row, each in a savepoint, and a refused row is
/// recorded in `inbox_refusals` with the reason, its cursor moving past it.
struct InboxApplier: Sendable {
    let client: PostgresClient
    let batchSize: Int
    /// Buckets of stations one batch leases (`WorkerSettings.leaseBuckets`).
    let leaseBuckets: Int
    let metrics: WorkerMetrics
    let logger: Logger

    /// In the order they run; ``StationStateHandler`` last (it locks the hottest rows).
    let handlers: [any InboxHandler]

    /// `certificateSigning`: the CA that signs SignCertificate requests (nil: none).
    init(
        client: PostgresClient, batchSize: Int, leaseBuckets: Int = WorkerSettings.defaultLeaseBuckets,
        metrics: WorkerMetrics, logger: Logger, certificateSigning: CertificateSigning? = nil
    ) {
        self.client = client
        self.batchSize = batchSize
        self.leaseBuckets = leaseBuckets
        self.metrics = metrics
        self.logger = logger
        self.handlers = [
            MeterValuesHandler(), StatusNotificationHandler(), TransactionHandler(), StationEventHandler(),
            SignCertificateHandler(signing: certificateSigning), StationStateHandler(),
            // Last: one NOTIFY per batch for the web console's live pages.
            ConsoleNotifyHandler(),
        ]
    }

    static let recordRefusalsSQL = """
        INSERT INTO ocpp.inbox_refusals (inbox_id, received_at, error)
        SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[])
        """

    /// Applies the next batch; returns it (empty when nothing was waiting).
    @discardableResult
    func applyNextBatch() async throws -> ClaimedBatch {
        let started = ContinuousClock.now
        let batch = try await client.withTransaction(leaseTimeout: DatabaseAttempt.defaultTimeout, logger: logger) {
            connection in
            let claimed = try await claim(on: connection)
            guard !claimed.batch.isEmpty else { return claimed.batch }
            let failures = try await apply(claimed, on: connection)
            if !failures.isEmpty {
                try await record(failures, on: connection)
            }
            return claimed.batch
        }
        if !batch.isEmpty {
            metrics.applied(batch, duration: ContinuousClock.now - started)
        }
        return batch
    }

    private func claim(on connection: PostgresConnection) async throws -> ClaimedRows {
        var buckets: [Int32] = []
        for try await bucket in try await connection.execute(
            LeaseBucketsStatement(limit: leaseBuckets), logger: logger)
        {
            buckets.append(bucket)
        }
        var claimed = ClaimedRows()
        // Each bucket's share of the batch, so that a bucket's read stops early.
        let perBucket = buckets.isEmpty ? 0 : (batchSize + buckets.count - 1) / buckets.count
        var rowsPerBucket: [Int32: Int] = [:]
        if !buckets.isEmpty {
            let claim = ClaimRowsStatement(buckets: buckets, limit: batchSize, perBucket: perBucket)
            for try await row in try await connection.execute(claim, logger: logger) {
                rowsPerBucket[row.bucket, default: 0] += 1
                claimed.append(
                    id: row.id, stationID: row.stationID, receivedAt: row.receivedAt, kind: row.kind,
                    action: row.action)
            }
        }
        // A backlog waits when the batch was cut short by its limits: full, or a
        // bucket gave its whole share. Buckets this lease left out are not one: if
        // their rows are as few as this lease's, the loop lets rows gather before
        // its next claim, as it does after any short batch (but waits for no notice).
        claimed.batch.mayHaveMore =
            claimed.batch.ids.count == batchSize || rowsPerBucket.values.contains(perBucket)
        claimed.batch.leftBucketsOut = buckets.count == leaseBuckets
        return claimed
    }

    /// Applies the batch; returns the rows refused one by one (empty when all went in).
    private func apply(_ claimed: ClaimedRows, on connection: PostgresConnection) async throws -> [RefusedRow] {
        try await connection.query("SAVEPOINT batch", logger: logger)
        do {
            try await runHandlers(claimed.batch, unreadable: claimed.unreadable, on: connection)
            return []
        } catch let error where Self.refusal(error) != nil {
            logger.warning(
                "a batch of \(claimed.batch.ids.count) rows was refused, applying it row by row: \(Self.refusal(error) ?? "")"
            )
            try await connection.query("ROLLBACK TO SAVEPOINT batch", logger: logger)
        }
        var refused: [RefusedRow] = []
        for index in claimed.batch.ids.indices {
            let single = claimed.row(at: index)
            try await connection.query("SAVEPOINT row", logger: logger)
            do {
                try await runHandlers(
                    single, unreadable: claimed.kinds[index].unreadable.map { [$0] } ?? [], on: connection)
                try await connection.query("RELEASE SAVEPOINT row", logger: logger)
            } catch let error where Self.refusal(error) != nil {
                let reason = Self.refusal(error) ?? ""
                try await connection.query("ROLLBACK TO SAVEPOINT row", logger: logger)
                logger.error(
                    "work row set aside: \(reason)",
                    metadata: ["inbox_id": "\(single.ids[0])", "action": "\(claimed.kinds[index])"])
                refused.append(RefusedRow(id: single.ids[0], receivedAt: claimed.receivedAt[index], error: reason))
            }
        }
        metrics.refused(refused.count)
        return refused
    }

    /// Why `error` refuses the rows for good (retrying them cannot succeed), or nil:
    /// data the database refuses, or a payload the protocol core cannot read.
    static func refusal(_ error: any Error) -> String? {
        if let error = error as? PSQLError, error.isRefusedData { return error.serverMessage }
        if let error = error as? UnreadableWorkRow { return error.description }
        return nil
    }

    /// Applies `batch`; with `unreadable` rows among it, refuses it as a payload the
    /// core cannot read is refused, so that the rows are applied one by one and
    /// those set aside.
    private func runHandlers(
        _ batch: ClaimedBatch, unreadable: [UnreadableWorkRow], on connection: PostgresConnection
    ) async throws {
        if let row = unreadable.first { throw row }
        for handler in handlers where handler.applies(to: batch) {
            try await handler.apply(batch, on: connection, logger: logger)
        }
    }

    private func record(_ refused: [RefusedRow], on connection: PostgresConnection) async throws {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(refused.map(\.id))
        bindings.append(refused.map(\.receivedAt))
        bindings.append(refused.map(\.error))
        _ = try await connection.query(
            PostgresQuery(unsafeSQL: Self.recordRefusalsSQL, binds: bindings), logger: logger
        ).collect()
    }
}

/// What a claimed row holds, read once from its stored `kind` and `action`.
enum ClaimedRowKind: Sendable, CustomStringConvertible {
    case call(OCPPAction)
    case event(ConnectionEvent)
    /// An action the protocol core does not know (a journal written by hand or by
    /// another version): no handler could apply it, now or at any retry.
    case unreadable(UnreadableWorkRow)

    init(id: Int64, kind: String, action: String?) {
        if let event = ConnectionEvent(rawValue: kind) {
            self = .event(event)
        } else if let action = action.flatMap(OCPPAction.init(rawValue:)) {
            self = .call(action)
        } else {
            let text = action ?? kind
            self = .unreadable(UnreadableWorkRow(inboxID: id, action: text, reason: "", unknownAction: true))
        }
    }

    var unreadable: UnreadableWorkRow? {
        if case .unreadable(let row) = self { return row }
        return nil
    }

    var description: String {
        switch self {
        case .call(let action): action.rawValue
        case .event(let event): event.rawValue
        case .unreadable(let row): row.action
        }
    }
}

/// A claimed batch with each row's station, receive time and kind, for applying
/// it row by row.
struct ClaimedRows: Sendable {
    var batch = ClaimedBatch(ids: [], earliest: .distantFuture, latest: .distantPast, countsByAction: [:])
    var stationIDs: [Int64] = []
    var receivedAt: [PostgresTimestamp] = []
    var kinds: [ClaimedRowKind] = []

    var unreadable: [UnreadableWorkRow] { kinds.compactMap(\.unreadable) }

    /// Adds a row, its stored kind and action read once.
    mutating func append(
        id: Int64, stationID: Int64, receivedAt time: PostgresTimestamp, kind: String, action: String?
    ) {
        let row = ClaimedRowKind(id: id, kind: kind, action: action)
        batch.ids.append(id)
        batch.earliest = min(batch.earliest, time.date)
        batch.latest = max(batch.latest, time.date)
        batch.count(row)
        batch.see(stationID, at: time)
        stationIDs.append(stationID)
        receivedAt.append(time)
        kinds.append(row)
    }

    func row(at index: Int) -> ClaimedBatch {
        let time = receivedAt[index]
        var row = ClaimedBatch(ids: [batch.ids[index]], earliest: time.date, latest: time.date, countsByAction: [:])
        row.count(kinds[index])
        row.see(stationIDs[index], at: time)
        return row
    }
}

extension ClaimedBatch {
    fileprivate mutating func count(_ row: ClaimedRowKind) {
        switch row {
        case .call(let action): countsByAction[action, default: 0] += 1
        case .event(let event): countsByEvent[event, default: 0] += 1
        case .unreadable: break
        }
    }

    fileprivate mutating func see(_ station: Int64, at time: PostgresTimestamp) {
        lastSeen[station] = max(lastSeen[station] ?? time, time)
    }
}

private struct RefusedRow: Sendable {
    var id: Int64
    var receivedAt: PostgresTimestamp
    var error: String
}

extension PSQLError {
    /// The server refused the data itself (data exception or integrity constraint,
    /// SQLSTATE classes 22 and 23): retrying the same rows cannot succeed.
    var isRefusedData: Bool {
        guard code == .server, let state = serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23")
    }

    var serverMessage: String {
        serverInfo?[.message] ?? String(reflecting: self)
    }
}
