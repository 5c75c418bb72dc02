import Testing

@testable import Gateway

@Suite struct AuthFailureThrottleTests {
    @Test func waitsGrowAfterTheFreeAttemptsAndASuccessClearsThem() {
        let throttle = AuthFailureThrottle(
            freeAttempts: 2, baseDelay: .milliseconds(100), maximumDelay: .milliseconds(350), window: .seconds(60))
        let now = ContinuousClock.now
        for _ in 0..<2 {
            #expect(throttle.delay(for: "10.0.0.1", now: now) == .zero)
            throttle.recordFailure(from: "10.0.0.1", now: now)
        }
        #expect(throttle.delay(for: "10.0.0.1", now: now) == .milliseconds(100))
        throttle.recordFailure(from: "10.0.0.1", now: now)
        #expect(throttle.delay(for: "10.0.0.1", now: now) == .milliseconds(200))
        throttle.recordFailure(from: "10.0.0.1", now: now)
        #expect(throttle.delay(for: "10.0.0.1", now: now) == .milliseconds(350))
        // Another address is not affected; a success or a quiet window clears one.
        #expect(throttle.delay(for: "10.0.0.2", now: now) == .zero)
        #expect(throttle.delay(for: "10.0.0.1", now: now + .seconds(61)) == .zero)
        throttle.recordSuccess(from: "10.0.0.1")
        #expect(throttle.delay(for: "10.0.0.1", now: now) == .zero)
    }

    @Test func forgetsTheOldestAddressesBeyondItsCapacity() {
        let throttle = AuthFailureThrottle(freeAttempts: 0, capacity: 10)
        let start = ContinuousClock.now
        for index in 0..<11 { throttle.recordFailure(from: "10.0.0.\(index)", now: start + .seconds(index)) }
        let later = start + .seconds(20)
        #expect(throttle.delay(for: "10.0.0.0", now: later) == .zero)
        #expect(throttle.delay(for: "10.0.0.10", now: later) > .zero)
    }

    /// Behind a proxy every station has the proxy's address: failures for one
    /// identity slow that identity's logins from there, not everyone's.
    @Test func failuresAreCountedPerAddressAndIdentity() {
        let throttle = AuthFailureThrottle(freeAttempts: 1)
        let attacked = GatewayApplication.throttleKey(address: "10.0.0.9", path: "/ocpp/CP-ATTACKED")
        for _ in 0..<3 { throttle.recordFailure(from: attacked) }
        #expect(throttle.delay(for: attacked) > .zero)
        #expect(
            throttle.delay(for: GatewayApplication.throttleKey(address: "10.0.0.9", path: "/ocpp/CP-OTHER")) == .zero)
        #expect(
            throttle.delay(for: GatewayApplication.throttleKey(address: "10.0.0.9", path: "/v1/ocpp/CP-ATTACKED?x=1"))
                > .zero)
        #expect(
            throttle.delay(for: GatewayApplication.throttleKey(address: "10.0.0.8", path: "/ocpp/CP-ATTACKED")) == .zero
        )
    }
}
