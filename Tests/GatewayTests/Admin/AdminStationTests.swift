import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// Stations through the admin API: list with filters and pages, register, read one
/// with what belongs to it, accept a pending one, set its validation mode.
@Suite("Admin API: stations", .serialized, .timeLimit(.minutes(2)))
struct AdminStationTests {
    @Test func listsStationsByFilterInPages() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                """
                INSERT INTO ocpp.stations (identity, registration_status)
                SELECT 'CP-' || lpad(n::text, 3, '0'), CASE WHEN n % 2 = 0 THEN 'Pending' ELSE 'Accepted' END
                FROM generate_series(1, 25) AS n
                """)
            var seen: [String] = []
            var path = "/api/v1/stations?registrationStatus=Accepted&limit=5"
            while true {
                let page = try #require(try await admin.client.get(path).json)
                for item in page["items"]?.array ?? [] {
                    #expect(item["registrationStatus"]?.string == "Accepted")
                    seen.append(try #require(item["identity"]?.string))
                }
                guard let next = page["next"]?.string else { break }
                path = "/api/v1/stations?registrationStatus=Accepted&limit=5&after=\(next)"
            }
            let expected = stride(from: 1, through: 25, by: 2).map { "CP-" + String(format: "%03d", $0) }
            #expect(seen == expected)
            let offline = try #require(try await admin.client.get("/api/v1/stations?online=false&limit=1000").json)
            #expect(offline["items"]?.array?.count == 25)
        }
    }

    @Test func registersAStationOnceAndRefusesABadIdentity() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            let created = try await admin.client.post(
                "/api/v1/stations", #"{"identity":"CP-NEW","registrationStatus":"Pending"}"#)
            #expect(created.status == 201)
            #expect(created.json?["identity"]?.string == "CP-NEW")
            #expect(created.json?["registrationStatus"]?.string == "Pending")
            #expect(try await admin.client.post("/api/v1/stations", #"{"identity":"CP-NEW"}"#).status == 409)

            let bad = try await admin.client.post("/api/v1/stations", #"{"identity":"has:colon"}"#)
            #expect(bad.status == 400)
            #expect(bad.json?["field"]?.string == "identity")
            let typo = try await admin.client.post(
                "/api/v1/stations", #"{"identity":"CP-X","registration":"Accepted"}"#)
            #expect(typo.status == 400)
            #expect(typo.json?["field"]?.string == "registration")
            #expect(try await admin.client.post("/api/v1/stations", "not json").status == 400)
            #expect(
                try await client.scalar("SELECT count(*) FROM ocpp.stations", as: Int.self) == 1)
        }
    }

    @Test func readsAStationWithConnectorsConfigurationAndOpenTransaction() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                """
                WITH s AS (
                    INSERT INTO ocpp.stations (identity, registration_status, vendor, model, firmware_version)
                    VALUES ('CP-1', 'Accepted', 'ACME', 'Fast', '1.2.3') RETURNING id
                ), c AS (
                    INSERT INTO ocpp.connectors (station_id, connector_id, status, error_code, status_at)
                    SELECT id, n, 'Charging', 'NoError', now() FROM s, generate_series(1, 2) AS n
                ), k AS (
                    INSERT INTO ocpp.station_configuration (station_id, key, value, readonly)
                    SELECT id, 'HeartbeatInterval', '300', false FROM s
                )
                INSERT INTO ocpp.transactions (id, station_id, connector_id, id_tag, meter_start, started_at)
                SELECT 42, id, 1, 'TAG-1', 1000, now() FROM s
                """)
            let station = try #require(try await admin.client.get("/api/v1/stations/CP-1").json)
            #expect(station["boot"]?["chargePointVendor"]?.string == "ACME")
            #expect(station["boot"]?["firmwareVersion"]?.string == "1.2.3")
            #expect(station["connectors"]?.array?.compactMap { $0["connectorId"]?.number } == [1, 2])
            #expect(station["configuration"]?[0]?["key"]?.string == "HeartbeatInterval")
            #expect(station["configuration"]?[0]?["value"]?.string == "300")
            #expect(station["openTransactions"]?[0]?["id"]?.number == 42)
            #expect(station["openTransactions"]?[0]?["status"]?.string == "Active")

            let missing = try await admin.client.get("/api/v1/stations/CP-NONE")
            #expect(missing.status == 404)
            #expect(missing.json?["error"]?.string == "not_found")
        }
    }

    @Test func acceptsAPendingStation() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-P', 'Pending')")
            let accepted = try await admin.client.post("/api/v1/stations/CP-P/accept")
            #expect(accepted.status == 200)
            #expect(accepted.json?["registrationStatus"]?.string == "Accepted")
            #expect(
                try await client.scalar(
                    "SELECT registration_status FROM ocpp.stations WHERE identity = 'CP-P'", as: String.self)
                    == "Accepted")
            #expect(try await admin.client.post("/api/v1/stations/CP-NONE/accept").status == 404)
        }
    }

    @Test func setsReadsAndClearsAStationsValidationMode() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-V', 'Accepted')")
            let path = "/api/v1/stations/CP-V/validation-mode"
            func stored() async throws -> String? {
                try await client.scalar(
                    "SELECT validation_mode FROM ocpp.stations WHERE identity = 'CP-V'", as: String?.self)
            }
            let initial = try #require(try await admin.client.get("/api/v1/stations/CP-V").json)
            #expect(initial["validationMode"] == JSONValue.null, "no mode of its own: the gateway default")

            let set = try await admin.client.send("PUT", path, body: #"{"validationMode":"tolerant"}"#)
            #expect(set.status == 200)
            #expect(set.json?["identity"]?.string == "CP-V")
            #expect(set.json?["validationMode"]?.string == "tolerant")
            #expect(try await stored() == "tolerant")
            let read = try #require(try await admin.client.get("/api/v1/stations/CP-V").json)
            #expect(read["validationMode"]?.string == "tolerant")
            let listed = try #require(try await admin.client.get("/api/v1/stations").json)
            #expect(listed["items"]?[0]?["validationMode"]?.string == "tolerant")

            let strict = try await admin.client.send("PUT", path, body: #"{"validationMode":"strict"}"#)
            #expect(strict.json?["validationMode"]?.string == "strict")
            #expect(try await stored() == "strict")

            let cleared = try await admin.client.send("PUT", path, body: #"{"validationMode":null}"#)
            #expect(cleared.status == 200)
            #expect(cleared.json?["validationMode"] == JSONValue.null)
            #expect(try await stored() == nil)
            let readCleared = try #require(try await admin.client.get("/api/v1/stations/CP-V").json)
            #expect(readCleared["validationMode"] == JSONValue.null)
        }
    }

    @Test func refusesAnInvalidValidationModeAndAnUnknownStation() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await client.query(
                """
                INSERT INTO ocpp.stations (identity, registration_status, validation_mode)
                VALUES ('CP-V', 'Accepted', 'tolerant')
                """)
            let path = "/api/v1/stations/CP-V/validation-mode"
            let lenient = try await admin.client.send("PUT", path, body: #"{"validationMode":"lenient"}"#)
            #expect(lenient.status == 400)
            #expect(lenient.json?["error"]?.string == "bad_request")
            #expect(lenient.json?["field"]?.string == "validationMode")
            let message = try #require(lenient.json?["message"]?.string)
            #expect(message.contains("validationMode") && message.contains("strict") && message.contains("tolerant"))
            for body in [#"{"validationMode":"Tolerant"}"#, #"{"validationMode":1}"#, "{}"] {
                let reply = try await admin.client.send("PUT", path, body: body)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.json?["field"]?.string == "validationMode", "\(body)")
            }
            let typo = try await admin.client.send("PUT", path, body: #"{"mode":"strict"}"#)
            #expect(typo.status == 400)
            #expect(typo.json?["field"]?.string == "mode")
            #expect(
                try await client.scalar(
                    "SELECT validation_mode FROM ocpp.stations WHERE identity = 'CP-V'", as: String.self)
                    == "tolerant", "a refused request changes nothing")

            let missing = try await admin.client.send(
                "PUT", "/api/v1/stations/CP-NONE/validation-mode", body: #"{"validationMode":"tolerant"}"#)
            #expect(missing.status == 404)
            #expect(missing.json?["error"]?.string == "not_found")
        }
    }

    @Test func refusesUnknownAndMalformedQueryParameters() async throws {
        try await AdminHarness.withAdmin { _, _, admin in
            let cases = [
                ("/api/v1/stations?registration=Accepted", "registration"),
                ("/api/v1/stations?registrationStatus=accepted", "registrationStatus"),
                ("/api/v1/stations?limit=0", "limit"),
                ("/api/v1/stations?limit=1001", "limit"),
                ("/api/v1/stations?online=yes", "online"),
                ("/api/v1/stations?after=!!", "after"),
                ("/api/v1/transactions?from=yesterday", "from"),
            ]
            for (path, field) in cases {
                let reply = try await admin.client.get(path)
                #expect(reply.status == 400, "\(path)")
                #expect(reply.json?["field"]?.string == field, "\(path)")
            }
        }
    }
}
