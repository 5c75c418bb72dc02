import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// Answers that come back over a real WebSocket leave what operators read: the
/// station's configuration, local list version, reservations, uploaded file names and
/// installed certificates. And commands that expired or were cancelled while the
/// station was away are never sent when it returns.
@Suite("Command effects and queue ends, end to end", .serialized, .timeLimit(.minutes(2)))
struct CommandEffectsEndToEndTests {
    /// Each command with the answer the station gives.
    static let exchanges: [(action: String, payload: String, answer: String)] = [
        (
            "GetConfiguration", #"{}"#,
            #"{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"},"#
                + #"{"key":"ChargePointModel","readonly":true,"value":"M1"}]}"#
        ),
        ("ChangeConfiguration", #"{"key":"HeartbeatInterval","value":"60"}"#, #"{"status":"Accepted"}"#),
        ("GetLocalListVersion", #"{}"#, #"{"listVersion":4}"#),
        ("SendLocalList", #"{"listVersion":8,"updateType":"Full"}"#, #"{"status":"Accepted"}"#),
        (
            "ReserveNow", #"{"connectorId":1,"expiryDate":"2030-01-01T00:00:00Z","idTag":"TAG","reservationId":9}"#,
            #"{"status":"Accepted"}"#
        ),
        (
            "ReserveNow", #"{"connectorId":2,"expiryDate":"2030-01-01T00:00:00Z","idTag":"TAG","reservationId":10}"#,
            #"{"status":"Accepted"}"#
        ),
        ("CancelReservation", #"{"reservationId":9}"#, #"{"status":"Accepted"}"#),
        ("GetDiagnostics", #"{"location":"ftp://x/"}"#, #"{"fileName":"diag.zip"}"#),
        (
            "GetLog", #"{"log":{"remoteLocation":"https://logs/"},"logType":"DiagnosticsLog","requestId":1}"#,
            #"{"status":"Accepted","filename":"log.tgz"}"#
        ),
        (
            "GetInstalledCertificateIds", #"{"certificateType":"CentralSystemRootCertificate"}"#,
            #"{"status":"Accepted","certificateHashData":[{"hashAlgorithm":"SHA256","issuerNameHash":"aa","#
                + #""issuerKeyHash":"bb","serialNumber":"01"}]}"#
        ),
    ]

    @Test func answersOverTheWebSocketLeaveTheirEffects() async throws {
        try await GatewayHarness.withGateway { client, _, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-FX")
            _ = try await station.callResult("Heartbeat", [:])
            for exchange in Self.exchanges {
                let id = try await client.scalar(
                    "SELECT ocpp.enqueue_call('CP-FX', \(exchange.action), \(exchange.payload)::jsonb)",
                    as: String.self)
                let call = try #require(try await station.nextReply())
                #expect(call.contains(#""\#(exchange.action)""#))
                try await station.send(#"[3,"\#(id)",\#(exchange.answer)]"#)
                try await eventually("\(exchange.action) is answered") {
                    try await client.scalar(
                        "SELECT status FROM ocpp.station_messages WHERE message_id = \(id)", as: String.self)
                        == "answered"
                }
            }
            #expect(
                try await client.scalar(
                    """
                    SELECT string_agg(key || '=' || value || CASE WHEN readonly THEN ' ro' ELSE ' rw' END, ', '
                                      ORDER BY key)
                    FROM ocpp.station_configuration
                    """, as: String.self) == "ChargePointModel=M1 ro, HeartbeatInterval=60 rw")
            #expect(try await client.scalar("SELECT local_list_version FROM ocpp.stations", as: Int.self) == 8)
            #expect(
                try await client.scalar(
                    "SELECT string_agg(reservation_id || ' ' || status, ', ' ORDER BY reservation_id) FROM ocpp.reservations",
                    as: String.self) == "9 Cancelled, 10 Reserved")
            #expect(
                try await client.scalar(
                    "SELECT string_agg(kind || ' ' || file_name, ', ' ORDER BY kind) FROM ocpp.station_files",
                    as: String.self) == "diagnostics diag.zip, log log.tgz")
            #expect(
                try await client.scalar(
                    "SELECT certificate_type || ' ' || serial_number FROM ocpp.installed_certificates",
                    as: String.self) == "CentralSystemRootCertificate 01")
            await station.close()
        }
    }

    /// Queued while the station is away: one expires (the worker's job marks it), one
    /// is cancelled over the admin API; only the third reaches the station.
    @Test func expiredAndCancelledCommandsAreNeverSent() async throws {
        try await GatewayHarness.withGateway { client, configuration, gateway in
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-AWAY', 'Accepted')")
            let expiring = try await client.scalar(
                "SELECT ocpp.enqueue_call('CP-AWAY', 'ClearCache', '{}', expires_at => now() + interval '1 second')",
                as: String.self)
            let cancelled = try await client.scalar(
                "SELECT ocpp.enqueue_call('CP-AWAY', 'ClearCache', '{}')", as: String.self)
            let kept = try await client.scalar(
                "SELECT ocpp.enqueue_call('CP-AWAY', 'ClearCache', '{}')", as: String.self)

            let admin = try await AdminHarness.start(database: configuration)
            do {
                #expect(try await admin.client.delete("/api/v1/commands/\(cancelled)").status == 200)
                // The worker's command-expiry job runs every 5 seconds.
                try await eventually("the first command expires") {
                    try await admin.client.get("/api/v1/commands/\(expiring)").json?["status"]?.string == "expired"
                }
                // An Accepted station reconnecting (no reboot, so no BootNotification)
                // gets its queue at once.
                let station = try await TestStation.connect(port: gateway.port, identity: "CP-AWAY")
                let call = try #require(try await station.nextReply())
                #expect(call.contains(#""\#(kept)""#))
                try await station.send(#"[3,"\#(kept)",{"status":"Accepted"}]"#)
                let more = try? await station.nextReply(timeout: .milliseconds(500))
                #expect(more == nil)
                await station.close()
            } catch {
                try? await admin.stop()
                throw error
            }
            try await admin.stop()
        }
    }
}
