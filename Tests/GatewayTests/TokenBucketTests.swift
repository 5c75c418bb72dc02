import Testing

@testable import Gateway

@Suite struct TokenBucketTests {
    static func close(_ lhs: Duration, _ rhs: Duration) -> Bool {
        abs((lhs - rhs) / .microseconds(1)) < 1
    }

    @Test func aBurstPassesThenEachMessageWaitsForItsToken() {
        let start = ContinuousClock.now
        var limiter = TokenBucket(rate: 10, burst: 3, now: start)
        for _ in 0..<3 { #expect(limiter.delay(at: start) == .zero) }
        #expect(Self.close(limiter.delay(at: start), .milliseconds(100)))
        // Having waited, the next one waits one interval again.
        #expect(Self.close(limiter.delay(at: start + .milliseconds(100)), .milliseconds(100)))
        // After a quiet spell the bucket is full again, but never more than the burst.
        let later = start + .seconds(60)
        for _ in 0..<3 { #expect(limiter.delay(at: later) == .zero) }
        #expect(limiter.delay(at: later) > .zero)
    }

    @Test func aReservationTakesATokenOnlyWhenItCanWaitForIt() {
        let start = ContinuousClock.now
        var bucket = TokenBucket(rate: 10, burst: 1, now: start)
        #expect(bucket.reserve(at: start, maximumWait: .zero) == .zero)
        #expect(bucket.reserve(at: start, maximumWait: .milliseconds(50)) == nil)
        #expect(Self.close(bucket.reserve(at: start, maximumWait: .seconds(1)) ?? .zero, .milliseconds(100)))
        #expect(Self.close(bucket.reserve(at: start, maximumWait: .seconds(1)) ?? .zero, .milliseconds(200)))
        // Two tokens are owed: the next would be earned in 300 ms; asking takes nothing.
        #expect(Self.close(bucket.waitForToken(at: start), .milliseconds(300)))
        #expect(Self.close(bucket.waitForToken(at: start + .milliseconds(100)), .milliseconds(200)))
        #expect(bucket.waitForToken(at: start + .seconds(1)) == .zero)
    }

    @Test func aRateOfZeroIsNoLimit() {
        let start = ContinuousClock.now
        var limiter = TokenBucket(rate: 0, burst: 1, now: start)
        for _ in 0..<1000 { #expect(limiter.delay(at: start) == .zero) }
    }
}
