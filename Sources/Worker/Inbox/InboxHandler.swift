import Logging
import OCPP
import PostgresNIO

/// Applies the work rows of some actions to the domain tables, inside the batch's
/// transaction (invariant 5): every handler is an idempotent, order-free upsert, so
/// rows applied in any order, or applied again, end in the same state.
///
/// Each handler is one or two set-based statements over the whole batch; the
/// payloads never leave the database. Statements lock rows in key order where two
/// workers may touch the same rows, so that they wait for each other instead of
/// deadlocking.
protocol InboxHandler: Sendable {
    /// The actions this handler applies; a batch without any of them, and without
    /// any of ``events``, skips it. A handler with neither runs for every batch.
    var actions: Set<OCPPAction> { get }
    /// The connect and disconnect rows this handler applies (most apply none).
    var events: Set<ConnectionEvent> { get }
    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws
}

extension InboxHandler {
    var events: Set<ConnectionEvent> { [] }

    /// Whether `batch` holds rows this handler applies.
    func applies(to batch: ClaimedBatch) -> Bool {
        (actions.isEmpty && events.isEmpty) || batch.contains(anyOf: actions) || batch.contains(anyOf: events)
    }

    /// Runs `sql` over the batch and drains its result.
    func execute(
        _ sql: String, _ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger
    )
        async throws
    {
        _ = try await connection.query(batch.query(sql), logger: logger).collect()
    }

    /// `action IN ('A', 'B')` for this handler's actions (names from the OCPP action
    /// list, never from the wire).
    var actionFilter: String {
        "action IN (" + Self.quotedList(actions.map(\.rawValue)) + ")"
    }

    /// The rows this handler applies, as a condition: its actions, or its connect and
    /// disconnect rows (which have no action, only a kind).
    var rowFilter: String {
        var terms: [String] = []
        if !actions.isEmpty { terms.append(actionFilter) }
        if !events.isEmpty { terms.append("kind IN (" + Self.quotedList(events.map(\.rawValue)) + ")") }
        return terms.isEmpty ? "true" : "(" + terms.joined(separator: " OR ") + ")"
    }

    private static func quotedList(_ names: [String]) -> String {
        names.sorted().map { "'\($0)'" }.joined(separator: ", ")
    }
}
