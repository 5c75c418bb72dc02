import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// The strict policy against a real PostgreSQL (`DATABASE_URL`), and the open one.
@Suite struct IdTagAuthorizerTests {
    /// A fresh, migrated database with two stations and a set of id tags, and a clock
    /// the test moves.
    fileprivate struct Fixture {
        var client: PostgresClient
        var clock: TestClock
        var station: StationContext
        var otherStation: StationContext
        var directory: CountingDirectory

        func authorizer(ttl: Duration = .seconds(30)) -> IdTagAuthorizer {
            IdTagAuthorizer(policy: .strict, directory: directory, cacheTTL: ttl, now: clock.callAsFunction)
        }

        func addStation(_ identity: String) async throws -> StationContext {
            let id = try await client.scalar(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES (\(identity), 'Accepted') RETURNING id",
                as: Int64.self)
            return StationContext(stationID: id, identity: identity)
        }

        func addTag(_ idTag: String, _ status: String, expiry: Date? = nil, parent: String? = nil) async throws {
            try await client.query(
                """
                INSERT INTO ocpp.id_tags (id_tag, status, expiry_date, parent_id_tag)
                VALUES (\(idTag), \(status), \(expiry), \(parent))
                """, logger: TestDatabase.logger)
        }

        /// A start as the gateway's batch statement writes it; returns the transaction id.
        @discardableResult
        func addStart(_ idTag: String, station: StationContext, connector: Int) async throws -> Int32 {
            let startedAt = clock().addingTimeInterval(-600)
            return try await client.scalar(
                """
                INSERT INTO ocpp.transaction_starts (station_id, connector_id, id_tag, started_at, meter_start)
                VALUES (\(station.stationID), \(connector), \(idTag), \(startedAt), 0) RETURNING transaction_id
                """, as: Int32.self)
        }

        /// What the worker writes once it has applied a start and, if `stopped`, a stop.
        func applyTransaction(
            _ transactionID: Int32, idTag: String, station: StationContext, connector: Int, stopped: Bool
        ) async throws {
            let startedAt = clock().addingTimeInterval(-600)
            let stoppedAt: Date? = stopped ? clock().addingTimeInterval(-60) : nil
            try await client.query(
                """
                INSERT INTO ocpp.transactions (id, station_id, connector_id, id_tag, meter_start, started_at, stopped_at)
                VALUES (\(transactionID), \(station.stationID), \(connector), \(idTag), 0, \(startedAt), \(stoppedAt))
                """, logger: TestDatabase.logger)
        }
    }

