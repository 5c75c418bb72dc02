import CoreMetrics
import Foundation
import OCPP
import PostgresNIO
import Prometheus
import Shared
import TestSupport
import Testing

/// What `/metrics` reports after real traffic (station CALLs and a queued command): the gateway's metrics bound to a
/// Prometheus registry of this test (the process-wide backend can be bootstrapped
/// only once, so the test binds its own with `withMetricsFactory`).
@Suite("Gateway metrics", .serialized, .timeLimit(.minutes(2)))
struct GatewayMetricsTests {
    @Test func trafficShowsUpInThePrometheusText() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let registry = PrometheusCollectorRegistry()
            let gateway = try await withMetricsFactory(PrometheusMetricsFactory(registry: registry)) {
                try await GatewayHarness.start(database: configuration, prometheus: registry)
            }
            do {
                let station = try await TestStation.connect(port: gateway.port, identity: "CP-METRICS")
                _ = try await station.callResult("Heartbeat", [:])
                _ = try await station.callResult("Heartbeat", [:])
                _ = try await station.call("FlyToTheMoon", [:])
                // A queued command, sent and answered.
                let queue = CommandQueue(client: client, logger: TestDatabase.logger)
                let id = try await queue.enqueue(
                    try OutboundCommand(action: "ClearCache", payload: JSONObject([])), to: "CP-METRICS")
                _ = try #require(try await station.nextReply())
                try await station.send(#"[3,"\#(id)",{"status":"Accepted"}]"#)
                try await eventually("the answer is stored") {
                    try await client.scalar(
                        "SELECT status = 'answered' FROM ocpp.station_messages WHERE message_id = \(id)", as: Bool.self)
                }
                await station.close()
                // A tolerant station's quirks are counted, by kind.
                try await client.query(
                    "INSERT INTO ocpp.stations (identity, registration_status, validation_mode) VALUES ('CP-QUIRKS', 'Accepted', 'tolerant')",
                    logger: TestDatabase.logger)
                let quirky = try await TestStation.connect(port: gateway.port, identity: "CP-QUIRKS")
                try await quirky.send(
                    #"[2,"q1","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available","vendorX":1}]"#
                )
                _ = try #require(try await quirky.nextReply())
                await quirky.close()
                #expect(try await RawHTTP.get(port: gateway.port, path: "/metrics").status == 200)

                let text = Self.text(of: registry)
                for line in [
                    #"ocpp_gateway_messages_total{action="Heartbeat",outcome="accepted"} 2"#,
                    #"ocpp_gateway_callerrors_total{code="NotImplemented"} 1"#,
                    "ocpp_gateway_connections_opened_total 2",
                    #"ocpp_gateway_commands_total{action="ClearCache",outcome="sent"} 1"#,
                    #"ocpp_gateway_commands_total{action="ClearCache",outcome="answered"} 1"#,
                    #"ocpp_gateway_tolerated_quirks_total{quirk="number_as_string"} 1"#,
                    // The test gateway runs with OCPP_AUTH=insecure-none, for an alert.
                    "ocpp_gateway_authentication_disabled 1",
                    #"ocpp_gateway_tolerated_quirks_total{quirk="unknown_member"} 1"#,
                ] {
                    #expect(text.contains(line), "missing \(line) in:\n\(text)")
                }
                // Batch sizes and commit latency are histograms; at least the two CALLs and
                // the connect event were committed.
                for family in ["ocpp_gateway_ingest_batch_size", "ocpp_gateway_ingest_commit_seconds"] {
                    let count = Self.sample(named: "\(family)_count", in: text)
                    #expect((count ?? 0) >= 1, "\(family)_count in:\n\(text)")
                }
            } catch {
                try? await gateway.stop()
                throw error
            }
            try await gateway.stop()
        }
    }

    private static func text(of registry: PrometheusCollectorRegistry) -> String {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value of the unlabelled sample `name`.
    private static func sample(named name: String, in text: String) -> Double? {
        text.split(separator: "\n").lazy
            .compactMap { line -> Double? in
                let parts = line.split(separator: " ")
                guard parts.count == 2, parts[0] == name else { return nil }
                return Double(parts[1])
            }
            .first
    }
}
