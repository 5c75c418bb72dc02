import Foundation
import OCPP
import PostgresNIO
import Shared

/// A gateway's connect or disconnect row: its `kind`, which has no action.
enum ConnectionEvent: String, Sendable, Hashable, CaseIterable {
    case connected
    case disconnected
}

/// Inbox rows one worker has claimed (from the buckets it leased) in its open
/// transaction: their ids, the span of their receive times, and how many there are
/// of each action and of each connection event. The stored action text is read
/// once, at the claim; a row whose action the protocol core does not know is in
/// `ids` but in neither count (the applier sets it aside).
struct ClaimedBatch: Sendable {
    var ids: [Int64]
    var earliest: Date
    var latest: Date
    var countsByAction: [OCPPAction: Int]
    var countsByEvent: [ConnectionEvent: Int] = [:]
    /// The newest receive time of each station's rows, as the claim read them: the
    /// stations' last seen, with no second read of the journal.
    var lastSeen: [Int64: PostgresTimestamp] = [:]
    /// A backlog may be waiting that this batch could not take (it was full, or a
    /// bucket gave its whole share): the drain loop claims again at once rather
    /// than letting rows gather.
    var mayHaveMore = false
    /// The lease was full, so buckets with rows waiting may have been left out.
    var leftBucketsOut = false

    var isEmpty: Bool { ids.isEmpty }

    func contains(anyOf actions: Set<OCPPAction>) -> Bool {
        countsByAction.keys.contains { actions.contains($0) }
    }

    func contains(anyOf events: Set<ConnectionEvent>) -> Bool {
        countsByEvent.keys.contains { events.contains($0) }
    }

    /// `sql` with the batch bound as `$1` (ids) and `$2`, `$3` (the receive-time
    /// span, widened by a millisecond each side: the times made a round trip through
    /// `Date`, and the span only helps the planner skip partitions). Every handler
    /// reads its rows with ``rowsCTE``.
    func query(_ sql: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    /// The bindings of ``query(_:)``, for a prepared statement of the same form.
    var bindings: PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(ids)
        bindings.append(earliest.addingTimeInterval(-0.001))
        bindings.append(latest.addingTimeInterval(0.001))
        return bindings
    }

    /// The claimed rows, as a CTE named `batch`, for the actions listed in `filter`
    /// (an SQL condition on `action` or `kind`). The inbox stores payloads as `json`
    /// (cheap for the gateway to write); they become `jsonb` here. Not MATERIALIZED
    /// on purpose: a statement that reads `batch` once gets it inlined, and the
    /// conversion is then only paid where the payload is used; one that reads it
    /// more than once gets it materialized by the planner, converting each payload
    /// once.
    static func rowsCTE(where filter: String) -> String {
        """
        batch AS (
            SELECT id, station_id, kind, action, payload::jsonb AS payload, response, station_time, received_at
            FROM ocpp.inbox
            WHERE id = ANY($1::bigint[]) AND received_at BETWEEN $2 AND $3 AND (\(filter))
        )
        """
    }
}
