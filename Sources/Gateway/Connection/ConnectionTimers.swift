import NIOCore

/// The timers of one connection, on its event loop, disarmed rather than cancelled.
///
/// NIO cancels a scheduled task by searching its event loop's queue of scheduled
/// tasks from the front: `Scheduled.cancel()` costs time linear in the timers of every
/// connection on that loop. A connection cancels a timer at its close, at its first
/// message and at each answered server CALL; with 10,000 stations connected, each
/// such cancel scanned thousands of entries under the loop's lock, and in a
/// reconnect storm that scan was the gateway's largest single function
/// (docs/BENCHMARKS.md, "Timers that are not cancelled").
///
/// Disarming only forgets the task: it stays queued, runs at its time, sees that it
/// is no longer the armed one and does nothing. What that leaves behind is bounded:
/// - a task holds its owner weakly, so a closed connection is freed at once and only
///   the task itself (a closure and a promise) waits out its time;
/// - no task is scheduled more than ``horizon`` ahead: a later deadline is reached in
///   hops, each a wake-up that schedules the next, so a disarmed task is gone within
///   the horizon whatever its deadline was.
struct ConnectionTimers<Key: Hashable> {
    /// The furthest ahead a task is scheduled.
    static var horizon: TimeAmount { .seconds(30) }

    /// The token of each armed timer's latest task.
    private var armed: [Key: UInt64] = [:]
    private var lastToken: UInt64 = 0

    func isArmed(_ key: Key) -> Bool { armed[key] != nil }

    /// Arms `key`: at `deadline`, `fire` is called with the owner, on `eventLoop`,
    /// unless the timer was disarmed or armed again meanwhile. `timers` is where the
    /// owner keeps this value; the task reaches it there through a weak reference.
    mutating func arm<Owner: AnyObject>(
        _ key: Key, at deadline: NIODeadline, on eventLoop: any EventLoop,
        owner: Owner, timers: ReferenceWritableKeyPath<Owner, Self>,
        _ fire: @escaping (Owner) -> Void
    ) {
        lastToken &+= 1
        armed[key] = lastToken
        Self.schedule(
            key, token: lastToken, deadline: deadline, on: eventLoop, owner: owner, timers: timers, fire)
    }

    mutating func disarm(_ key: Key) {
        armed[key] = nil
    }

    mutating func disarmAll() {
        armed = [:]
    }

    /// Schedules the next hop towards `deadline`: the deadline itself, or the horizon.
    private static func schedule<Owner: AnyObject>(
        _ key: Key, token: UInt64, deadline: NIODeadline, on eventLoop: any EventLoop,
        owner: Owner, timers: ReferenceWritableKeyPath<Owner, Self>,
        _ fire: @escaping (Owner) -> Void
    ) {
        let horizon = eventLoop.now + Self.horizon
        let isLastHop = deadline <= horizon
        eventLoop.assumeIsolated().scheduleTask(deadline: isLastHop ? deadline : horizon) {
            [weak owner] in
            guard let owner, owner[keyPath: timers].isCurrent(key, token: token, taking: isLastHop) else {
                return
            }
            if isLastHop {
                fire(owner)
            } else {
                schedule(key, token: token, deadline: deadline, on: eventLoop, owner: owner, timers: timers, fire)
            }
        }
    }

    /// Whether task `token` is still the one armed for `key`; `taking` disarms it
    /// (its time has come).
    private mutating func isCurrent(_ key: Key, token: UInt64, taking: Bool) -> Bool {
        guard armed[key] == token else { return false }
        if taking { armed[key] = nil }
        return true
    }
}
