import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import Gateway

/// The shape of the ingest statement's generic plan. PostgreSQL runs a prepared
/// statement with a generic plan after its fifth execution, and that plan is made
/// without the batch's values. Once it hashed a scan of the whole receipts table at
/// every batch to find retransmissions' stored answers (375 µs of database time per
/// message at 126,000 receipts), where a primary-key probe per retransmission was
/// meant; a slower plan passes every functional test, so this one checks the plan.
@Suite struct IngestBatchPlanTests {
    @Test func theGenericPlanReadsNoReceiptsButByTheirKey() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let plan = try await client.withConnection { connection in
                try await connection.query("SET plan_cache_mode = force_generic_plan", logger: TestDatabase.logger)
                try await connection.query(
                    PostgresQuery(unsafeSQL: "PREPARE ingest AS " + IngestBatchStatement.sql),
                    logger: TestDatabase.logger)
                let nulls = Array(repeating: "NULL", count: 15).joined(separator: ", ")
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "EXPLAIN (FORMAT JSON) EXECUTE ingest(\(nulls))"),
                    logger: TestDatabase.logger
                ).collect()
                return try rows.map { try $0.decode(String.self) }.joined()
            }
            let reads = Self.scans(of: "inbox_receipts", in: try JSONSerialization.jsonObject(with: Data(plan.utf8)))
            #expect(!reads.isEmpty, "the plan reads the receipts somewhere")
            #expect(
                reads.allSatisfy { $0.hasPrefix("Index") }, "the receipts are read only by index: \(reads)")
        }
    }

    /// The node types that read `table` (its insert excluded), anywhere in the plan.
    static func scans(of table: String, in node: Any) -> [String] {
        if let list = node as? [Any] { return list.flatMap { scans(of: table, in: $0) } }
        guard let object = node as? [String: Any] else { return [] }
        var found: [String] = []
        if object["Relation Name"] as? String == table, let type = object["Node Type"] as? String,
            type != "ModifyTable"
        {
            found.append(type)
        }
        for key in ["Plan", "Plans"] {
            if let child = object[key] { found += scans(of: table, in: child) }
        }
        return found
    }
}