    fileprivate static func withFixture(_ body: @Sendable (Fixture) async throws -> Void) async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let clock = TestClock(Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded()))
            var fixture = Fixture(
                client: client, clock: clock, station: StationContext(stationID: 0, identity: ""),
                otherStation: StationContext(stationID: 0, identity: ""),
                directory: CountingDirectory(PostgresIdTagDirectory(client: client, logger: TestDatabase.logger)))
            fixture.station = try await fixture.addStation("CP-1")
            fixture.otherStation = try await fixture.addStation("CP-2")
            try await body(fixture)
        }
    }

    @Test func storedStatusesAreAnsweredWithExpiryAndParent() async throws {
        try await Self.withFixture { fixture in
            let expiry = fixture.clock().addingTimeInterval(86_400)
            try await fixture.addTag("ACCEPTED", "Accepted", expiry: expiry, parent: "FLEET")
            try await fixture.addTag("PLAIN", "Accepted")
            try await fixture.addTag("BLOCKED", "Blocked", parent: "FLEET")
            try await fixture.addTag("EXPIRED", "Expired", expiry: fixture.clock().addingTimeInterval(-86_400))
            try await fixture.addTag("INVALID", "Invalid")
            let authorizer = fixture.authorizer()

            #expect(
                try await authorizer.authorize("ACCEPTED", station: fixture.station)
                    == IdTagInfo(status: .accepted, expiryDate: expiry, parentIdTag: "FLEET"))
            #expect(try await authorizer.authorize("PLAIN", station: fixture.station) == IdTagInfo(status: .accepted))
            #expect(
                try await authorizer.authorize("BLOCKED", station: fixture.station)
                    == IdTagInfo(status: .blocked, parentIdTag: "FLEET"))
            let expired = try await authorizer.authorize("EXPIRED", station: fixture.station)
            #expect(expired.status == .expired)
            #expect(expired.expiryDate == fixture.clock().addingTimeInterval(-86_400))
            #expect(try await authorizer.authorize("INVALID", station: fixture.station) == IdTagInfo(status: .invalid))
        }
    }

    @Test func anUnknownTagIsInvalid() async throws {
        try await Self.withFixture { fixture in
            let authorizer = fixture.authorizer()
            #expect(try await authorizer.authorize("NOBODY", station: fixture.station) == IdTagInfo(status: .invalid))
            for purpose in [AuthorizationPurpose.startTransaction(connectorID: 1), .stopTransaction] {
                let info = try await authorizer.authorize("NOBODY", station: fixture.station, purpose: purpose)
                #expect(info == IdTagInfo(status: .invalid))
            }
        }
    }

    @Test func anAcceptedTagPastItsExpiryDateIsExpired() async throws {
        try await Self.withFixture { fixture in
            let past = fixture.clock().addingTimeInterval(-1)
            try await fixture.addTag("OLD", "Accepted", expiry: past, parent: "FLEET")
            // A stored Blocked stays Blocked, whatever its expiry date.
            try await fixture.addTag("OLD-BLOCKED", "Blocked", expiry: past)
            let authorizer = fixture.authorizer()
            #expect(
                try await authorizer.authorize("OLD", station: fixture.station)
                    == IdTagInfo(status: .expired, expiryDate: past, parentIdTag: "FLEET"))
            #expect(try await authorizer.authorize("OLD-BLOCKED", station: fixture.station).status == .blocked)
        }
    }

    @Test func theExpiryDateIsComparedWithTheClockAtEachAnswer() async throws {
        try await Self.withFixture { fixture in
            let expiry = fixture.clock().addingTimeInterval(10)
            try await fixture.addTag("SOON", "Accepted", expiry: expiry)
            let authorizer = fixture.authorizer(ttl: .seconds(60))
            #expect(try await authorizer.authorize("SOON", station: fixture.station).status == .accepted)
            fixture.clock.advance(by: 20)
            // Still cached (no second query), but now past its expiry date.
            #expect(try await authorizer.authorize("SOON", station: fixture.station).status == .expired)
            #expect(fixture.directory.lookups == 1)
        }
    }

    @Test func aStartNotYetAppliedByTheWorkerRefusesAStartElsewhere() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("BUSY", "Accepted", parent: "FLEET")
            // The gateway wrote the start; the worker has not made a transaction of it yet.
            try await fixture.addStart("BUSY", station: fixture.station, connector: 1)
            let authorizer = fixture.authorizer(ttl: .zero)

            // A start elsewhere: another connector, or the same connector of another station.
            for (station, connector) in [(fixture.station, 2), (fixture.otherStation, 1)] {
                let info = try await authorizer.authorize(
                    "BUSY", station: station, purpose: .startTransaction(connectorID: connector))
                #expect(info == IdTagInfo(status: .concurrentTx, parentIdTag: "FLEET"))
            }
            // Authorize answers the tag's own status (ConcurrentTx is for StartTransaction only).
            #expect(
                try await authorizer.authorize("BUSY", station: fixture.otherStation)
                    == IdTagInfo(status: .accepted, parentIdTag: "FLEET"))
            // The same connector: this start retried, or one whose stop was lost.
            let retried = try await authorizer.authorize(
                "BUSY", station: fixture.station, purpose: .startTransaction(connectorID: 1))
            #expect(retried.status == .accepted)
            // Stopping never answers ConcurrentTx.
            let stop = try await authorizer.authorize("BUSY", station: fixture.otherStation, purpose: .stopTransaction)
            #expect(stop == IdTagInfo(status: .accepted, parentIdTag: "FLEET"))
        }
    }

    @Test func aStartAppliedButNotStoppedIsStillOpen() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("CHARGING", "Accepted")
            let id = try await fixture.addStart("CHARGING", station: fixture.station, connector: 1)
            try await fixture.applyTransaction(
                id, idTag: "CHARGING", station: fixture.station, connector: 1, stopped: false)
            let authorizer = fixture.authorizer(ttl: .zero)
            let start = try await authorizer.authorize(
                "CHARGING", station: fixture.otherStation, purpose: .startTransaction(connectorID: 1))
            #expect(start.status == .concurrentTx)
        }
    }

    @Test func aStoppedTransactionReleasesTheTag() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("DONE", "Accepted")
            let id = try await fixture.addStart("DONE", station: fixture.station, connector: 1)
            try await fixture.applyTransaction(id, idTag: "DONE", station: fixture.station, connector: 1, stopped: true)
            let authorizer = fixture.authorizer(ttl: .zero)
            let start = try await authorizer.authorize(
                "DONE", station: fixture.otherStation, purpose: .startTransaction(connectorID: 1))
            #expect(start.status == .accepted)
        }
    }

    @Test func anOpenTransactionWithoutAStartRowCounts() async throws {
        try await Self.withFixture { fixture in
            // Imported from another system, or its start row pruned.
            try await fixture.addTag("LEGACY", "Accepted")
            try await fixture.applyTransaction(
                900_000, idTag: "LEGACY", station: fixture.station, connector: 3, stopped: false)
            let authorizer = fixture.authorizer(ttl: .zero)
            let elsewhere = try await authorizer.authorize(
                "LEGACY", station: fixture.otherStation, purpose: .startTransaction(connectorID: 3))
            #expect(elsewhere.status == .concurrentTx)
            let sameConnector = try await authorizer.authorize(
                "LEGACY", station: fixture.station, purpose: .startTransaction(connectorID: 3))
            #expect(sameConnector.status == .accepted)
        }
    }

    @Test func onlyAnAcceptedTagCanBeConcurrentTx() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("BLOCKED-BUSY", "Blocked")
            try await fixture.addTag("EXPIRED-BUSY", "Accepted", expiry: fixture.clock().addingTimeInterval(-5))
            try await fixture.addStart("BLOCKED-BUSY", station: fixture.station, connector: 1)
            try await fixture.addStart("EXPIRED-BUSY", station: fixture.station, connector: 2)
            let authorizer = fixture.authorizer(ttl: .zero)
            for purpose in [AuthorizationPurpose.authorize, .startTransaction(connectorID: 3)] {
                let blocked = try await authorizer.authorize(
                    "BLOCKED-BUSY", station: fixture.otherStation, purpose: purpose)
                #expect(blocked.status == .blocked)
                let expired = try await authorizer.authorize(
                    "EXPIRED-BUSY", station: fixture.otherStation, purpose: purpose)
                #expect(expired.status == .expired)
            }
        }
    }

    @Test func theCacheServesASecondLookupAndExpiresAfterTheTTL() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("CACHED", "Accepted")
            let authorizer = fixture.authorizer(ttl: .seconds(30))

            #expect(try await authorizer.authorize("CACHED", station: fixture.station).status == .accepted)
            #expect(fixture.directory.lookups == 1)

            // An operator blocks the tag: the cached answer holds until the TTL.
            try await fixture.client.query(
                "UPDATE ocpp.id_tags SET status = 'Blocked' WHERE id_tag = \("CACHED")", logger: TestDatabase.logger)
            fixture.clock.advance(by: 29)
            #expect(try await authorizer.authorize("CACHED", station: fixture.otherStation).status == .accepted)
            let stop = try await authorizer.authorize("CACHED", station: fixture.station, purpose: .stopTransaction)
            #expect(stop.status == .accepted)
            #expect(fixture.directory.lookups == 1)
            // A StartTransaction reads the database, and leaves the cache as it is.
            let start = try await authorizer.authorize(
                "CACHED", station: fixture.station, purpose: .startTransaction(connectorID: 1))
            #expect(start.status == .blocked)
            #expect(fixture.directory.lookups == 2)
            #expect(try await authorizer.authorize("CACHED", station: fixture.otherStation).status == .accepted)
            #expect(fixture.directory.lookups == 2)

            fixture.clock.advance(by: 1)
            #expect(try await authorizer.authorize("CACHED", station: fixture.station).status == .blocked)
            #expect(fixture.directory.lookups == 3)
        }
    }

    @Test func unknownTagsAreCachedToo() async throws {
        try await Self.withFixture { fixture in
            let authorizer = fixture.authorizer(ttl: .seconds(30))
            for _ in 0..<5 {
                #expect(try await authorizer.authorize("NOBODY", station: fixture.station).status == .invalid)
            }
            #expect(fixture.directory.lookups == 1)
            // A tag added meanwhile is seen once the TTL has passed.
            try await fixture.addTag("NOBODY", "Accepted")
            fixture.clock.advance(by: 30)
            #expect(try await authorizer.authorize("NOBODY", station: fixture.station).status == .accepted)
            #expect(fixture.directory.lookups == 2)
        }
    }

    @Test func aBurstOfLookupsCostsOneQuery() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("BURST", "Accepted")
            let authorizer = fixture.authorizer(ttl: .seconds(30))
            let station = fixture.station
            try await withThrowingTaskGroup(of: AuthorizationStatus.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await authorizer.authorize("BURST", station: station).status }
                }
                for try await status in group { #expect(status == .accepted) }
            }
            #expect(fixture.directory.lookups == 1)
        }
    }

    // MARK: Case

    @Test func tagsAreMatchedCaseInsensitivelyAndAnsweredAsStored() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("abc123", "Accepted", parent: "Fleet-A")
            try await fixture.addTag("Fleet-A", "Blocked")
            let authorizer = fixture.authorizer(ttl: .seconds(30))
            for spelling in ["abc123", "ABC123", "Abc123"] {
                // The parent as provisioned, whatever the case the tag was sent in.
                let expected = IdTagInfo(status: .accepted, parentIdTag: "Fleet-A")
                #expect(try await authorizer.authorize(spelling, station: fixture.station) == expected)
                let stop = try await authorizer.authorize(spelling, station: fixture.station, purpose: .stopTransaction)
                #expect(stop == expected)
            }
            // One cache entry for every spelling.
            #expect(fixture.directory.lookups == 1)
            let start = try await authorizer.authorize(
                "ABC123", station: fixture.station, purpose: .startTransaction(connectorID: 1))
            #expect(start == IdTagInfo(status: .accepted, parentIdTag: "Fleet-A"))
            // The parent is a tag of its own, found in any case too.
            #expect(try await authorizer.authorize("FLEET-A", station: fixture.station).status == .blocked)
            #expect(try await authorizer.authorize("fleet-a", station: fixture.station).status == .blocked)
            // Only ASCII letters fold.
            try await fixture.addTag("Éclair", "Accepted")
            #expect(try await authorizer.authorize("éclair", station: fixture.station).status == .invalid)
            #expect(try await authorizer.authorize("ÉCLAIR", station: fixture.station).status == .accepted)
        }
    }

    @Test func rowsThatDifferOnlyInCaseAnswerTheMostRestrictive() async throws {
        try await Self.withFixture { fixture in
            // Provisioned before tags were compared case-insensitively: one tag, two rows.
            try await fixture.addTag("dup1", "Accepted", parent: "OPEN")
            try await fixture.addTag("DUP1", "Blocked", parent: "CLOSED")
            try await fixture.addTag("exp2", "Accepted")
            try await fixture.addTag("EXP2", "Accepted", expiry: fixture.clock().addingTimeInterval(-60))
            try await fixture.addTag("acc3", "Accepted", parent: "LOWER")
            try await fixture.addTag("ACC3", "Accepted", parent: "UPPER")
            let authorizer = fixture.authorizer(ttl: .zero)
            for spelling in ["dup1", "DUP1", "Dup1"] {
                #expect(
                    try await authorizer.authorize(spelling, station: fixture.station)
                        == IdTagInfo(status: .blocked, parentIdTag: "CLOSED"))
                let start = try await authorizer.authorize(
                    spelling, station: fixture.station, purpose: .startTransaction(connectorID: 1))
                #expect(start.status == .blocked)
            }
            for spelling in ["exp2", "EXP2"] {
                #expect(try await authorizer.authorize(spelling, station: fixture.station).status == .expired)
            }
            // Equally good rows: the one spelled as sent.
            #expect(try await authorizer.authorize("acc3", station: fixture.station).parentIdTag == "LOWER")
            #expect(try await authorizer.authorize("ACC3", station: fixture.station).parentIdTag == "UPPER")
        }
    }

    @Test func anOpenTransactionBlocksAStartInAnyCase() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("abc123", "Accepted")
            // Started as sent by the first charger, in lower case; not yet applied.
            try await fixture.addStart("abc123", station: fixture.station, connector: 1)
            try await fixture.addTag("LEGACY9", "Accepted")
            try await fixture.applyTransaction(
                900_001, idTag: "legacy9", station: fixture.station, connector: 2, stopped: false)
            let authorizer = fixture.authorizer(ttl: .zero)

            for spelling in ["ABC123", "abc123", "aBc123"] {
                let elsewhere = try await authorizer.authorize(
                    spelling, station: fixture.otherStation, purpose: .startTransaction(connectorID: 1))
                #expect(elsewhere.status == .concurrentTx)
            }
            // The same charger retrying its start, in another case: not concurrent.
            let retried = try await authorizer.authorize(
                "ABC123", station: fixture.station, purpose: .startTransaction(connectorID: 1))
            #expect(retried.status == .accepted)
            let legacy = try await authorizer.authorize(
                "Legacy9", station: fixture.otherStation, purpose: .startTransaction(connectorID: 1))
            #expect(legacy.status == .concurrentTx)
        }
    }

    // MARK: Authorize and StartTransaction

    @Test func authorizeAnswersTheTagsOwnStatusWhateverItsOpenTransactions() async throws {
        try await Self.withFixture { fixture in
            let past = fixture.clock().addingTimeInterval(-60)
            let cases: [(String, String, Date?, IdTagInfo)] = [
                ("RIDER", "Accepted", nil, IdTagInfo(status: .accepted, parentIdTag: "FLEET")),
                ("RIDER-BLOCKED", "Blocked", nil, IdTagInfo(status: .blocked, parentIdTag: "FLEET")),
                (
                    "RIDER-EXPIRED", "Accepted", past,
                    IdTagInfo(status: .expired, expiryDate: past, parentIdTag: "FLEET")
                ),
                ("RIDER-INVALID", "Invalid", nil, IdTagInfo(status: .invalid, parentIdTag: "FLEET")),
                // Stored ConcurrentTx: known and valid, as far as Authorize is concerned.
                ("RIDER-BUSY", "ConcurrentTx", nil, IdTagInfo(status: .accepted, parentIdTag: "FLEET")),
            ]
            for (connector, (idTag, status, expiry, _)) in cases.enumerated() {
                try await fixture.addTag(idTag, status, expiry: expiry, parent: "FLEET")
                try await fixture.addStart(idTag, station: fixture.station, connector: connector + 1)
            }
            let authorizer = fixture.authorizer(ttl: .zero)
            for (idTag, _, _, expected) in cases {
                for station in [fixture.station, fixture.otherStation] {
                    #expect(try await authorizer.authorize(idTag, station: station) == expected, "\(idTag)")
                    #expect(
                        try await authorizer.authorize(idTag.lowercased(), station: station) == expected, "\(idTag)")
                }
            }
            // A start elsewhere is refused for the two that are otherwise valid.
            for (idTag, expected) in [
                ("RIDER", AuthorizationStatus.concurrentTx), ("RIDER-BLOCKED", .blocked),
                ("RIDER-EXPIRED", .expired), ("RIDER-INVALID", .invalid), ("RIDER-BUSY", .concurrentTx),
            ] {
                let start = try await authorizer.authorize(
                    idTag, station: fixture.otherStation, purpose: .startTransaction(connectorID: 1))
                #expect(start.status == expected, "\(idTag)")
            }
        }
    }

    @Test func aStartIsDecidedOnTheDatabaseDespiteACachedAccepted() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("Rider-7", "Accepted")
            let authorizer = fixture.authorizer(ttl: .seconds(60))
            #expect(try await authorizer.authorize("RIDER-7", station: fixture.station).status == .accepted)
            #expect(fixture.directory.lookups == 1)

            // The start is answered (its row committed), through this gateway or another.
            try await fixture.addStart("rider-7", station: fixture.station, connector: 1)
            fixture.clock.advance(by: 1)

            // The cached Accepted still answers Authorize...
            #expect(try await authorizer.authorize("RIDER-7", station: fixture.otherStation).status == .accepted)
            #expect(fixture.directory.lookups == 1)
            // ...but a start on another charger reads the database: ConcurrentTx.
            let elsewhere = try await authorizer.authorize(
                "RIDER-7", station: fixture.otherStation, purpose: .startTransaction(connectorID: 1))
            #expect(elsewhere.status == .concurrentTx)
            let otherConnector = try await authorizer.authorize(
                "Rider-7", station: fixture.station, purpose: .startTransaction(connectorID: 2))
            #expect(otherConnector.status == .concurrentTx)
            #expect(fixture.directory.lookups == 3)
            // The same start retried by its charger is not concurrent.
            let retried = try await authorizer.authorize(
                "rider-7", station: fixture.station, purpose: .startTransaction(connectorID: 1))
            #expect(retried.status == .accepted)

            // Once the worker has applied its stop, the tag may start elsewhere.
            try await fixture.applyTransaction(
                try await fixture.client.scalar(
                    "SELECT transaction_id FROM ocpp.transaction_starts WHERE id_tag = 'rider-7'", as: Int32.self),
                idTag: "rider-7", station: fixture.station, connector: 1, stopped: true)
            let afterStop = try await authorizer.authorize(
                "RIDER-7", station: fixture.otherStation, purpose: .startTransaction(connectorID: 1))
            #expect(afterStop.status == .accepted)
        }
    }

    /// The lookup's comparisons are on `lower(id_tag COLLATE "C")`, which the
    /// indexes of migration 0013 must serve: a mismatch (another collation, another
    /// function) would leave them unused and scan the tables.
    @Test func theFoldedTagIndexesServeTheLookup() async throws {
        try await Self.withFixture { fixture in
            let query = PostgresIdTagDirectory.query(for: "ABC123", openTransactions: true)
            let plan = try await fixture.client.withConnection { connection in
                try await connection.query("SET enable_seqscan = off", logger: TestDatabase.logger)
                var lines: [String] = []
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "EXPLAIN " + query.sql, binds: query.binds), logger: TestDatabase.logger)
                for try await line in rows.decode(String.self) { lines.append(line) }
                try await connection.query("RESET enable_seqscan", logger: TestDatabase.logger)
                return lines.joined(separator: "\n")
            }
            for index in ["id_tags_folded", "transaction_starts_id_tag", "transactions_open_id_tag"] {
                #expect(plan.contains(index), "\(index) in\n\(plan)")
            }
        }
    }

    @Test func theOpenPolicyAcceptsEveryTagWithoutAQuery() async throws {
        let directory = CountingDirectory(FixedDirectory(record: nil))
        let authorizer = IdTagAuthorizer(policy: .open, directory: directory, cacheTTL: .seconds(30))
        let station = StationContext(stationID: 1, identity: "CP-1")
        for purpose in [AuthorizationPurpose.authorize, .startTransaction(connectorID: 1), .stopTransaction] {
            let info = try await authorizer.authorize("ANYONE", station: station, purpose: purpose)
            #expect(info == IdTagInfo(status: .accepted))
        }
        #expect(directory.lookups == 0)
    }
}

