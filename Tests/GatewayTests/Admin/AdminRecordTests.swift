import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// What the admin API reads: transactions, meter values (raw and hourly), station
/// events, and the id tags it also writes.
@Suite("Admin API: transactions, meter values, events, id tags", .serialized, .timeLimit(.minutes(2)))
struct AdminRecordTests {
    /// Two stations; CP-1 has transactions 1...5 started an hour apart from
    /// 2026-01-01T00:00Z (odd ones stopped), CP-2 has transaction 6.
    static func addTransactions(_ client: PostgresClient) async throws {
        try await client.query(
            """
            WITH s AS (
                INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted'), ('CP-2', 'Accepted')
                RETURNING id, identity
            )
            INSERT INTO ocpp.transactions (id, station_id, connector_id, id_tag, meter_start, started_at, meter_stop,
                                           stopped_at)
            SELECT n, s.id, 1, 'TAG', 0, timestamptz '2026-01-01T00:00:00Z' + (n - 1) * interval '1 hour',
                   CASE WHEN n % 2 = 1 THEN 500 * n END,
                   CASE WHEN n % 2 = 1 THEN timestamptz '2026-01-01T00:30:00Z' + (n - 1) * interval '1 hour' END
            FROM generate_series(1, 6) AS n
            JOIN s ON s.identity = CASE WHEN n = 6 THEN 'CP-2' ELSE 'CP-1' END
            """)
    }

