import Crypto
import NIOPosix
import OCPP
import Shared

/// Checks station passwords off the threads that serve station traffic, and
/// remembers successful checks for a short time.
///
/// A scrypt check costs tens of milliseconds of CPU by design. Run in the upgrade's
/// task it would hold a thread of Swift's cooperative pool, which also runs every
/// connection's message handling, so a reconnect storm of Basic-auth stations would
/// stall the stations already connected. Here the checks run on a NIO thread pool
/// (bounded: as many threads as cores), and a station that logged in with the same
/// password against the same stored hash within ``successLifetime`` is let in
/// without a second check. Only successes are remembered: a wrong password costs a
/// full check every time (and the failed-login throttle slows its sender).
final class PasswordVerifier: Sendable {
    /// What a success is remembered by: the stored hash (a new password is a new
    /// hash) and a digest of the password given, never the password itself.
    struct Key: Hashable, Sendable {
        var storedHash: String
        var passwordDigest: [UInt8]
    }

    private struct Mismatch: Error {}

    static let successLifetime = Duration.seconds(300)

    private let pool: NIOThreadPool
    private let check: @Sendable (_ password: String, _ storedHash: String) -> Bool
    private let successes: ExpiringCache<Key, Bool>

    init(
        pool: NIOThreadPool = .singleton, successLifetime: Duration = successLifetime, capacity: Int = 50_000,
        check: @escaping @Sendable (_ password: String, _ storedHash: String) -> Bool = {
            PasswordHash.verify(password: $0, against: $1)
        }
    ) {
        self.pool = pool
        self.check = check
        self.successes = ExpiringCache(ttl: successLifetime, capacity: capacity)
    }

    /// Whether `password` matches `storedHash`.
    func verify(_ password: String, against storedHash: String) async -> Bool {
        let key = Key(storedHash: storedHash, passwordDigest: Array(SHA256.hash(data: Array(password.utf8))))
        do {
            return try await successes.value(for: key) { [pool, check] in
                guard try await pool.runIfActive({ check(password, storedHash) }) else { throw Mismatch() }
                return true
            }
        } catch {
            return false
        }
    }
}