/// The cache on its own, with fake loads: no database needed.
@Suite struct IdTagAuthorizerCacheTests {
    @Test func itNeverHoldsMoreThanItsCapacity() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_000_000))
        let cache = ExpiringCache<String, Int>(ttl: .seconds(60), capacity: 8, now: clock.callAsFunction)
        for index in 0..<100 {
            #expect(try await cache.value(for: "tag-\(index)") { index } == index)
            #expect(cache.count <= 8)
            clock.advance(by: 0.01)
        }
        // The newest entry survived the evictions.
        #expect(try await cache.value(for: "tag-99") { -1 } == 99)
    }

    @Test func expiredEntriesAreDroppedFirst() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_000_000))
        let cache = ExpiringCache<String, Int>(ttl: .seconds(10), capacity: 4, now: clock.callAsFunction)
        for index in 0..<4 { _ = try await cache.value(for: "old-\(index)") { index } }
        clock.advance(by: 10)
        _ = try await cache.value(for: "new") { 42 }
        #expect(cache.count == 1)
    }

    @Test func aFailedLoadIsNotCached() async throws {
        struct LoadFailed: Error {}
        let cache = ExpiringCache<String, Int>(ttl: .seconds(60), capacity: 8)
        await #expect(throws: LoadFailed.self) {
            _ = try await cache.value(for: "tag") { throw LoadFailed() }
        }
        #expect(cache.count == 0)
        #expect(try await cache.value(for: "tag") { 7 } == 7)
    }

    @Test func aZeroTTLDisablesCaching() async throws {
        let loads = LoadCounter()
        let cache = ExpiringCache<String, Int>(ttl: .zero, capacity: 8)
        for _ in 0..<3 {
            _ = try await cache.value(for: "tag") { loads.increment() }
        }
        #expect(loads.value == 3)
        #expect(cache.count == 0)
    }

    @Test func aClockSteppingBackMakesEntriesStale() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_000_000))
        let cache = ExpiringCache<String, Int>(ttl: .seconds(60), capacity: 8, now: clock.callAsFunction)
        _ = try await cache.value(for: "tag") { 1 }
        clock.advance(by: -3600)
        #expect(try await cache.value(for: "tag") { 2 } == 2)
    }

    @Test func concurrentMissesShareOneLoad() async throws {
        let loads = LoadCounter()
        let cache = ExpiringCache<String, Int>(ttl: .seconds(60), capacity: 8)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await cache.value(for: "tag") {
                        loads.increment()
                        try await Task.sleep(for: .milliseconds(50))
                        return 5
                    }
                }
            }
            for try await value in group { #expect(value == 5) }
        }
        #expect(loads.value == 1)
    }

    /// (record, the answer to Authorize and StopTransaction, to StartTransaction on
    /// connector 1 of station 1).
    @Test(arguments: [
        (IdTagRecord(status: .accepted), AuthorizationStatus.accepted, AuthorizationStatus.accepted),
        (IdTagRecord(status: .blocked), .blocked, .blocked),
        (IdTagRecord(status: .invalid), .invalid, .invalid),
        // Stored ConcurrentTx: busy, not invalid; only a start is refused for it.
        (IdTagRecord(status: .concurrentTx), .accepted, .concurrentTx),
        (IdTagRecord(status: .concurrentTx, expiryDate: Date(timeIntervalSince1970: 999)), .expired, .concurrentTx),
        (IdTagRecord(status: .accepted, expiryDate: Date(timeIntervalSince1970: 999)), .expired, .expired),
        (IdTagRecord(status: .accepted, expiryDate: Date(timeIntervalSince1970: 1000)), .expired, .expired),
        (IdTagRecord(status: .accepted, expiryDate: Date(timeIntervalSince1970: 1001)), .accepted, .accepted),
        (
            IdTagRecord(
                status: .accepted, openTransactions: [OpenTransaction(transactionID: 1, stationID: 9, connectorID: nil)]
            ),
            .accepted, .concurrentTx
        ),
        (
            IdTagRecord(
                status: .accepted, openTransactions: [OpenTransaction(transactionID: 1, stationID: 1, connectorID: 2)]
            ),
            .accepted, .concurrentTx
        ),
        // Its own connector: this start retried.
        (
            IdTagRecord(
                status: .accepted, openTransactions: [OpenTransaction(transactionID: 1, stationID: 1, connectorID: 1)]
            ),
            .accepted, .accepted
        ),
        (
            IdTagRecord(
                status: .blocked, openTransactions: [OpenTransaction(transactionID: 1, stationID: 9, connectorID: 1)]
            ),
            .blocked, .blocked
        ),
    ])
    func theStrictAnswerOfARecord(
        _ record: IdTagRecord, expected: AuthorizationStatus, expectedForAStart: AuthorizationStatus
    ) {
        let station = StationContext(stationID: 1, identity: "CP-1")
        let now = Date(timeIntervalSince1970: 1000)
        for purpose in [AuthorizationPurpose.authorize, .stopTransaction] {
            let info = IdTagAuthorizer.idTagInfo(for: record, purpose: purpose, station: station, now: now)
            #expect(info.status == expected)
            #expect(info.expiryDate == record.expiryDate)
        }
        let start = IdTagAuthorizer.idTagInfo(
            for: record, purpose: .startTransaction(connectorID: 1), station: station, now: now)
        #expect(start.status == expectedForAStart)
        #expect(start.expiryDate == record.expiryDate)
    }

    @Test(arguments: [
        ("abc123", "abc123"), ("ABC123", "abc123"), ("AbC-12_Z", "abc-12_z"), ("", ""),
        // Only A-Z fold, as lower(x COLLATE "C") does.
        ("ÉCLAIR", "Éclair"), ("İX", "İx"),
    ])
    func theCacheKeyFoldsOnlyASCIILetters(_ idTag: String, expected: String) {
        #expect(IdTagKey.folded(idTag) == expected)
    }
}

// MARK: - Test doubles

/// A clock the test moves by hand.
private final class TestClock: Sendable {
    private let time: Mutex<Date>

    init(_ start: Date) {
        time = Mutex(start)
    }

    func callAsFunction() -> Date { time.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        time.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// Counts loads.
private final class LoadCounter: Sendable {
    private let count = Mutex(0)

    var value: Int { count.withLock { $0 } }

    @discardableResult
    func increment() -> Int {
        count.withLock {
            $0 += 1
            return $0
        }
    }
}

/// Counts the lookups that reach the directory it wraps.
private final class CountingDirectory: IdTagDirectory {
    private let base: any IdTagDirectory
    private let count = Mutex(0)

    init(_ base: any IdTagDirectory) {
        self.base = base
    }

    var lookups: Int { count.withLock { $0 } }

    func record(for idTag: String, openTransactions: Bool) async throws -> IdTagRecord? {
        count.withLock { $0 += 1 }
        return try await base.record(for: idTag, openTransactions: openTransactions)
    }
}

private struct FixedDirectory: IdTagDirectory {
    var record: IdTagRecord?

    func record(for idTag: String, openTransactions: Bool) async throws -> IdTagRecord? { record }
}
