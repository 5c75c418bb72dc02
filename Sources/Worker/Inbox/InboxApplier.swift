import Foundation
import Logging
import OCPP
import PostgresNIO

/// Applies one batch of work rows: claim, apply, mark processed, in one transaction.
///
/// Claiming locks the oldest unprocessed rows `FOR UPDATE SKIP LOCKED`, so workers
/// take disjoint batches without waiting for each other. Because the rows are marked
/// processed in the transaction that applied them, a worker that dies mid-batch
/// (even `kill -9`) loses its connection, the transaction rolls back, the locks are
/// released, and another worker applies the same rows: nothing lost, nothing twice.
///
/// A row the database refuses (a value outside its column's range, a station deleted
/// meanwhile: SQLSTATE classes 22 and 23), or whose payload the protocol core cannot
/// read (``UnreadableWorkRow``: its payload, or an action the core does not know),
/// must not block the rows behind it forever:
/// the batch is then applied row by row, each in a savepoint, and a refused row is
/// marked processed with the reason in `apply_error`.
struct InboxApplier: Sendable {
    let client: PostgresClient
    let batchSize: Int
    let metrics: WorkerMetrics
    let logger: Logger

    /// In the order they run; ``StationStateHandler`` last (it locks the hottest rows).
    let handlers: [any InboxHandler]

    /// `certificateSigning`: the CA that signs SignCertificate requests (nil: none).
    init(
        client: PostgresClient, batchSize: Int, metrics: WorkerMetrics, logger: Logger,
        certificateSigning: CertificateSigning? = nil
    ) {
        self.client = client
        self.batchSize = batchSize
        self.metrics = metrics
        self.logger = logger
        self.handlers = [
            MeterValuesHandler(), StatusNotificationHandler(), TransactionHandler(), StationEventHandler(),
            SignCertificateHandler(signing: certificateSigning), StationStateHandler(),
            // Last: one NOTIFY per batch for the web console's live pages.
            ConsoleNotifyHandler(),
        ]
    }

    static let claimSQL = """
        SELECT id, received_at, kind, action
        FROM ocpp.inbox
        WHERE processed_at IS NULL
        ORDER BY id
        LIMIT $1
        FOR UPDATE SKIP LOCKED
        """

    static let markProcessedSQL = """
        UPDATE ocpp.inbox SET processed_at = now()
        WHERE id = ANY($1::bigint[]) AND received_at BETWEEN $2 AND $3
        """

    static let recordFailuresSQL = """
        UPDATE ocpp.inbox AS i SET apply_error = f.error
        FROM unnest($1::bigint[], $2::text[]) AS f (id, error)
        WHERE i.id = f.id AND i.received_at BETWEEN $3 AND $4
        """

    /// Applies the next batch; returns it (empty when nothing was waiting).
    @discardableResult
    func applyNextBatch() async throws -> ClaimedBatch {
        let started = ContinuousClock.now
        let batch = try await client.withTransaction(logger: logger) { connection in
            let claimed = try await claim(on: connection)
            guard !claimed.batch.isEmpty else { return claimed.batch }
            let failures = try await apply(claimed, on: connection)
            _ = try await connection.query(claimed.batch.query(Self.markProcessedSQL), logger: logger).collect()
            if !failures.isEmpty {
                try await record(failures, of: claimed.batch, on: connection)
            }
            return claimed.batch
        }
        if !batch.isEmpty {
            metrics.applied(batch, duration: ContinuousClock.now - started)
        }
        return batch
    }

    private func claim(on connection: PostgresConnection) async throws -> ClaimedRows {
        var ids: [Int64] = []
        var receivedAt: [Date] = []
        var kinds: [ClaimedRowKind] = []
        var counts: [OCPPAction: Int] = [:]
        var events: [ConnectionEvent: Int] = [:]
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: Self.claimSQL, binds: Self.bindings(batchSize)), logger: logger)
        for try await (id, received, kind, action) in rows.decode((Int64, Date, String, String?).self) {
            let row = ClaimedRowKind(id: id, kind: kind, action: action)
            ids.append(id)
            receivedAt.append(received)
            kinds.append(row)
            switch row {
            case .call(let action): counts[action, default: 0] += 1
            case .event(let event): events[event, default: 0] += 1
            case .unreadable: break
            }
        }
        let batch = ClaimedBatch(
            ids: ids, earliest: receivedAt.min() ?? Date(), latest: receivedAt.max() ?? Date(),
            countsByAction: counts, countsByEvent: events)
        return ClaimedRows(batch: batch, receivedAt: receivedAt, kinds: kinds)
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
                refused.append(RefusedRow(id: single.ids[0], error: reason))
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

    private func record(
        _ refused: [RefusedRow], of batch: ClaimedBatch, on connection: PostgresConnection
    )
        async throws
    {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(refused.map(\.id))
        bindings.append(refused.map(\.error))
        bindings.append(batch.earliest.addingTimeInterval(-0.001))
        bindings.append(batch.latest.addingTimeInterval(0.001))
        _ = try await connection.query(
            PostgresQuery(unsafeSQL: Self.recordFailuresSQL, binds: bindings), logger: logger
        ).collect()
    }

    private static func bindings(_ value: Int) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(value)
        return bindings
    }
}

/// What a claimed row holds, read once from its stored `kind` and `action`.
private enum ClaimedRowKind: Sendable, CustomStringConvertible {
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

/// A claimed batch with each row's receive time and kind, for applying it row by row.
private struct ClaimedRows: Sendable {
    var batch: ClaimedBatch
    var receivedAt: [Date]
    var kinds: [ClaimedRowKind]

    var unreadable: [UnreadableWorkRow] { kinds.compactMap(\.unreadable) }

    func row(at index: Int) -> ClaimedBatch {
        var row = ClaimedBatch(
            ids: [batch.ids[index]], earliest: receivedAt[index], latest: receivedAt[index], countsByAction: [:])
        switch kinds[index] {
        case .call(let action): row.countsByAction[action] = 1
        case .event(let event): row.countsByEvent[event] = 1
        case .unreadable: break
        }
        return row
    }
}

private struct RefusedRow: Sendable {
    var id: Int64
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
