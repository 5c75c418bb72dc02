import Logging
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// Invariant 5 (any number of workers): workers lease disjoint buckets of stations
/// (`FOR UPDATE SKIP LOCKED`) and advance their cursors in the transaction that
/// applied the rows, so two workers on one inbox apply every row exactly once
/// between them.
@Suite("Two workers draining one inbox")
struct ConcurrentDrainTests {
    @Test("100,000 rows, two workers: every row applied exactly once, by one of them")
    func twoWorkersShareTheInbox() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            // 64 stations fill the 64 buckets: each worker's lease takes half of them.
            let bulk = BulkMeterValues(rows: 100_000, stations: 64, sampledValuesPerRow: 1)
            try await bulk.insert(using: client)
            let allIDs = try await BulkMeterValues.allIDs(using: client)
            #expect(allIDs.count == bulk.rows)

            // Two clients, two connection pools: two workers as far as the database can tell.
            let (first, second) = try await PostgresClient.withClient(
                configuration: configuration, logger: TestDatabase.logger
            ) { otherClient in
                async let first = Self.drain(with: Self.applier(client))
                async let second = Self.drain(with: Self.applier(otherClient))
                return try await (first, second)
            }

            #expect(first.count + second.count == bulk.rows, "rows applied in total")
            #expect(!first.isEmpty && !second.isEmpty, "both workers applied some rows")
            let firstSet = Set(first)
            let secondSet = Set(second)
            #expect(firstSet.count == first.count && secondSet.count == second.count, "no worker applied a row twice")
            #expect(firstSet.isDisjoint(with: secondSet), "no row applied by both workers")
            #expect(firstSet.union(secondSet) == allIDs, "every row applied")

            let progress = try await DrainProgress.read(using: client)
            #expect(
                progress
                    == DrainProgress(
                        processed: bulk.rows, unprocessed: 0, refused: 0, meterValues: bulk.expectedMeterValues))
        }
    }

    private static func applier(_ client: PostgresClient) -> InboxApplier {
        InboxApplier(client: client, batchSize: 1000, metrics: WorkerMetrics(), logger: TestDatabase.logger)
    }

    /// Applies batches until a claim comes back empty; returns the ids it applied, in
    /// order. An empty claim means every row left is processed or locked by the other
    /// worker, which then applies it.
    private static func drain(with applier: InboxApplier) async throws -> [Int64] {
        var applied: [Int64] = []
        while true {
            let batch = try await applier.applyNextBatch()
            if batch.isEmpty { return applied }
            applied.append(contentsOf: batch.ids)
        }
    }
}
