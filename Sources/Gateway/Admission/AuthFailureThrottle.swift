import Synchronization

/// Slows down password guessing: after a few failed logins under one key (the gateway
/// uses the client address and the identity tried, see
/// ``GatewayApplication/throttleKey(address:path:)``), each further attempt under it
/// waits before its password is checked, twice as long each time up to a cap. The wait also bounds how much scrypt work (tens of
/// milliseconds each) one address can make the gateway do. A success clears the
/// address; failures are forgotten after `window` without one.
final class AuthFailureThrottle: Sendable {
    let freeAttempts: Int
    let baseDelay: Duration
    let maximumDelay: Duration
    let window: Duration
    /// Addresses remembered at most; the oldest are forgotten first when a botnet
    /// makes more.
    let capacity: Int

    private struct Failures {
        var count: Int
        var last: ContinuousClock.Instant
    }

    private let state = Mutex<[String: Failures]>([:])

    init(
        freeAttempts: Int = 3, baseDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(8),
        window: Duration = .seconds(900), capacity: Int = 100_000
    ) {
        self.freeAttempts = freeAttempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.window = window
        self.capacity = capacity
    }

    /// How long an attempt from `address` waits before its credentials are checked.
    func delay(for address: String, now: ContinuousClock.Instant = .now) -> Duration {
        state.withLock { failures in
            guard let entry = failures[address], now - entry.last < window else { return .zero }
            let excess = entry.count - freeAttempts
            guard excess >= 0 else { return .zero }
            return min(maximumDelay, baseDelay * (1 << min(excess, 20)))
        }
    }

    func recordFailure(from address: String, now: ContinuousClock.Instant = .now) {
        state.withLock { failures in
            var entry = failures[address] ?? Failures(count: 0, last: now)
            if now - entry.last >= window { entry.count = 0 }
            entry.count += 1
            entry.last = now
            failures[address] = entry
            if failures.count > capacity {
                let cutoff = failures.values.map(\.last).sorted()[failures.count / 2]
                failures = failures.filter { $0.value.last > cutoff }
            }
        }
    }

    func recordSuccess(from address: String) {
        _ = state.withLock { $0.removeValue(forKey: address) }
    }
}
