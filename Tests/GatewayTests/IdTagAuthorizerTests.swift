import Foundation
import Logging
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

    @Test func aStartNotYetAppliedByTheWorkerMakesTheTagConcurrentTx() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("BUSY", "Accepted", parent: "FLEET")
            // The gateway wrote the start; the worker has not made a transaction of it yet.
            try await fixture.addStart("BUSY", station: fixture.station, connector: 1)
            let authorizer = fixture.authorizer(ttl: .zero)

            #expect(
                try await authorizer.authorize("BUSY", station: fixture.otherStation)
                    == IdTagInfo(status: .concurrentTx, parentIdTag: "FLEET"))
            // A start elsewhere: another connector, or the same connector of another station.
            for (station, connector) in [(fixture.station, 2), (fixture.otherStation, 1)] {
                let info = try await authorizer.authorize(
                    "BUSY", station: station, purpose: .startTransaction(connectorID: connector))
                #expect(info.status == .concurrentTx)
            }
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
            #expect(try await authorizer.authorize("CHARGING", station: fixture.station).status == .concurrentTx)
        }
    }

    @Test func aStoppedTransactionReleasesTheTag() async throws {
        try await Self.withFixture { fixture in
            try await fixture.addTag("DONE", "Accepted")
            let id = try await fixture.addStart("DONE", station: fixture.station, connector: 1)
            try await fixture.applyTransaction(id, idTag: "DONE", station: fixture.station, connector: 1, stopped: true)
            let authorizer = fixture.authorizer(ttl: .zero)
            #expect(try await authorizer.authorize("DONE", station: fixture.station).status == .accepted)
        }
    }

    @Test func anOpenTransactionWithoutAStartRowCounts() async throws {
        try await Self.withFixture { fixture in
            // Imported from another system, or its start row pruned.
            try await fixture.addTag("LEGACY", "Accepted")
            try await fixture.applyTransaction(
                900_000, idTag: "LEGACY", station: fixture.station, connector: 3, stopped: false)
            let authorizer = fixture.authorizer(ttl: .zero)
            #expect(try await authorizer.authorize("LEGACY", station: fixture.otherStation).status == .concurrentTx)
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
            #expect(try await authorizer.authorize("BLOCKED-BUSY", station: fixture.station).status == .blocked)
            #expect(try await authorizer.authorize("EXPIRED-BUSY", station: fixture.station).status == .expired)
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
            let start = try await authorizer.authorize(
                "CACHED", station: fixture.station, purpose: .startTransaction(connectorID: 1))
            #expect(start.status == .accepted)
            #expect(fixture.directory.lookups == 1)

            fixture.clock.advance(by: 1)
            #expect(try await authorizer.authorize("CACHED", station: fixture.station).status == .blocked)
            #expect(fixture.directory.lookups == 2)
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

    @Test(arguments: [
        (IdTagRecord(status: .accepted), AuthorizationStatus.accepted),
        (IdTagRecord(status: .concurrentTx), .concurrentTx),
        (IdTagRecord(status: .accepted, expiryDate: Date(timeIntervalSince1970: 999)), .expired),
        (IdTagRecord(status: .accepted, expiryDate: Date(timeIntervalSince1970: 1000)), .expired),
        (IdTagRecord(status: .accepted, expiryDate: Date(timeIntervalSince1970: 1001)), .accepted),
        (
            IdTagRecord(
                status: .accepted, openTransactions: [OpenTransaction(transactionID: 1, stationID: 9, connectorID: nil)]
            ),
            .concurrentTx
        ),
    ])
    func theStrictAnswerOfARecord(_ record: IdTagRecord, expected: AuthorizationStatus) {
        let info = IdTagAuthorizer.idTagInfo(
            for: record, purpose: .authorize, station: StationContext(stationID: 1, identity: "CP-1"),
            now: Date(timeIntervalSince1970: 1000))
        #expect(info.status == expected)
        #expect(info.expiryDate == record.expiryDate)
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

    func record(for idTag: String) async throws -> IdTagRecord? {
        count.withLock { $0 += 1 }
        return try await base.record(for: idTag)
    }
}

private struct FixedDirectory: IdTagDirectory {
    var record: IdTagRecord?

    func record(for idTag: String) async throws -> IdTagRecord? { record }
}
