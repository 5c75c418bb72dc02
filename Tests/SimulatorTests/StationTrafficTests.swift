import Foundation
import OCPP
import Testing

@testable import Simulator

/// What a load station sends on its turns, without IO.
@Suite struct StationTrafficTests {
    private func action(of bytes: [UInt8]) throws -> String? {
        guard case .call(let call) = try OCPPFrame.decode(bytes) else { return nil }
        return call.action
    }

    private func accepted(_ transactionId: Int) -> StartTransactionResponse {
        StartTransactionResponse(idTagInfo: IdTagInfo(status: .accepted), transactionId: transactionId)
    }

    @Test func meterValuesTrafficIsOneStartThenOnlyMeterValuesWithTenSampledValues() throws {
        var traffic = StationTraffic(mix: .meterValues)
        let (first, firstBytes) = traffic.nextMessage(identity: "SIM-0", index: 0, messageID: "1")
        guard case .start = first else { Issue.record("first message: \(first)"); return }
        #expect(try action(of: firstBytes) == "StartTransaction")
        traffic.started(accepted(42))
        // Far beyond a charging cycle's 30 readings and 40 turns between Heartbeats.
        for number in 2...200 {
            let (kind, bytes) = traffic.nextMessage(identity: "SIM-0", index: 0, messageID: "\(number)")
            guard case .meterValues(let transactionId, let samples) = kind else {
                Issue.record("message \(number): \(kind)")
                return
            }
            #expect(transactionId == 42)
            #expect(samples == 10)
            #expect(try action(of: bytes) == "MeterValues")
        }
    }

    @Test func chargingTrafficStillGoesThroughTheCycle() throws {
        var traffic = StationTraffic()
        var actions: [String] = []
        for number in 1...60 {
            let (kind, bytes) = traffic.nextMessage(identity: "SIM-0", index: 0, messageID: "\(number)")
            try actions.append(action(of: bytes) ?? "")
            switch kind {
            case .start: traffic.started(accepted(7))
            case .stop: traffic.stopped()
            default: break
            }
        }
        #expect(actions.first == "StatusNotification")
        #expect(actions.contains("Heartbeat"))
        #expect(actions.contains("StopTransaction"))
    }
}
