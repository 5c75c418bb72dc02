import NIOCore
import NIOEmbedded
import Testing

@testable import Gateway

/// A connection's timers on an embedded event loop, time moved by hand: each fires
/// once at its deadline unless disarmed or armed again, however far away the
/// deadline, and none keeps its connection alive.
@Suite struct ConnectionTimersTests {
    enum Key: Hashable {
        case ping, idle
    }

    final class Connection {
        var timers = ConnectionTimers<Key>()
        var fired: [Key] = []
        let loop: EmbeddedEventLoop

        init(loop: EmbeddedEventLoop) { self.loop = loop }

        func arm(_ key: Key, in delay: TimeAmount) {
            timers.arm(key, at: loop.now + delay, on: loop, owner: self, timers: \.timers) { connection in
                connection.fired.append(key)
            }
        }
    }

    @Test func aTimerFiresOnceAtItsDeadline() {
        let connection = Connection(loop: EmbeddedEventLoop())
        connection.arm(.ping, in: .seconds(10))
        #expect(connection.timers.isArmed(.ping))
        connection.loop.advanceTime(by: .milliseconds(9_999))
        #expect(connection.fired.isEmpty)
        connection.loop.advanceTime(by: .milliseconds(1))
        #expect(connection.fired == [.ping])
        #expect(!connection.timers.isArmed(.ping))
        connection.loop.advanceTime(by: .seconds(100))
        #expect(connection.fired == [.ping])
    }

    @Test func aDisarmedTimerDoesNotFire() {
        let connection = Connection(loop: EmbeddedEventLoop())
        connection.arm(.ping, in: .seconds(10))
        connection.arm(.idle, in: .seconds(10))
        connection.timers.disarm(.ping)
        #expect(!connection.timers.isArmed(.ping))
        connection.loop.advanceTime(by: .seconds(10))
        #expect(connection.fired == [.idle])

        connection.arm(.ping, in: .seconds(5))
        connection.arm(.idle, in: .seconds(5))
        connection.timers.disarmAll()
        connection.loop.advanceTime(by: .seconds(100))
        #expect(connection.fired == [.idle])
    }

    @Test(arguments: [3, 20])
    func armingAgainReplacesTheDeadline(seconds: Int64) {
        let connection = Connection(loop: EmbeddedEventLoop())
        connection.arm(.ping, in: .seconds(10))
        connection.arm(.ping, in: .seconds(seconds))
        connection.loop.advanceTime(by: .seconds(seconds - 1))
        #expect(connection.fired.isEmpty)
        connection.loop.advanceTime(by: .seconds(1))
        #expect(connection.fired == [.ping])
        // The first arming's task still runs at its time (a later one) or ran (an
        // earlier one), and did nothing.
        connection.loop.advanceTime(by: .seconds(100))
        #expect(connection.fired == [.ping])
    }

    @Test func aDeadlineBeyondTheHorizonIsMetExactly() {
        let connection = Connection(loop: EmbeddedEventLoop())
        let horizon = ConnectionTimers<Key>.horizon
        connection.arm(.idle, in: horizon * 10 + .milliseconds(1_500))
        connection.loop.advanceTime(by: horizon * 10 + .milliseconds(1_499))
        #expect(connection.fired.isEmpty)
        #expect(connection.timers.isArmed(.idle))
        connection.loop.advanceTime(by: .milliseconds(1))
        #expect(connection.fired == [.idle])
    }

    @Test func aPendingTimerDoesNotKeepItsConnectionAlive() {
        let loop = EmbeddedEventLoop()
        weak var released: Connection?
        do {
            let connection = Connection(loop: loop)
            connection.arm(.ping, in: .seconds(30))
            connection.arm(.idle, in: .seconds(3_600))
            released = connection
        }
        #expect(released == nil)
        loop.advanceTime(by: .seconds(3_600))
    }
}
