import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// A command queued over HTTP reaches the station over its WebSocket, and the
/// station's answer (or CALLERROR) is what the API then reports.
@Suite("Admin API: delivery end to end", .serialized, .timeLimit(.minutes(2)))
struct AdminDeliveryTests {
    @Test func aCommandQueuedOverHTTPIsDeliveredAndItsAnswerIsReadable() async throws {
        try await GatewayHarness.withGateway { client, configuration, gateway in
            let admin = try await AdminHarness.start(database: configuration)
            do {
                let station = try await TestStation.connect(port: gateway.port, identity: "CP-API")
                _ = try await station.callResult("Heartbeat", [:])

                let queued = try await admin.client.post(
                    "/api/v1/stations/CP-API/commands", #"{"action":"GetConfiguration","payload":{"key":["A"]}}"#)
                #expect(queued.status == 201)
                let id = try #require(queued.json?["messageId"]?.string)
                let call = try #require(try await station.nextReply())
                #expect(call.contains(#""\#(id)""#) && call.contains(#""GetConfiguration""#))
                try await station.send(
                    #"[3,"\#(id)",{"configurationKey":[{"key":"A","readonly":true,"value":"1"}]}]"#)
                try await eventually("the answer is readable over HTTP") {
                    try await admin.client.get("/api/v1/commands/\(id)").json?["status"]?.string == "answered"
                }
                let command = try #require(try await admin.client.get("/api/v1/commands/\(id)").json)
                #expect(command["response"]?["configurationKey"]?[0]?["value"]?.string == "1")
                #expect(command["sentByGateway"]?.string == gateway.gatewayID)
                let detail = try #require(try await admin.client.get("/api/v1/stations/CP-API").json)
                #expect(detail["configuration"]?[0]?["readonly"] == .bool(true))

                let refused = try await admin.client.post(
                    "/api/v1/stations/CP-API/commands", #"{"action":"UnlockConnector","payload":{"connectorId":1}}"#)
                let refusedID = try #require(refused.json?["messageId"]?.string)
                _ = try #require(try await station.nextReply())
                try await station.send(#"[4,"\#(refusedID)","NotSupported","no lock here",{}]"#)
                try await eventually("the CALLERROR is readable over HTTP") {
                    try await admin.client.get("/api/v1/commands/\(refusedID)").json?["status"]?.string == "failed"
                }
                let failed = try #require(try await admin.client.get("/api/v1/commands/\(refusedID)").json)
                #expect(failed["error"]?["code"]?.string == "NotSupported")
                #expect(failed["error"]?["description"]?.string == "no lock here")
                await station.close()
            } catch {
                try? await admin.stop()
                throw error
            }
            try await admin.stop()
        }
    }
}
