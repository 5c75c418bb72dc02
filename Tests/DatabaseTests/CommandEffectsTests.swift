import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// The effects of answered commands that operators read: configuration, local list
/// version, reservations, uploaded files, installed certificates. The answer is
/// recorded here the way the gateway records it (status `answered` with the
/// response); the trigger does the rest.
@Suite("Effects of answered commands")
struct CommandEffectsTests {
    @Test func getConfigurationFillsTheTableAndChangeConfigurationUpdatesIt() async throws {
        try await withStation { client in
            try await answer(
                client, "GetConfiguration", #"{}"#,
                #"{"configurationKey": [{"key": "HeartbeatInterval", "readonly": false, "value": "300"},"#
                    + #" {"key": "ChargePointModel", "readonly": true, "value": "M1"}, {"key": "Empty", "readonly": false}]}"#
            )
            #expect(
                try await configuration(client) == [
                    "ChargePointModel=M1 ro", "Empty=nil rw", "HeartbeatInterval=300 rw",
                ])

            try await answer(
                client, "ChangeConfiguration", #"{"key": "HeartbeatInterval", "value": "60"}"#,
                #"{"status": "Accepted"}"#)
            try await answer(
                client, "ChangeConfiguration", #"{"key": "ChargePointModel", "value": "X"}"#, #"{"status": "Rejected"}"#
            )
            try await answer(
                client, "ChangeConfiguration", #"{"key": "NewKey", "value": "1"}"#, #"{"status": "RebootRequired"}"#)
            #expect(
                try await configuration(client) == [
                    "ChargePointModel=M1 ro", "Empty=nil rw", "HeartbeatInterval=60 rw", "NewKey=1 nil",
                ])
        }
    }

