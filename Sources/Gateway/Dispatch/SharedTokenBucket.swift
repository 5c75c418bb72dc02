import Synchronization

/// A ``TokenBucket`` shared by every connection of the gateway: the budget of
/// upgrades and of accepted boots a second that keeps a reconnect storm (all
/// stations back at once after an outage or a deploy) from swamping the database.
final class SharedTokenBucket: Sendable {
    private let bucket: Mutex<TokenBucket>

    init(rate: Int, burst: Int) {
        bucket = Mutex(TokenBucket(rate: rate, burst: burst))
    }

    /// See ``TokenBucket/reserve(at:maximumWait:)``.
    func reserve(maximumWait: Duration) -> Duration? {
        bucket.withLock { $0.reserve(maximumWait: maximumWait) }
    }

    /// See ``TokenBucket/waitForToken(at:)``: how long the budget is taken for.
    var backlog: Duration {
        bucket.withLock { $0.waitForToken() }
    }

    /// Takes a token if one is there now.
    func take() -> Bool {
        reserve(maximumWait: .zero) != nil
    }
}
