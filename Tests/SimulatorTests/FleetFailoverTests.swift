import Foundation
import NIOCore
import Testing

@testable import Simulator

/// A fleet spread over several gateways: a station whose gateway refuses connections
/// (gone, like one killed with kill -9) moves to the next URL and boots there.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FleetFailoverTests {
    @Test func stationsOfAGatewayThatIsGoneMoveToTheNextOne() async throws {
        try await CentralSystem.run { system in
            // Nothing listens on port 1: every attempt there is refused at once.
            let gone = try WebSocketConnector(endpoint: try StationEndpoint(url: "ws://127.0.0.1:1/ocpp"))
            let live = try WebSocketConnector(endpoint: try StationEndpoint(url: system.endpoint))
            var settings = StationFleetSettings(
                connectors: [gone, live], identityPrefix: "MOVE-", password: nil, sourceAddresses: nil)
            settings.connectRetryDelay = .milliseconds(100)
            let fleet = try await StationFleet(count: 10, settings: settings)
            do {
                try await fleet.connectAll(rate: 100)
                // Half the stations start on the gone gateway: all must be booted on the other.
                try await fleet.waitUntilReady(timeout: .seconds(20))
                #expect(try await fleet.results().statistics.connectFailures >= 5)
            } catch {
                try? await fleet.shutdown()
                throw error
            }
            try await fleet.shutdown()
        }
    }
}
