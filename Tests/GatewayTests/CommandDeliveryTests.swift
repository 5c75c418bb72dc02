import Logging
import OCPP
import Shared
import Synchronization
import Testing

@testable import Gateway

/// A database attempt that never returns (a connection request the pool left
/// queued) must not hold the station's queue: it is given up and, for a write,
/// made again. Without that these tests would wait for ever: the time limit makes
/// them fail instead.
@Suite("Command delivery: attempts that never return", .timeLimit(.minutes(1)))
struct CommandDeliveryTests {
    @Test func anAnswerWhoseFirstWriteNeverReturnsIsWrittenByTheNext() async throws {
        let store = StallingStore(stalledAttempts: 1)
        await delivery(store).record(
            .init(messageID: "m1", action: .reset),
            .answered(CallResult(messageID: "m1", payload: JSONObject([("status", "Accepted")]))))
        #expect(store.answered == ["m1"])
        #expect(store.attempts == 2)
    }

    @Test func aClaimThatNeverReturnsIsGivenUpAsFailed() async throws {
        let store = StallingStore(stalledAttempts: 1)
        guard case .failed = await delivery(store).claimNext() else {
            Issue.record("a stalled claim must come back as failed, for the next wake-up to retry")
            return
        }
        guard case .nothingDue = await delivery(store).claimNext() else {
            Issue.record("the next claim must reach the store")
            return
        }
    }

    private func delivery(_ store: StallingStore) -> CommandDelivery {
        var delivery = CommandDelivery(
            stationID: 1, gatewayID: "test", store: store,
            outcomes: LabeledCounters(label: "test_commands_total", dimensions: ["action", "outcome"]),
            logger: Logger(label: "test"))
        delivery.attemptTimeout = .milliseconds(100)
        return delivery
    }
}

/// Its first `stalledAttempts` calls wait until they are cancelled; later ones
/// succeed at once.
private final class StallingStore: OutboundStore {
    private let state: Mutex<(stalls: Int, attempts: Int, answered: [String])>

    init(stalledAttempts: Int) {
        state = Mutex((stalledAttempts, 0, []))
    }

    var attempts: Int { state.withLock { $0.attempts } }
    var answered: [String] { state.withLock { $0.answered } }

    /// Waits for cancellation if this attempt is to stall.
    private func enter() async throws {
        let stalls = state.withLock { state in
            state.attempts += 1
            defer { state.stalls -= 1 }
            return state.stalls > 0
        }
        guard stalls else { return }
        while true { try await Task.sleep(for: .seconds(60)) }
    }

    func claimNext(stationID: Int64, gatewayID: String) async throws -> ClaimOutcome {
        try await enter()
        return .nothingDue(nextDueIn: nil)
    }

    func answered(messageID: String, response: JSONObject) async throws {
        try await enter()
        state.withLock { $0.answered.append(messageID) }
    }

    func release(messageID: String) async throws { try await enter() }
    func reject(messageID: String, code: String, description: String) async throws { try await enter() }
    func failed(messageID: String, code: String, description: String) async throws { try await enter() }
    func timedOut(messageID: String) async throws { try await enter() }
}
