import OCPP
import Shared

/// A load run's figures, as a table for people and as JSON for scripts.
struct LoadReport: Sendable {
    var stations: Int
    var rampSeconds: Double
    var duration: Double
    /// From the schedule's start until the last answer (or the settle timeout).
    var elapsed: Double
    var rate: Double
    var settled: Bool
    var statistics: LoadStatistics

    var offeredRate: Double { Double(statistics.offered) / duration }
    var achievedRate: Double { Double(statistics.acknowledged) / max(elapsed, duration) }

    var table: String {
        let s = statistics
        var lines = [
            "load: \(stations) stations (connected and booted in \(Report.number(rampSeconds.rounded())) s), "
                + "\(Report.number(rate)) msgs/s for \(Report.number(duration)) s, open loop",
            "",
            "| figure | value |",
            "|---|---:|",
            "| offered msgs/s | \(Report.number(offeredRate.rounded())) |",
            "| achieved (acknowledged) msgs/s | \(Report.number(achievedRate.rounded())) |",
            "| messages offered / sent / acknowledged | \(s.offered) / \(s.sent) / \(s.acknowledged) |",
        ]
        lines += Report.latencyRows("ack latency", s.latency.summary)
        let errors = s.callErrors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines += [
            "| CALLERRORs | \(errors.isEmpty ? "0" : errors) |",
            "| unanswered (connection lost / timed out) | \(s.lost) / \(s.timedOut) |",
            "| turns skipped (backlog full) | \(s.skipped) |",
            "| disconnects / reconnects / failed connects (of them 503) | \(s.disconnects) / \(s.reconnects) / "
                + "\(s.connectFailures) (\(s.upgradesDeferred)) |",
            "| boots answered Pending | \(s.bootsDeferred) |",
            "| sent by action | "
                + s.byAction.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                + " |",
        ]
        if !settled { lines += ["", "warning: some messages were still unanswered when the run ended"] }
        return lines.joined(separator: "\n")
    }

    var json: String {
        let s = statistics
        var writer = JSONWriter()
        writer.value(
            .object(
                JSONObject([
                    (key: "stations", value: .integer(Int64(stations))),
                    (key: "rampSeconds", value: .double(rampSeconds)),
                    (key: "durationSeconds", value: .double(duration)),
                    (key: "rate", value: .double(rate)),
                    (key: "offeredPerSecond", value: .double(offeredRate)),
                    (key: "achievedPerSecond", value: .double(achievedRate)),
                    (key: "offered", value: .integer(Int64(s.offered))),
                    (key: "sent", value: .integer(Int64(s.sent))),
                    (key: "acknowledged", value: .integer(Int64(s.acknowledged))),
                    (key: "latencyMs", value: Report.json(s.latency.summary)),
                    (
                        key: "callErrors",
                        value: .object(JSONObject(s.callErrors.map { (key: $0.key, value: .integer(Int64($0.value))) }))
                    ),
                    (key: "lost", value: .integer(Int64(s.lost))),
                    (key: "timedOut", value: .integer(Int64(s.timedOut))),
                    (key: "skipped", value: .integer(Int64(s.skipped))),
                    (key: "disconnects", value: .integer(Int64(s.disconnects))),
                    (key: "reconnects", value: .integer(Int64(s.reconnects))),
                    (key: "connectFailures", value: .integer(Int64(s.connectFailures))),
                    (key: "upgradesDeferred", value: .integer(Int64(s.upgradesDeferred))),
                    (key: "bootsDeferred", value: .integer(Int64(s.bootsDeferred))),
                    (
                        key: "sentByAction",
                        value: .object(JSONObject(s.byAction.map { (key: $0.key, value: .integer(Int64($0.value))) }))
                    ),
                    (key: "settled", value: .bool(settled)),
                ])))
        return writer.string
    }
}
