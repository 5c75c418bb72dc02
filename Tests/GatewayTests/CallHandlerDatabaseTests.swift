import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Gateway

/// The production handler (``CallHandler/init(settings:client:logger:)``) on a real
/// PostgreSQL (`DATABASE_URL`): registrations and id tags as stored.
@Suite struct CallHandlerDatabaseTests {
    static let receivedAt = Date(timeIntervalSince1970: 1_714_557_600)

    static func settings(_ policy: GatewaySettings.AuthorizationPolicy) throws -> GatewaySettings {
        var settings = GatewaySettings(gatewayID: "gw-test", database: try TestDatabase.serverConfiguration)
        settings.authorizationPolicy = policy
        settings.heartbeatInterval = 600
        settings.bootRetryInterval = 20
        return settings
    }

    static func boot(_ handler: CallHandler, _ station: StationContext) async throws -> BootNotificationResponse {
        let request = BootNotificationRequest(chargePointVendor: "Acme", chargePointModel: "Fast-50")
        let prepared = try await handler.prepare(request, station: station, receivedAt: receivedAt)
        let response = try BootNotificationResponse(json: prepared.response.json())
        #expect(prepared.registrationStatus == response.status)
        return response
    }

    @Test func bootNotificationReadsTheStoredRegistrationAtEachBoot() async throws {
        let settings = try Self.settings(.open)
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let id = try await client.scalar(
                "INSERT INTO ocpp.stations (identity) VALUES (\("CP-NEW")) RETURNING id", as: Int64.self)
            let station = StationContext(stationID: id, identity: "CP-NEW")
            let handler = CallHandler(settings: settings, client: client, logger: TestDatabase.logger)

            let pending = try await Self.boot(handler, station)
            #expect(pending.status == .pending)
            #expect(pending.interval == 20)

            // An operator accepts the station; its next boot is accepted.
            try await client.query(
                "UPDATE ocpp.stations SET registration_status = 'Accepted' WHERE id = \(id)",
                logger: TestDatabase.logger)
            let accepted = try await Self.boot(handler, station)
            #expect(accepted.status == .accepted)
            #expect(accepted.interval == 600)

            try await client.query(
                "UPDATE ocpp.stations SET registration_status = 'Rejected' WHERE id = \(id)",
                logger: TestDatabase.logger)
            #expect(try await Self.boot(handler, station).status == .rejected)

            // A station row deleted while the station is connected: not registered.
            let gone = StationContext(stationID: id + 1000, identity: "CP-GONE")
            let rejected = try await Self.boot(handler, gone)
            #expect(rejected.status == .rejected)
            #expect(rejected.interval == 20)
        }
    }

    @Test func theAuthorizationPolicyComesFromTheSettings() async throws {
        let strict = try Self.settings(.strict)
        let open = try Self.settings(.open)
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let id = try await client.scalar(
                "INSERT INTO ocpp.stations (identity) VALUES (\("CP-1")) RETURNING id", as: Int64.self)
            let station = StationContext(stationID: id, identity: "CP-1")
            try await client.query(
                "INSERT INTO ocpp.id_tags (id_tag, status) VALUES (\("BLOCKED"), 'Blocked')",
                logger: TestDatabase.logger)

            for (settings, known, unknown) in [
                (strict, AuthorizationStatus.blocked, AuthorizationStatus.invalid), (open, .accepted, .accepted),
            ] {
                let handler = CallHandler(settings: settings, client: client, logger: TestDatabase.logger)
                let authorize = try await handler.prepare(
                    AuthorizeRequest(idTag: "BLOCKED"), station: station, receivedAt: Self.receivedAt)
                #expect(try AuthorizeResponse(json: authorize.response.json()).idTagInfo.status == known)
                let start = try await handler.prepare(
                    StartTransactionRequest(connectorId: 1, idTag: "NOBODY", meterStart: 0, timestamp: Self.receivedAt),
                    station: station, receivedAt: Self.receivedAt)
                let response = try StartTransactionResponse(json: start.response.json())
                #expect(response.idTagInfo.status == unknown)
            }
        }
    }

    /// Authorize answers the tag's own status; StartTransaction decides ConcurrentTx
    /// on the database, in any case of the tag (OCPP 1.6 §7.2: ConcurrentTx is for
    /// StartTransaction only).
    @Test func concurrentTxAnswersOnlyAStartElsewhere() async throws {
        let settings = try Self.settings(.strict)
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            var stations: [StationContext] = []
            for identity in ["CP-1", "CP-2"] {
                let id = try await client.scalar(
                    "INSERT INTO ocpp.stations (identity) VALUES (\(identity)) RETURNING id", as: Int64.self)
                stations.append(StationContext(stationID: id, identity: identity))
            }
            try await client.query(
                "INSERT INTO ocpp.id_tags (id_tag, status, parent_id_tag) VALUES ('Tag-1', 'Accepted', 'Fleet')",
                logger: TestDatabase.logger)
            let handler = CallHandler(settings: settings, client: client, logger: TestDatabase.logger)

            func authorize(_ idTag: String, at station: StationContext) async throws -> IdTagInfo {
                let prepared = try await handler.prepare(
                    AuthorizeRequest(idTag: idTag), station: station, receivedAt: Self.receivedAt)
                return try AuthorizeResponse(json: prepared.response.json()).idTagInfo
            }
            func start(_ idTag: String, at station: StationContext, connector: Int) async throws -> IdTagInfo {
                let prepared = try await handler.prepare(
                    StartTransactionRequest(
                        connectorId: connector, idTag: idTag, meterStart: 0, timestamp: Self.receivedAt),
                    station: station, receivedAt: Self.receivedAt)
                return try StartTransactionResponse(json: prepared.response.json()).idTagInfo
            }

            let accepted = IdTagInfo(status: .accepted, parentIdTag: "Fleet")
            #expect(try await authorize("TAG-1", at: stations[0]) == accepted)
            #expect(try await start("tag-1", at: stations[0], connector: 1) == accepted)
            // The batch statement commits the start's row before the answer goes out.
            try await client.query(
                """
                INSERT INTO ocpp.transaction_starts (station_id, connector_id, id_tag, started_at, meter_start)
                VALUES (\(stations[0].stationID), 1, 'tag-1', \(Self.receivedAt), 0)
                """, logger: TestDatabase.logger)

            // Authorize is the tag's own status, on either charger, in any case.
            for station in stations {
                #expect(try await authorize("Tag-1", at: station) == accepted)
                #expect(try await authorize("TAG-1", at: station) == accepted)
            }
            // A start on another charger or connector: ConcurrentTx, though Authorize
            // has just been answered (and cached) Accepted.
            #expect(try await start("TAG-1", at: stations[1], connector: 1).status == .concurrentTx)
            #expect(try await start("Tag-1", at: stations[0], connector: 2).status == .concurrentTx)
            // The first charger retrying its start: Accepted.
            #expect(try await start("tag-1", at: stations[0], connector: 1) == accepted)
        }
    }
}
