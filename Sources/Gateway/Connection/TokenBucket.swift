/// A token bucket: `burst` tokens, refilled at `rate` a second. The gateway uses
/// one per connection for its message rate, and one each for the rate of upgrades
/// and of accepted boots, which keep a reconnect storm from swamping the database.
struct TokenBucket: Sendable {
    /// Tokens a second; 0 turns the bucket off (everything passes).
    let rate: Int
    let burst: Int
    private var tokens: Double
    private var updatedAt: ContinuousClock.Instant

    init(rate: Int, burst: Int, now: ContinuousClock.Instant = .now) {
        self.rate = rate
        self.burst = max(burst, 1)
        tokens = Double(self.burst)
        updatedAt = now
    }

    /// Takes a token, owing it when there is none; returns how long to wait until it
    /// is earned (zero when one was there). Waiting pays the debt.
    mutating func delay(at now: ContinuousClock.Instant = .now) -> Duration {
        guard rate > 0 else { return .zero }
        refill(at: now)
        tokens -= 1
        return tokens < 0 ? Self.duration(seconds: -tokens / Double(rate)) : .zero
    }

    /// Takes a token if one can be earned within `maximumWait`, and says how long
    /// to wait for it; nil (nothing taken) when the wait would be longer.
    mutating func reserve(at now: ContinuousClock.Instant = .now, maximumWait: Duration) -> Duration? {
        let wait = waitForToken(at: now)
        guard wait <= maximumWait else { return nil }
        if rate > 0 { tokens -= 1 }
        return wait
    }

    /// How long until the next token is earned, after the ones reserved already;
    /// zero when one is there now.
    mutating func waitForToken(at now: ContinuousClock.Instant = .now) -> Duration {
        guard rate > 0 else { return .zero }
        refill(at: now)
        return tokens >= 1 ? .zero : Self.duration(seconds: (1 - tokens) / Double(rate))
    }

    private mutating func refill(at now: ContinuousClock.Instant) {
        let elapsed = now - updatedAt
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        tokens = min(Double(burst), tokens + max(seconds, 0) * Double(rate))
        updatedAt = max(now, updatedAt)
    }

    private static func duration(seconds: Double) -> Duration {
        .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
    }
}
