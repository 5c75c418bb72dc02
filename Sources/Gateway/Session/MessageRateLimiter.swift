/// How fast one station's messages are taken in: a token bucket of `burst` tokens,
/// refilled at `rate` a second. A message that finds the bucket empty is held back
/// until its token has been earned; the frame loop waits that long before reading
/// the next frame, so a flooding station is slowed down by TCP back-pressure on its
/// own socket instead of costing other stations database time.
struct MessageRateLimiter: Sendable {
    /// Messages a second on average; 0 turns the limit off.
    let rate: Int
    /// Messages that may arrive at once after a quiet spell (a station replaying
    /// what it stored while offline).
    let burst: Int
    private var tokens: Double
    private var updatedAt: ContinuousClock.Instant

    init(rate: Int, burst: Int, now: ContinuousClock.Instant = .now) {
        self.rate = rate
        self.burst = max(burst, 1)
        tokens = Double(self.burst)
        updatedAt = now
    }

    /// Takes the token of a message arriving at `now`; returns how long to hold the
    /// message back (zero when a token was there).
    mutating func admit(at now: ContinuousClock.Instant = .now) -> Duration {
        guard rate > 0 else { return .zero }
        let elapsed = now - updatedAt
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        tokens = min(Double(burst), tokens + seconds * Double(rate))
        updatedAt = now
        tokens -= 1
        guard tokens < 0 else { return .zero }
        // The debt is paid by waiting; the wait itself refills the bucket to zero.
        return .nanoseconds(Int64((-tokens / Double(rate) * 1e9).rounded(.up)))
    }
}
