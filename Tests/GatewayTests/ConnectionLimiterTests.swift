import Testing

@testable import Gateway

@Suite struct ConnectionLimiterTests {
    @Test func countsPerAddressAndInTotal() {
        let limiter = ConnectionLimiter(maxTotal: 3, maxPerAddress: 2)
        #expect(limiter.acquire("10.0.0.1") == nil)
        #expect(limiter.acquire("10.0.0.1") == nil)
        #expect(limiter.acquire("10.0.0.1") == .perAddress)
        #expect(limiter.acquire("10.0.0.2") == nil)
        #expect(limiter.acquire("10.0.0.3") == .total)
        limiter.release("10.0.0.1")
        #expect(limiter.acquire("10.0.0.1") == nil)
        #expect(limiter.openConnections == 3)
    }

    @Test func zeroMeansNoLimit() {
        let limiter = ConnectionLimiter(maxTotal: 0, maxPerAddress: 0)
        for _ in 0..<10_000 { #expect(limiter.acquire("10.0.0.1") == nil) }
    }
}
