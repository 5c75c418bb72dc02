import Foundation
import Testing

@testable import Gateway
@testable import Simulator

/// `ocpp-sim storm` at small scale against a real gateway: every station's connection
/// dropped at once; every one must boot again, honouring the Pending answers the
/// gateway gives beyond its boot budget.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct StormEndToEndTests {
    @Test func everyStationBootsAgainAfterADropAndPendingIsHonoured() async throws {
        try await CentralSystem.run(configureGateway: {
            // Ten boots a second for 50 stations: most are told Pending and come back
            // after the storm interval (0.5-1.5 s).
            $0.bootRate = 10
            // No waiting for a turn: this test is about the Pending answers.
            $0.bootMaxWait = .zero
            $0.stormRetryInterval = 1
        }) { system in
            let settings = StationFleetSettings(
                connectors: [try WebSocketConnector(endpoint: try StationEndpoint(url: system.endpoint))],
                identityPrefix: "STORM-", password: nil, sourceAddresses: nil)
            let run = StormRun(stations: 50, settings: settings, rampRate: 500, timeout: .seconds(60))
            let report = try await run.execute()
            #expect(report.complete)
            #expect(report.rebooted == 50)
            #expect(report.bootsDeferred > 0)
            // 50 boots at 10 a second cannot all be done in much less than 4 s.
            #expect(report.stormSeconds > 3)
            #expect(report.rebootTimes.count == 50)
        }
    }
}
