import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// Commands through the admin API: the same validation and the same
/// `station_messages` row as `ocpp.enqueue_call`; list, read, cancel.
@Suite("Admin API: commands", .serialized, .timeLimit(.minutes(2)))
struct AdminCommandTests {
    static func addStation(_ client: PostgresClient, _ identity: String = "CP-1") async throws {
        try await client.query(
            "INSERT INTO ocpp.stations (identity, registration_status) VALUES (\(identity), 'Accepted')")
    }

    @Test func queuesAValidCommandAsTheSQLFunctionDoes() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await Self.addStation(client)
            let reply = try await admin.client.post(
                "/api/v1/stations/CP-1/commands",
                #"{"action":"ChangeConfiguration","payload":{"key":"HeartbeatInterval","value":"300"},"#
                    + #""expiresAt":"2099-01-01T00:00:00Z"}"#)
            #expect(reply.status == 201)
            let command = try #require(reply.json)
            let id = try #require(command["messageId"]?.string)
            #expect(command["status"]?.string == "pending")
            #expect(command["station"]?.string == "CP-1")
            #expect(command["payload"]?["key"]?.string == "HeartbeatInterval")
            #expect(
                try await client.scalar(
                    """
                    SELECT action || ' ' || status || ' ' || (payload->>'value') || ' ' || extract(year FROM expires_at)
                    FROM ocpp.station_messages WHERE message_id = \(id)
                    """, as: String.self) == "ChangeConfiguration pending 300 2099")

            let read = try #require(try await admin.client.get("/api/v1/commands/\(id)").json)
            #expect(read["messageId"]?.string == id)
            #expect(try await admin.client.get("/api/v1/commands/no-such-id").status == 404)
        }
    }

    @Test func refusesAnInvalidPayloadWithTheFieldPath() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await Self.addStation(client)
            let cases: [(body: String, status: Int, field: String)] = [
                (#"{"action":"Reset","payload":{"type":"Sft"}}"#, 422, "payload.type"),
                (#"{"action":"Reset","payload":{}}"#, 422, "payload.type"),
                (
                    #"{"action":"SetChargingProfile","payload":{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"#
                        + #""stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","#
                        + #""chargingSchedule":{"chargingRateUnit":"X","chargingSchedulePeriod":[{"startPeriod":0,"limit":16}]}}}}"#,
                    422, "payload.csChargingProfiles.chargingSchedule.chargingRateUnit"
                ),
                (#"{"action":"ChangeConfiguration","payload":{"key":"K","value":7}}"#, 422, "payload.value"),
                (#"{"action":"BootNotification","payload":{}}"#, 400, "action"),
                (#"{"action":"Launch","payload":{}}"#, 400, "action"),
                (#"{"payload":{}}"#, 400, "action"),
                (#"{"action":"Reset","payload":[]}"#, 400, "payload"),
                (#"{"action":"ClearCache","expiresAt":"soon"}"#, 400, "expiresAt"),
            ]
            for (body, status, field) in cases {
                let reply = try await admin.client.post("/api/v1/stations/CP-1/commands", body)
                #expect(reply.status == status, "\(body)")
                #expect(reply.json?["field"]?.string == field, "\(body): \(reply.text)")
            }
            let unknownStation = try await admin.client.post(
                "/api/v1/stations/CP-NONE/commands", #"{"action":"ClearCache"}"#)
            #expect(unknownStation.status == 404)
            #expect(
                try await client.scalar("SELECT count(*) FROM ocpp.station_messages", as: Int.self) == 0)
        }
    }

    @Test func aCollapseKeyReplacesThePendingCommandWithTheSameKey() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await Self.addStation(client)
            var ids: [String] = []
            for value in ["60", "120", "300"] {
                let reply = try await admin.client.post(
                    "/api/v1/stations/CP-1/commands",
                    #"{"action":"ChangeConfiguration","payload":{"key":"HeartbeatInterval","value":"\#(value)"},"#
                        + #""collapseKey":"config:HeartbeatInterval"}"#)
                ids.append(try #require(reply.json?["messageId"]?.string))
            }
            let pending = try #require(
                try await admin.client.get("/api/v1/commands?station=CP-1&status=pending").json)
            #expect(pending["items"]?.array?.count == 1)
            #expect(pending["items"]?[0]?["messageId"]?.string == ids[2])
            #expect(pending["items"]?[0]?["payload"]?["value"]?.string == "300")
            let replaced = try #require(try await admin.client.get("/api/v1/commands?status=replaced").json)
            #expect(Set(replaced["items"]?.array?.compactMap { $0["messageId"]?.string } ?? []) == Set(ids[0..<2]))
        }
    }

    @Test func cancelsAPendingCommandOnlyOnce() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await Self.addStation(client)
            let queued = try await admin.client.post("/api/v1/stations/CP-1/commands", #"{"action":"ClearCache"}"#)
            let id = try #require(queued.json?["messageId"]?.string)
            let cancelled = try await admin.client.delete("/api/v1/commands/\(id)")
            #expect(cancelled.status == 200)
            #expect(cancelled.json?["status"]?.string == "cancelled")
            #expect(cancelled.json?["closedAt"]?.string != nil)
            let again = try await admin.client.delete("/api/v1/commands/\(id)")
            #expect(again.status == 409)
            #expect(try await admin.client.delete("/api/v1/commands/no-such-id").status == 404)
        }
    }

    @Test func listsCommandsByStationAndStatusNewestFirstInPages() async throws {
        try await AdminHarness.withAdmin { client, _, admin in
            try await Self.addStation(client, "CP-1")
            try await Self.addStation(client, "CP-2")
            var ids: [String] = []
            for _ in 0..<7 {
                let reply = try await admin.client.post("/api/v1/stations/CP-1/commands", #"{"action":"ClearCache"}"#)
                ids.append(try #require(reply.json?["messageId"]?.string))
            }
            _ = try await admin.client.post("/api/v1/stations/CP-2/commands", #"{"action":"ClearCache"}"#)
            var seen: [String] = []
            var path = "/api/v1/commands?station=CP-1&limit=3"
            while true {
                let page = try #require(try await admin.client.get(path).json)
                seen += page["items"]?.array?.compactMap { $0["messageId"]?.string } ?? []
                guard let next = page["next"]?.string else { break }
                path = "/api/v1/commands?station=CP-1&limit=3&after=\(next)"
            }
            #expect(seen == ids.reversed())
            let answered = try #require(try await admin.client.get("/api/v1/commands?status=answered").json)
            #expect(answered["items"]?.array?.isEmpty == true)
        }
    }
}
