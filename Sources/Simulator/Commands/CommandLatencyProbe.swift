import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Measures how long a queued command takes from `ocpp.enqueue_call` to its station:
/// each command's clock starts just before the enqueue statement is sent and stops
/// when a simulated station receives the CALL with the message id the function
/// returned. Enqueues follow an open-loop schedule, so a slow enqueue delays none
/// after it.
final class CommandLatencyProbe: Sendable {
    struct Result: Sendable {
        var enqueued = 0
        var delivered = 0
        var enqueueFailures = 0
        /// Enqueue to CALL received.
        var delivery = LatencyHistogram()
        /// The enqueue statement's round trip alone.
        var enqueueRoundTrip = LatencyHistogram()
    }

    /// When each CALL reached its station, by message id; filled on the event loops.
    private let receipts = Mutex<[String: NIODeadline]>([:])

    /// The hook for ``StationFleetSettings/onCommand``.
    func commandReceived(messageID: String, receivedAt: NIODeadline) {
        receipts.withLock { $0[messageID] = receivedAt }
    }

    /// Enqueues `action` with an empty payload for random stations, `rate` per
    /// second for `duration`, then waits up to `settle` for the last deliveries.
    func run(
        client: PostgresClient, identities: [String], action: String, rate: Double, duration: Duration,
        settle: Duration, logger: Logger
    ) async throws -> Result {
        // Open the pool's connections before the clock runs.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { _ = try await client.query("SELECT 1", logger: logger).collect() } }
            try await group.waitForAll()
        }
        let total = Int(rate * duration.seconds)
        let start = ContinuousClock.now
        let sent: [(id: String, started: NIODeadline, returned: NIODeadline)?] = try await withThrowingTaskGroup(
            of: (id: String, started: NIODeadline, returned: NIODeadline)?.self
        ) { group in
            for index in 0..<total {
                try await Task.sleep(until: start + .seconds(Double(index) / rate))
                let identity = identities.randomElement()!
                group.addTask {
                    let started = NIODeadline.now()
                    do {
                        let rows = try await client.query(
                            "SELECT ocpp.enqueue_call(\(identity), \(action), '{}'::jsonb)", logger: logger)
                        guard let row = try await rows.collect().first else { return nil }
                        let id = try row.decode(String.self)
                        return (id, started, NIODeadline.now())
                    } catch {
                        logger.warning("enqueue failed: \(String(reflecting: error))")
                        return nil
                    }
                }
            }
            var sent: [(id: String, started: NIODeadline, returned: NIODeadline)?] = []
            for try await outcome in group { sent.append(outcome) }
            return sent
        }

        var result = Result()
        let accepted = sent.compactMap { $0 }
        result.enqueued = accepted.count
        result.enqueueFailures = sent.count - accepted.count
        let deadline = ContinuousClock.now + settle
        while ContinuousClock.now < deadline {
            let received = receipts.withLock { receipts in accepted.filter { receipts[$0.id] != nil }.count }
            if received == accepted.count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let receipts = self.receipts.withLock { $0 }
        for command in accepted {
            result.enqueueRoundTrip.record(microseconds: (command.returned - command.started).nanoseconds / 1000)
            guard let receivedAt = receipts[command.id] else { continue }
            result.delivered += 1
            result.delivery.record(microseconds: (receivedAt - command.started).nanoseconds / 1000)
        }
        return result
    }
}
