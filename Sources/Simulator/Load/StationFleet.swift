import Foundation
import NIOCore
import NIOPosix
import OCPP
import Shared

/// Many simulated stations in one process: one event loop per core, the stations
/// spread over the loops, each loop's figures kept on that loop. Used by `load`,
/// `commands` and the tests.
final class StationFleet: Sendable {
    let group: MultiThreadedEventLoopGroup
    let count: Int
    private let loops: [NIOLoopBound<LoadLoop>]

    /// Creates `count` stations (not yet connected), with one connector each.
    init(count: Int, settings: StationFleetSettings, threads: Int = System.coreCount) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        // Every station starts from the same configuration; copies share storage until one changes.
        let configuration = ConfigurationStore(connectors: 1)
        var loops: [NIOLoopBound<LoadLoop>] = []
        let eventLoops = Array(group.makeIterator())
        for (loopIndex, eventLoop) in eventLoops.enumerated() {
            let bound = try await eventLoop.submit {
                let loop = LoadLoop(eventLoop: eventLoop, settings: settings)
                for index in stride(from: loopIndex, to: count, by: eventLoops.count) {
                    _ = loop.addStation(
                        index: index,
                        chargePoint: ChargePoint(
                            identity: settings.identity(of: index), connectors: 1, configuration: configuration))
                }
                return NIOLoopBound(loop, eventLoop: eventLoop)
            }.get()
            loops.append(bound)
        }
        self.group = group
        self.count = count
        self.loops = loops
    }

    /// Connects every station, `rate` new connections per second; each boots on its own.
    func connectAll(rate: Double) async throws {
        let start = ContinuousClock.now
        var started = 0
        while started < count {
            let due = min(count, Int((start.duration(to: .now).seconds * rate).rounded(.down)) + 1)
            while started < due {
                let index = started
                let loop = loops[index % loops.count]
                loop.eventLoop.execute {
                    loop.value.stations[index / self.loops.count].startConnecting()
                }
                started += 1
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stations booted and connected now.
    func readyCount() async throws -> Int {
        try await onEveryLoop { $0.readyCount }.reduce(0, +)
    }

    /// Waits until every station is booted; throws after `timeout`.
    func waitUntilReady(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await readyCount() < count {
            guard ContinuousClock.now < deadline else {
                throw SimulatorError("only \(try await readyCount()) of \(count) stations booted within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Drops every connection at once (see ``LoadLoop/dropAll(at:)``); returns the moment.
    func dropAll() async throws -> ContinuousClock.Instant {
        let start = ContinuousClock.now
        let time = NIODeadline.now()
        _ = try await onEveryLoop { $0.dropAll(at: time) }
        return start
    }

    /// Stations that booted again since ``dropAll()``, and how long each took.
    func rebooted() async throws -> (count: Int, times: LatencyHistogram) {
        var times = LatencyHistogram()
        var count = 0
        for (loopCount, loopTimes) in try await onEveryLoop({ ($0.rebootedCount, $0.rebootTimes) }) {
            count += loopCount
            times.add(loopTimes)
        }
        return (count, times)
    }

    /// Starts the open-loop schedule on every loop: `rate` messages per second in all.
    func startSchedule(rate: Double, duration: Duration) async throws {
        let start = NIODeadline.now() + .milliseconds(20)
        let perLoop = rate / Double(loops.count)
        let nanoseconds = Int64(duration.seconds * 1e9)
        _ = try await onEveryLoop { $0.startSchedule(start: start, rate: perLoop, duration: .nanoseconds(nanoseconds)) }
    }

    /// Waits until no station has a message outstanding or queued; false after `timeout`.
    func waitUntilDrained(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while try await !onEveryLoop({ $0.isDrained }).allSatisfy({ $0 }) {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    /// Every loop's figures, merged.
    func results() async throws -> (statistics: LoadStatistics, journal: AckJournal) {
        var statistics = LoadStatistics()
        var journal = AckJournal()
        for (loopStatistics, loopJournal) in try await onEveryLoop({ ($0.statistics, $0.journal) }) {
            statistics.add(loopStatistics)
            journal.add(loopJournal)
        }
        return (statistics, journal)
    }

    /// Closes every connection and stops the event loops.
    func shutdown() async throws {
        _ = try await onEveryLoop { $0.stop() }
        // A moment for the close frames to go out.
        try await Task.sleep(for: .milliseconds(200))
        try await group.shutdownGracefully()
    }

    private func onEveryLoop<Value: Sendable>(_ body: @escaping @Sendable (LoadLoop) -> Value) async throws -> [Value] {
        var values: [Value] = []
        for loop in loops {
            values.append(try await loop.eventLoop.submit { body(loop.value) }.get())
        }
        return values
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
