import Foundation
import NIOCore
import Testing

@testable import Simulator

/// `ocpp-sim floor`, the benchmark's stand-in central system: a small load run
/// against it is answered in full, in both modes, so that its figures are those
/// of a run that worked.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FloorEndToEndTests {
    @Test(arguments: [false, true])
    func aLoadRunAgainstTheFloorIsAnsweredInFull(decode: Bool) async throws {
        let server = try await FloorServer.bind(host: "127.0.0.1", port: 0, decode: decode)
        let port = try #require(server.localAddress?.port)
        let settings = StationFleetSettings(
            connectors: [
                try WebSocketConnector(endpoint: try StationEndpoint(url: "ws://127.0.0.1:\(port)/ocpp"))
            ],
            identityPrefix: "FLOOR-", password: nil, sourceAddresses: try SourceAddresses(parsing: "127.0.0.1"),
            mix: .meterValues)
        let run = LoadRun(stations: 10, settings: settings, rampRate: 100, rate: 100, duration: .seconds(2))
        let outcome = try await run.execute()
        try await server.close()

        let statistics = outcome.report.statistics
        #expect(statistics.offered == 200)
        #expect(statistics.acknowledged == statistics.offered)
        #expect(statistics.callErrors.isEmpty)
        // Each station's StartTransaction got a transaction id it then sent its meter values under.
        #expect(outcome.journal.starts.count == 10)
        #expect(outcome.journal.sampleCount > 0)
    }
}
