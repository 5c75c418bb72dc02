import Testing

@testable import Gateway

@Suite struct MessageRateLimiterTests {
    static func close(_ lhs: Duration, _ rhs: Duration) -> Bool {
        abs((lhs - rhs) / .microseconds(1)) < 1
    }

    @Test func aBurstPassesThenEachMessageWaitsForItsToken() {
        let start = ContinuousClock.now
        var limiter = MessageRateLimiter(rate: 10, burst: 3, now: start)
        for _ in 0..<3 { #expect(limiter.admit(at: start) == .zero) }
        #expect(Self.close(limiter.admit(at: start), .milliseconds(100)))
        // Having waited, the next one waits one interval again.
        #expect(Self.close(limiter.admit(at: start + .milliseconds(100)), .milliseconds(100)))
        // After a quiet spell the bucket is full again, but never more than the burst.
        let later = start + .seconds(60)
        for _ in 0..<3 { #expect(limiter.admit(at: later) == .zero) }
        #expect(limiter.admit(at: later) > .zero)
    }

    @Test func aRateOfZeroIsNoLimit() {
        let start = ContinuousClock.now
        var limiter = MessageRateLimiter(rate: 0, burst: 1, now: start)
        for _ in 0..<1000 { #expect(limiter.admit(at: start) == .zero) }
    }
}