    @Test func localListVersionFromBothCommands() async throws {
        try await withStation { client in
            try await answer(client, "GetLocalListVersion", "{}", #"{"listVersion": 4}"#)
            #expect(try await listVersion(client) == 4)
            try await answer(
                client, "SendLocalList", #"{"listVersion": 7, "updateType": "Full"}"#, #"{"status": "Failed"}"#)
            #expect(try await listVersion(client) == 4)
            try await answer(
                client, "SendLocalList", #"{"listVersion": 8, "updateType": "Full"}"#, #"{"status": "Accepted"}"#)
            #expect(try await listVersion(client) == 8)
        }
    }

    @Test func reservationsAreMadeAndCancelled() async throws {
        try await withStation { client in
            let reserve =
                #"{"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "TAG", "reservationId": 9}"#
            try await answer(client, "ReserveNow", reserve, #"{"status": "Occupied"}"#)
            #expect(try await reservations(client) == [])
            try await answer(client, "ReserveNow", reserve, #"{"status": "Accepted"}"#)
            #expect(try await reservations(client) == ["9 1 TAG Reserved"])
            try await answer(client, "CancelReservation", #"{"reservationId": 9}"#, #"{"status": "Accepted"}"#)
            #expect(try await reservations(client) == ["9 1 TAG Cancelled"])
        }
    }

    @Test func diagnosticsAndLogFileNamesAreRecorded() async throws {
        try await withStation { client in
            try await answer(client, "GetDiagnostics", #"{"location": "ftp://x/"}"#, #"{"fileName": "diag.zip"}"#)
            try await answer(client, "GetDiagnostics", #"{"location": "ftp://x/"}"#, "{}")
            try await answer(
                client, "GetLog",
                #"{"log": {"remoteLocation": "https://logs/"}, "logType": "DiagnosticsLog", "requestId": 1}"#,
                #"{"status": "Accepted", "filename": "log.tgz"}"#)
            let files = try await client.query(
                "SELECT kind || ' ' || file_name || ' ' || location FROM ocpp.station_files ORDER BY id",
                logger: TestDatabase.logger
            ).collect().map { try $0.decode(String.self) }
            #expect(files == ["diagnostics diag.zip ftp://x/", "log log.tgz https://logs/"])
        }
    }

    @Test func installedCertificatesAreReplacedPerType() async throws {
        try await withStation { client in
            func hash(_ serial: String) -> String {
                #"{"hashAlgorithm": "SHA256", "issuerNameHash": "aa", "issuerKeyHash": "bb", "serialNumber": "\#(serial)"}"#
            }
            let root = #"{"certificateType": "CentralSystemRootCertificate"}"#
            try await answer(
                client, "GetInstalledCertificateIds", root,
                #"{"status": "Accepted", "certificateHashData": [\#(hash("1")), \#(hash("2"))]}"#)
            try await answer(
                client, "GetInstalledCertificateIds", #"{"certificateType": "ManufacturerRootCertificate"}"#,
                #"{"status": "Accepted", "certificateHashData": [\#(hash("9"))]}"#)
            try await answer(
                client, "GetInstalledCertificateIds", root,
                #"{"status": "Accepted", "certificateHashData": [\#(hash("3"))]}"#)
            let serials = try await client.query(
                "SELECT certificate_type || ' ' || serial_number FROM ocpp.installed_certificates ORDER BY 1",
                logger: TestDatabase.logger
            ).collect().map { try $0.decode(String.self) }
            #expect(serials == ["CentralSystemRootCertificate 3", "ManufacturerRootCertificate 9"])
        }
    }

    @Test func anAnswerWhoseEffectCannotBeStoredIsStillRecorded() async throws {
        try await withStation { client in
            let id = try await answer(client, "GetLocalListVersion", "{}", #"{"listVersion": 1e30}"#)
            #expect(
                try await client.scalar("SELECT status FROM ocpp.station_messages WHERE message_id = \(id)")
                    == "answered")
            #expect(try await listVersion(client) == nil)
        }
    }

    // MARK: Helpers

    private func withStation(_ body: @Sendable (PostgresClient) async throws -> Void) async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            try await client.query(
                "INSERT INTO ocpp.stations (identity, registration_status) VALUES ('CP-1', 'Accepted')",
                logger: TestDatabase.logger)
            try await body(client)
        }
    }

    /// Queues a command and records `response` as its answer, as the gateway does.
    @discardableResult
    private func answer(
        _ client: PostgresClient, _ action: String, _ payload: String, _ response: String
    )
        async throws -> String
    {
        let id = try await client.scalar(
            "SELECT ocpp.enqueue_call('CP-1', \(action), \(payload)::jsonb)", as: String.self)
        try await client.query(
            "UPDATE ocpp.station_messages SET status = 'sent', sent_at = now() WHERE message_id = \(id)",
            logger: TestDatabase.logger)
        try await client.query(
            """
            UPDATE ocpp.station_messages
            SET status = 'answered', response = \(response)::jsonb, answered_at = now(), closed_at = now()
            WHERE message_id = \(id)
            """, logger: TestDatabase.logger)
        return id
    }

    private func configuration(_ client: PostgresClient) async throws -> [String] {
        try await client.query(
            """
            SELECT key || '=' || coalesce(value, 'nil') || ' '
                   || CASE readonly WHEN true THEN 'ro' WHEN false THEN 'rw' ELSE 'nil' END
            FROM ocpp.station_configuration ORDER BY key
            """, logger: TestDatabase.logger
        ).collect().map { try $0.decode(String.self) }
    }

    private func listVersion(_ client: PostgresClient) async throws -> Int? {
        try await client.scalar("SELECT local_list_version FROM ocpp.stations", as: Int?.self)
    }

    private func reservations(_ client: PostgresClient) async throws -> [String] {
        try await client.query(
            """
            SELECT reservation_id || ' ' || connector_id || ' ' || id_tag || ' ' || status
            FROM ocpp.reservations ORDER BY reservation_id
            """, logger: TestDatabase.logger
        ).collect().map { try $0.decode(String.self) }
    }
}
