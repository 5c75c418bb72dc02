import Foundation
import OCPP
import PostgresNIO
import Shared

/// Where the next page of a list starts: the sort key of the last item of this page,
/// as an opaque base64url string. Keyset paging stays fast and stable when rows are
/// added while a client pages (an offset would skip or repeat rows).
struct PageCursor: Sendable, Equatable {
    /// The sort key as a JSON array, read back by the list's SQL.
    let key: String

    /// The longest `after` read (the OpenAPI document's maxLength).
    static let maximumLength = 2048

    init(key: String) {
        self.key = key
    }

    init?(encoded: String) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard encoded.count <= Self.maximumLength, let data = Data(base64Encoded: base64),
            let key = String(data: data, encoding: .utf8), case .array? = try? JSONParser.parse(key)
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
        var items = "[]"
        var next: PageCursor?
        do {
            let result = try await client.boundedRows(PostgresQuery(unsafeSQL: sql, binds: rows.binds), logger: logger)
            for row in result {
                let (page, lastKey, more) = try row.decode((String, String?, Bool).self)
                items = page
                if more, let lastKey { next = PageCursor(key: lastKey) }
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState]?.hasPrefix("22") == true {
            // A data exception: every value but the cursor's sort key is bound with its
            // type, so it is an `after` that no page of this list returned.
            throw AdminError.badRequest("after must be the next value of a previous page", field: "after")
        }
        return #"{"items":"# + items + #","next":"# + (next.map { #"""# + $0.encoded + #"""# } ?? "null") + "}"
    }
}
