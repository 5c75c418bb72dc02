import Foundation
import PostgresNIO

/// Where the next page of a list starts: the sort key of the last item of this page,
/// as an opaque base64url string. Keyset paging stays fast and stable when rows are
/// added while a client pages (an offset would skip or repeat rows).
struct PageCursor: Sendable, Equatable {
    /// The sort key as a JSON array, read back by the list's SQL.
    let key: String

    init(key: String) {
        self.key = key
    }

    init?(encoded: String) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard encoded.count <= 2048, let data = Data(base64Encoded: base64),
            let key = String(data: data, encoding: .utf8), key.hasPrefix("[")
        else { return nil }
        self.key = key
    }

    var encoded: String {
        Data(key.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Runs one page of a list. The list's own query selects `item` (the JSON of one
/// row), `key` (its sort key as a JSON array) and `n` (its row number in sort
/// order), at most `limit + 1` rows; this wraps it so the database returns the page
/// as one JSON array and says whether more rows follow.
enum PageQuery {
    static let defaultLimit = 100
    static let maximumLimit = 1000

    static func run(
        _ rows: PostgresQuery, limit: Int, client: PostgresClient, logger: Logger
    ) async throws -> String {
        let sql = """
            WITH page AS (\(rows.sql))
            SELECT coalesce(json_agg(item ORDER BY n) FILTER (WHERE n <= \(limit)), '[]')::text,
                   (SELECT key::text FROM page WHERE n = \(limit)),
                   count(*) > \(limit)
            FROM page
            """
        let result = try await client.query(PostgresQuery(unsafeSQL: sql, binds: rows.binds), logger: logger)
        var items = "[]"
        var next: PageCursor?
        for try await (page, lastKey, more) in result.decode((String, String?, Bool).self) {
            items = page
            if more, let lastKey { next = PageCursor(key: lastKey) }
        }
        return #"{"items":"# + items + #","next":"# + (next.map { #"""# + $0.encoded + #"""# } ?? "null") + "}"
    }
}
