import CoreMetrics
import Foundation
import OCPP
import Prometheus
import Shared
import TestSupport
import Testing

@testable import Gateway

/// A station sending faster than OCPP_MAX_MESSAGE_RATE is slowed down (its frames
/// wait), is still answered, and the trips are counted.
@Suite("Message rate limit end to end", .serialized, .timeLimit(.minutes(2)))
struct RateLimitEndToEndTests {
    @Test func aFloodingStationIsSlowedDownAndStillAnswered() async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let registry = PrometheusCollectorRegistry()
            let gateway = try await withMetricsFactory(PrometheusMetricsFactory(registry: registry)) {
                try await GatewayHarness.start(database: configuration, prometheus: registry) {
                    $0.maxMessageRate = 5
                    $0.messageBurst = 2
                }
            }
            do {
                let flooder = try await TestStation.connect(port: gateway.port, identity: "CP-FLOOD")
                let start = ContinuousClock.now
                for _ in 0..<8 { _ = try await flooder.callResult("Heartbeat", [:]) }
                // Two go through at once, the other six wait a fifth of a second each.
                #expect(ContinuousClock.now - start >= .milliseconds(1100))

                // Another station has a bucket of its own.
                let neighbour = try await TestStation.connect(port: gateway.port, identity: "CP-CALM")
                _ = try await neighbour.callResult("Heartbeat", [:])
                var bytes: [UInt8] = []
                registry.emit(into: &bytes)
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.contains("ocpp_gateway_messages_rate_limited_total 6"), "\(text)")
                await flooder.close()
                await neighbour.close()
            } catch {
                try? await gateway.stop()
                throw error
            }
            try await gateway.stop()
        }
    }

    /// A client that pipelines hundreds of CALLs without waiting is held to its rate;
    /// a neighbour on the same gateway is answered meanwhile, long before the flood is.
    @Test func aFloodDoesNotDelayAnotherStation() async throws {
        try await GatewayHarness.withGateway(configure: {
            $0.maxMessageRate = 20
            $0.messageBurst = 20
        }) { _, _, gateway in
            let flooder = try await TestStation.connect(port: gateway.port, identity: "CP-FLOOD")
            let flood = 300
            for index in 0..<flood { try await flooder.send(#"[2,"flood-\#(index)","Heartbeat",{}]"#) }
            let neighbour = try await TestStation.connect(port: gateway.port, identity: "CP-CALM")
            for _ in 0..<3 { _ = try await neighbour.callResult("Heartbeat", [:]) }
            // At 20 a second the flood needs about 14 s; the neighbour was served in
            // the first seconds of it.
            var floodAnswers = 0
            // (nextReply throws once nothing more has come within the timeout.)
            while let reply = try? await flooder.nextReply(timeout: .milliseconds(10)) {
                if reply.hasPrefix("[3,") { floodAnswers += 1 }
            }
            #expect(floodAnswers < flood / 2, "the flood was answered \(floodAnswers) times already")
            await neighbour.close()
            await flooder.close()
        }
    }
}
