import Foundation
import NIOCore

/// A reconnect storm: every station connected and booted, then every connection
/// dropped at once, as when a gateway restarts, and reopened at once. It measures
/// how long until every station is booted again, honouring what the gateway does to
/// spread the herd (503 with Retry-After on the upgrade, Pending with an interval on
/// the boot), and counts both.
struct StormRun: Sendable {
    var stations: Int
    var settings: StationFleetSettings
    var rampRate: Double
    /// Every station stays connected and idle this long before the drop (a memory reading).
    var hold: Duration = .zero
    /// Connect, boot and hold only: no drop.
    var drop = true
    var timeout: Duration = .seconds(300)
    /// Told when every station is booted, before the hold (on the caller's task).
    var onReady: @Sendable (_ rampSeconds: Double) -> Void = { _ in }

    func execute() async throws -> StormReport {
        var settings = settings
        // "Reopened immediately": only the loop's millisecond of jitter between the drop and the reconnect.
        settings.reconnectDelay = .zero
        let fleet = try await StationFleet(count: stations, settings: settings)
        do {
            let rampStart = ContinuousClock.now
            try await fleet.connectAll(rate: rampRate)
            // The first boots get the same patience as the reboots: on a loaded machine
            // a 19,000-station ramp at 1,000/s took over 80 s.
            try await fleet.waitUntilReady(timeout: .seconds(Double(stations) / rampRate) + timeout)
            let rampSeconds = rampStart.duration(to: .now).seconds
            onReady(rampSeconds)
            try await Task.sleep(for: hold)
            let before = try await fleet.results().statistics
            var report = StormReport(stations: stations, rampSeconds: rampSeconds, dropped: drop)
            if drop {
                let dropped = try await fleet.dropAll()
                var rebooted = try await fleet.rebooted()
                while rebooted.count < stations, dropped.duration(to: .now) < timeout {
                    try await Task.sleep(for: .milliseconds(20))
                    rebooted = try await fleet.rebooted()
                }
                report.stormSeconds = dropped.duration(to: .now).seconds
                report.rebooted = rebooted.count
                report.rebootTimes = rebooted.times.summary
                let after = try await fleet.results().statistics
                report.upgradesDeferred = after.upgradesDeferred - before.upgradesDeferred
                report.bootsDeferred = after.bootsDeferred - before.bootsDeferred
                report.otherConnectFailures =
                    after.connectFailures - before.connectFailures - report.upgradesDeferred
            }
            try await fleet.shutdown()
            return report
        } catch {
            try? await fleet.shutdown()
            throw error
        }
    }
}
