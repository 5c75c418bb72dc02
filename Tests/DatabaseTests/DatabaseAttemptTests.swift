import Shared
import Synchronization
import TestSupport
import Testing

/// The bounded database attempt: its result or error as is, and a stalled attempt
/// cancelled and reported, not waited for.
@Suite("Database attempt", .timeLimit(.minutes(1)))
struct DatabaseAttemptTests {
    @Test func aQuickAttemptGivesItsResult() async throws {
        #expect(try await DatabaseAttempt.run(timeout: .seconds(30)) { 42 } == 42)
    }

    @Test func anAttemptsErrorIsThrownAsIs() async throws {
        await #expect(throws: Refused.self) {
            try await DatabaseAttempt.run(timeout: .seconds(30)) { () async throws -> Int in throw Refused() }
        }
    }

    @Test func aStalledAttemptIsCancelledAndReportedAfterTheTimeout() async throws {
        let cancelled = Atomic(false)
        await #expect(throws: DatabaseAttempt.TimedOut.self) {
            try await DatabaseAttempt.run(timeout: .milliseconds(50)) {
                do {
                    try await Task.sleep(for: .seconds(120))
                } catch {
                    cancelled.store(true, ordering: .relaxed)
                    throw error
                }
            }
        }
        // Cancelled as it is given up; it ends in its own time, not before the error.
        let deadline = ContinuousClock.now + .seconds(10)
        while !cancelled.load(ordering: .relaxed) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let wasCancelled = cancelled.load(ordering: .relaxed)
        #expect(wasCancelled)
    }

    /// The timer looks in hops of a second rather than being cancelled: a timeout
    /// longer than a hop is still met, neither at the first hop nor never.
    @Test func aTimeoutLongerThanTheTimersHopIsMet() async throws {
        let stuck = NonCancellableWait()
        let started = ContinuousClock.now
        await #expect(throws: DatabaseAttempt.TimedOut.self) {
            try await DatabaseAttempt.run(timeout: .milliseconds(2_500)) { await stuck.wait() }
        }
        #expect(started.duration(to: .now) >= .milliseconds(2_500))
        stuck.release()
    }

    /// A statement written to a connection that had just closed is never answered,
    /// and cancelling does not end the wait: such an attempt is given up, not waited for.
    @Test func anAttemptThatIgnoresCancellationIsGivenUpAtTheTimeout() async throws {
        let stuck = NonCancellableWait()
        await #expect(throws: DatabaseAttempt.TimedOut.self) {
            try await DatabaseAttempt.run(timeout: .milliseconds(50)) { await stuck.wait() }
        }
        // Had the attempt waited for the operation, it would have ended only with the release.
        #expect(!stuck.isReleased)
        stuck.release()
    }

    @Test func aCancelledAttemptReturnsWithoutWaitingForItsOperation() async throws {
        let stuck = NonCancellableWait()
        let attempt = Task { try await DatabaseAttempt.run(timeout: .seconds(60)) { await stuck.wait() } }
        try await Task.sleep(for: .milliseconds(50))
        attempt.cancel()
        await #expect(throws: CancellationError.self) { try await attempt.value }
        #expect(!stuck.isReleased)
        stuck.release()
    }
}

private struct Refused: Error {}
