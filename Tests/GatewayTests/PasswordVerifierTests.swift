import Foundation
import NIOPosix
import Synchronization
import Testing

@testable import Gateway

/// Password checks run on the verifier's thread pool, and only successes are
/// remembered.
@Suite("Password verifier")
struct PasswordVerifierTests {
    /// Counts the checks and where they ran.
    final class CheckLog: Sendable {
        private let entries = Mutex<[String]>([])
        var threadNames: [String] { entries.withLock { $0 } }

        func check(_ password: String, _ storedHash: String) -> Bool {
            entries.withLock { $0.append(Thread.current.name ?? "") }
            return password == "right-password-01" && storedHash == "hash-1"
        }
    }

    @Test func checksRunOnThePoolAndSuccessesAreRemembered() async throws {
        let log = CheckLog()
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let verifier = PasswordVerifier(pool: pool, check: log.check)

        #expect(await verifier.verify("right-password-01", against: "hash-1"))
        #expect(await verifier.verify("right-password-01", against: "hash-1"))
        #expect(log.threadNames.count == 1, "the second success came from the cache")
        #expect(log.threadNames.allSatisfy { $0.hasPrefix("TP-#") }, "\(log.threadNames)")

        // A failure is checked again every time; another stored hash is another key.
        #expect(!(await verifier.verify("wrong-password-01", against: "hash-1")))
        #expect(!(await verifier.verify("wrong-password-01", against: "hash-1")))
        #expect(!(await verifier.verify("right-password-01", against: "hash-2")))
        #expect(log.threadNames.count == 4)
        try await pool.shutdownGracefully()
    }

    @Test func aRememberedSuccessExpires() async throws {
        let log = CheckLog()
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let verifier = PasswordVerifier(pool: pool, successLifetime: .milliseconds(50), check: log.check)
        #expect(await verifier.verify("right-password-01", against: "hash-1"))
        try await Task.sleep(for: .milliseconds(120))
        #expect(await verifier.verify("right-password-01", against: "hash-1"))
        #expect(log.threadNames.count == 2)
        try await pool.shutdownGracefully()
    }
}
