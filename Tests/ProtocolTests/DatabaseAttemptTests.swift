import Shared
import Synchronization
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
        let wasCancelled = cancelled.load(ordering: .relaxed)
        #expect(wasCancelled)
    }
}

private struct Refused: Error {}
