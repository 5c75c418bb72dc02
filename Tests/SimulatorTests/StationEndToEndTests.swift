import Foundation
import NIOPosix
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Gateway
@testable import Simulator

/// `ocpp-sim station` against a real gateway and worker: boot, heartbeat, status,
/// and commands queued with SQL carried out to a transaction with meter values.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct StationEndToEndTests {
    @Test func aQueuedRemoteStartChargesAndARemoteStopEndsIt() async throws {
        try await CentralSystem.run(configureGateway: { $0.heartbeatInterval = 1 }) { system in
            let client = system.client
            var settings = StationSettings(
                identity: "SIM-E2E",
                connector: try WebSocketConnector(endpoint: try StationEndpoint(url: system.endpoint)),
                password: nil)
            settings.meterInterval = 1
            settings.speed = 5
            settings.reconnectDelay = .milliseconds(200)
            settings.printer.isEnabled = false
            let station = StationRunner(settings: settings, group: MultiThreadedEventLoopGroup.singleton)

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await station.run() }
                defer { group.cancelAll() }

                try await eventually("boot and three connector statuses are applied") {
                    try await client.scalar(
                        """
                        SELECT count(*) FROM ocpp.connectors AS c JOIN ocpp.stations AS s ON s.id = c.station_id
                        WHERE s.identity = 'SIM-E2E' AND c.status = 'Available' AND s.last_boot_at IS NOT NULL
                        """, as: Int.self) == 3
                }
                try await eventually("a heartbeat arrives at the interval the gateway gave") {
                    try await client.scalar(
                        "SELECT count(*) FROM ocpp.inbox WHERE action = 'Heartbeat'", as: Int.self) > 0
                }

                let start = try await client.scalar(
                    """
                    SELECT ocpp.enqueue_call('SIM-E2E', 'RemoteStartTransaction',
                                             '{"idTag": "TAG-E2E", "connectorId": 2}')
                    """, as: String.self)
                try await eventually("the station accepts the remote start") {
                    try await client.scalar(
                        "SELECT coalesce(response->>'status', status) FROM ocpp.station_messages WHERE message_id = \(start)",
                        as: String.self) == "Accepted"
                }
                try await eventually("a transaction with meter values is stored") {
                    try await client.scalar(
                        """
                        SELECT count(*) FROM ocpp.meter_values AS m JOIN ocpp.transactions AS t ON t.id = m.transaction_id
                        WHERE t.id_tag = 'TAG-E2E' AND t.connector_id = 2 AND t.stopped_at IS NULL
                        """, as: Int.self) >= 2 * MeterSampler.valuesPerSample
                }
                let transactionID = try await client.scalar(
                    "SELECT id FROM ocpp.transactions WHERE id_tag = 'TAG-E2E'", as: Int.self)
                #expect(
                    try await client.scalar(
                        "SELECT status FROM ocpp.connectors WHERE connector_id = 2", as: String.self) == "Charging")

                _ = try await client.scalar(
                    """
                    SELECT ocpp.enqueue_call('SIM-E2E', 'RemoteStopTransaction',
                                             jsonb_build_object('transactionId', \(transactionID)::int))
                    """, as: String.self)
                try await eventually("the transaction is stopped remotely") {
                    try await client.scalar(
                        "SELECT coalesce(stop_reason, '') FROM ocpp.transactions WHERE id = \(transactionID)",
                        as: String.self) == "Remote"
                }
                try await eventually("the connector is available again") {
                    try await client.scalar(
                        "SELECT status FROM ocpp.connectors WHERE connector_id = 2", as: String.self) == "Available"
                }
                let stored = try await client.scalar(
                    "SELECT count(*) FROM ocpp.meter_values WHERE transaction_id = \(transactionID)", as: Int.self)
                #expect(stored % MeterSampler.valuesPerSample == 0)
            }
        }
    }

    @Test func aScriptedSessionRunsFromPlugInToAvailable() async throws {
        try await CentralSystem.run { system in
            var settings = StationSettings(
                identity: "SIM-SCRIPT",
                connector: try WebSocketConnector(endpoint: try StationEndpoint(url: system.endpoint)),
                password: nil)
            settings.meterInterval = 10
            settings.speed = 100
            settings.printer.isEnabled = false
            let station = StationRunner(settings: settings, group: MultiThreadedEventLoopGroup.singleton)
            let summary = try await StationScript.run(
                ChargingScript(idTag: "TAG-S", chargeMinutes: 1), on: station)
            #expect(summary.meterValues == 6)
            #expect(summary.energyWh > 0)
            try await eventually("the worker stores the session") {
                let values = try await system.client.scalar(
                    "SELECT count(*) FROM ocpp.meter_values WHERE transaction_id = \(summary.transactionID)",
                    as: Int.self)
                let meterStop = try await system.client.scalar(
                    "SELECT meter_stop FROM ocpp.transactions WHERE id = \(summary.transactionID)", as: Int?.self)
                return values == summary.sampledValues && meterStop == summary.energyWh
            }
        }
    }
}
