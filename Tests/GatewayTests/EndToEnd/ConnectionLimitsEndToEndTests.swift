import Foundation
import NIOWebSocket
import OCPP
import Shared
import TestSupport
import Testing
import WSCore

@testable import Gateway

/// The gateway's limits on connections: how many one address may hold, how long a
/// handshake may take, how long a station may stay silent.
@Suite("Connection limits end to end", .serialized, .timeLimit(.minutes(2)))
struct ConnectionLimitsEndToEndTests {
    @Test func oneAddressCannotHoldMoreThanItsShare() async throws {
        try await GatewayHarness.withGateway(configure: { $0.maxConnectionsPerAddress = 2 }) { _, _, gateway in
            let first = try await TestStation.connect(port: gateway.port, identity: "CP-A")
            let second = try await TestStation.connect(port: gateway.port, identity: "CP-B")
            await #expect(throws: (any Error).self) {
                _ = try await TestStation.connect(port: gateway.port, identity: "CP-C")
            }
            // The stations already connected are not disturbed.
            _ = try await first.callResult("Heartbeat", [:])
            await second.close()
            // Its place is free once its socket has closed.
            var third: TestStation?
            try await eventually("a freed place is taken") {
                third = try? await TestStation.connect(port: gateway.port, identity: "CP-C")
                return third != nil
            }
            _ = try await third?.callResult("Heartbeat", [:])
            await third?.close()
            await first.close()
        }
    }

    @Test func aConnectionThatNeverFinishesItsHandshakeIsClosed() async throws {
        try await GatewayHarness.withGateway(configure: { $0.handshakeTimeout = .seconds(1) }) { _, _, gateway in
            // Half a request head, then silence (a slowloris client).
            let answer = try await RawHTTP.untilClosed(
                port: gateway.port, sending: "GET /ocpp/CP-SLOW HTTP/1.1\r\nHost: localhost\r\n")
            #expect(answer.isEmpty)
            // A complete request is not affected.
            #expect(try await RawHTTP.get(port: gateway.port, path: "/healthz").status == 200)
        }
    }

    @Test func aSilentStationIsDisconnected() async throws {
        try await GatewayHarness.withGateway(configure: { $0.idleTimeout = .seconds(1) }) { _, _, gateway in
            let station = try await TestStation.connect(port: gateway.port, identity: "CP-QUIET")
            _ = try await station.callResult("Heartbeat", [:])
            let close = try await station.closed(timeout: .seconds(10))
            #expect(close?.closeCode == .normalClosure)
            #expect(close?.reason == "idle")
        }
    }
}
