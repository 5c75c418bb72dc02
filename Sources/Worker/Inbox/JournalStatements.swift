import PostgresNIO
import Shared

// The drain loop's two statements at every batch, prepared: PostgreSQL then parses
// and plans each once per pool connection instead of at every batch, where the
// planning alone (over the journal's daily partitions) took about as long as the
// execution.

/// The buckets with rows to apply, the longest-waiting first, locked for this
/// transaction; a bucket another worker holds is skipped. A bucket has rows to
/// apply when the first row after its cursor was written by a transaction older
/// than every one still running (the rows after it, in (txid, id) order, can only
/// be newer).
struct LeaseBucketsStatement: PostgresPreparedStatement {
    typealias Row = Int32

    static let sql = """
        SELECT bucket FROM ocpp.inbox_buckets AS b
        WHERE (
            SELECT i.txid FROM ocpp.inbox AS i
            WHERE ocpp.inbox_bucket(i.station_id) = b.bucket AND i.txid IS NOT NULL
              AND (i.txid, i.id) > (b.cursor_txid, b.cursor_id)
            ORDER BY i.txid, i.id
            LIMIT 1
        ) < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY b.applied_at NULLS FIRST, b.bucket
        LIMIT $1
        FOR UPDATE SKIP LOCKED
        """

    /// At most this many buckets.
    var limit: Int

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(limit)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        try row.decode(Int32.self)
    }
}

/// The rows after the leased buckets' cursors, at most `perBucket` per bucket and
/// `limit` in all, in (txid, id) order, and each bucket's cursor moved to its last
/// row among them. What each bucket gives is a prefix of what it has waiting (the
/// rows of transactions still running sort after all others), so its last one is
/// the new cursor. Each bucket's rows are read in index order and the read stops at
/// `perBucket`: a filter inside the per-bucket query would make the planner fetch
/// and sort the bucket's whole backlog. The leases are held: the cursors read here
/// are current, and this statement's snapshot is newer than the lease's.
struct ClaimRowsStatement: PostgresPreparedStatement {
    struct Row {
        var id: Int64
        var stationID: Int64
        var receivedAt: PostgresTimestamp
        var kind: String
        var action: String?
        var bucket: Int32
    }

    static let sql = """
        WITH claimed AS (
            SELECT b.bucket, r.id, r.txid, r.station_id, r.received_at, r.kind, r.action
            FROM ocpp.inbox_buckets AS b
            CROSS JOIN LATERAL (
                SELECT i.id, i.txid, i.station_id, i.received_at, i.kind, i.action
                FROM ocpp.inbox AS i
                WHERE ocpp.inbox_bucket(i.station_id) = b.bucket AND i.txid IS NOT NULL
                  AND (i.txid, i.id) > (b.cursor_txid, b.cursor_id)
                ORDER BY i.txid, i.id
                LIMIT $3
            ) AS r
            WHERE b.bucket = ANY($1::integer[]) AND r.txid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY r.txid, r.id
            LIMIT $2
        ), advanced AS (
            UPDATE ocpp.inbox_buckets AS b
            SET cursor_txid = last.txid, cursor_id = last.id, applied_at = now()
            FROM (SELECT DISTINCT ON (bucket) bucket, txid, id FROM claimed ORDER BY bucket, txid DESC, id DESC) AS last
            WHERE b.bucket = last.bucket
        )
        SELECT id, station_id, received_at, kind, action, bucket FROM claimed ORDER BY id
        """

    /// The leased buckets.
    var buckets: [Int32]
    var limit: Int
    var perBucket: Int

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(buckets)
        bindings.append(limit)
        bindings.append(perBucket)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (id, station, receivedAt, kind, action, bucket) = try row.decode(
            (Int64, Int64, PostgresTimestamp, String, String?, Int32).self)
        return Row(id: id, stationID: station, receivedAt: receivedAt, kind: kind, action: action, bucket: bucket)
    }
}