    @Test func filtersTransactionsByStationStatusAndTimeInPages() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await Self.addTransactions(client)
            func ids(_ path: String) async throws -> [Double] {
                let page = try #require(try await admin.client.get(path).json)
                return page["items"]?.array?.compactMap { $0["id"]?.number } ?? []
            }
            #expect(try await ids("/api/v1/transactions") == [6, 5, 4, 3, 2, 1])
            #expect(try await ids("/api/v1/transactions?station=CP-1&status=Completed") == [5, 3, 1])
            #expect(try await ids("/api/v1/transactions?status=Active&station=CP-1") == [4, 2])
            #expect(
                try await ids("/api/v1/transactions?from=2026-01-01T01:00:00Z&to=2026-01-01T03:00:00Z") == [3, 2])

            let first = try #require(try await admin.client.get("/api/v1/transactions?limit=4").json)
            let next = try #require(first["next"]?.string)
            #expect(try await ids("/api/v1/transactions?limit=4&after=\(next)") == [2, 1])

            let one = try #require(try await admin.client.get("/api/v1/transactions/5").json)
            #expect(one["station"]?.string == "CP-1")
            #expect(one["energyWh"]?.number == 2500)
            #expect(try await admin.client.get("/api/v1/transactions/99").status == 404)
            #expect(try await admin.client.get("/api/v1/transactions/abc").status == 400)
        }
    }

    @Test func readsMeterValuesRawAndHourlyByStationAndTransaction() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await Self.addTransactions(client)
            // Transaction 1: an energy register every 10 minutes for two hours (0...1100 Wh)
            // and a power sample each time; one value outside the transaction. Recent
            // hours: the worker running the API archives older values.
            let base = Date(
                timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 - 3 * 3600)
            try await client.query(
                """
                INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, transaction_id, measurand, unit,
                                               value)
                SELECT \(base)::timestamptz + m * interval '10 minutes', s.id, 1, 1, measurand, unit,
                       CASE WHEN measurand = 'Power.Active.Import' THEN 7000 ELSE 100 * m END
                FROM ocpp.stations AS s, generate_series(0, 11) AS m,
                     (VALUES ('Energy.Active.Import.Register', 'Wh'), ('Power.Active.Import', 'W')) AS v (measurand, unit)
                WHERE s.identity = 'CP-1'
                """)
            try await client.query(
                """
                INSERT INTO ocpp.meter_values (sampled_at, station_id, connector_id, measurand, value)
                SELECT \(base)::timestamptz + interval '150 minutes', id, 2, 'Energy.Active.Import.Register', 9
                FROM ocpp.stations WHERE identity = 'CP-1'
                """)
            try await client.query(
                "SELECT ocpp.refresh_meter_values_hourly(\(base), \(base.addingTimeInterval(86_400)))")
            let raw = try #require(
                try await admin.client.get(
                    "/api/v1/transactions/1/meter-values?measurand=Energy.Active.Import.Register&limit=1000"
                ).json)
            #expect(raw["items"]?.array?.compactMap { $0["value"]?.number } == (0..<12).map { Double($0 * 100) })
            #expect(raw["items"]?[0]?["unit"]?.string == "Wh")
            #expect(raw["items"]?[0]?["sampledAt"]?.date == base)

            // Paging through all 25 values of the station, 10 at a time, loses and repeats none.
            var values = 0
            var path = "/api/v1/stations/CP-1/meter-values?limit=10"
            var pages = 0
            while true {
                let page = try #require(try await admin.client.get(path).json)
                values += page["items"]?.array?.count ?? 0
                pages += 1
                guard let next = page["next"]?.string else { break }
                path = "/api/v1/stations/CP-1/meter-values?limit=10&after=\(next)"
            }
            #expect(values == 25)
            #expect(pages == 3)

            let hourly = try #require(
                try await admin.client.get(
                    "/api/v1/stations/CP-1/meter-values?resolution=hourly&measurand=Energy.Active.Import.Register"
                        + "&connectorId=1"
                ).json)
            let buckets = hourly["items"]?.array ?? []
            #expect(buckets.count == 2)
            #expect(buckets.first?["energyDelta"]?.number == 500)
            #expect(buckets.first?["samples"]?.number == 6)
            #expect(buckets.last?["max"]?.number == 1100)

            let ofTransaction = try #require(
                try await admin.client.get(
                    "/api/v1/transactions/1/meter-values?resolution=hourly&measurand=Power.Active.Import"
                ).json)
            #expect(ofTransaction["items"]?.array?.count == 2)
            #expect(ofTransaction["items"]?[0]?["avg"]?.number == 7000)
            let window = try #require(
                try await admin.client.get(
                    "/api/v1/stations/CP-1/meter-values?from=\(RFC3339.format(base.addingTimeInterval(7200)))"
                        + "&to=\(RFC3339.format(base.addingTimeInterval(10_800)))"
                ).json)
            #expect(window["items"]?.array?.count == 1)
            #expect(window["items"]?[0]?["transactionId"]?.isNull == true)
            #expect(try await admin.client.get("/api/v1/stations/CP-NONE/meter-values").status == 404)
            #expect(try await admin.client.get("/api/v1/transactions/1/meter-values?resolution=daily").status == 400)
        }
    }

    @Test func createsBlocksAndListsIdTags() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            let created = try await admin.client.post(
                "/api/v1/id-tags", #"{"idTag":"RFID-1","expiryDate":"2030-01-01T00:00:00Z","parentIdTag":"GROUP"}"#)
            #expect(created.status == 201)
            #expect(created.json?["status"]?.string == "Accepted")
            #expect(created.json?["expiryDate"]?.date == RFC3339.parse("2030-01-01T00:00:00Z"))
            #expect(try await admin.client.post("/api/v1/id-tags", #"{"idTag":"RFID-1"}"#).status == 409)
            let tooLong = try await admin.client.post("/api/v1/id-tags", #"{"idTag":"123456789012345678901"}"#)
            #expect(tooLong.status == 400)
            #expect(tooLong.json?["field"]?.string == "idTag")
            _ = try await admin.client.post("/api/v1/id-tags", #"{"idTag":"RFID-2"}"#)

            let blocked = try await admin.client.post("/api/v1/id-tags/RFID-1/block")
            #expect(blocked.json?["status"]?.string == "Blocked")
            #expect(
                try await client.scalar("SELECT status FROM ocpp.id_tags WHERE id_tag = 'RFID-1'", as: String.self)
                    == "Blocked")
            let list = try #require(try await admin.client.get("/api/v1/id-tags?status=Blocked").json)
            #expect(list["items"]?.array?.compactMap { $0["idTag"]?.string } == ["RFID-1"])
            let unblocked = try await admin.client.post("/api/v1/id-tags/RFID-1/unblock")
            #expect(unblocked.json?["status"]?.string == "Accepted")
            #expect(try await admin.client.get("/api/v1/id-tags/RFID-2").json?["idTag"]?.string == "RFID-2")
            #expect(try await admin.client.post("/api/v1/id-tags/NONE/block").status == 404)
        }
    }

    @Test func listsAStationsEventsNewestFirstByAction() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                """
                WITH s AS (INSERT INTO ocpp.stations (identity) VALUES ('CP-1') RETURNING id)
                INSERT INTO ocpp.station_events (station_id, inbox_id, action, payload, received_at)
                SELECT s.id, n, CASE WHEN n = 2 THEN 'DataTransfer' ELSE 'SecurityEventNotification' END,
                       jsonb_build_object('type', 'Event' || n), now()
                FROM s, generate_series(1, 3) AS n
                """)
            let events = try #require(
                try await admin.client.get("/api/v1/stations/CP-1/events?action=SecurityEventNotification").json)
            #expect(events["items"]?.array?.compactMap { $0["payload"]?["type"]?.string } == ["Event3", "Event1"])
        }
    }
}
