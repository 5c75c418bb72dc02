import OCPP
import Shared

/// A storm's figures, as a table for people and as JSON for scripts.
struct StormReport: Sendable {
    var stations: Int
    var rampSeconds: Double
    var dropped: Bool
    /// From the drop until every station was booted again (or the timeout).
    var stormSeconds = 0.0
    var rebooted = 0
    var rebootTimes = LatencyHistogram().summary
    /// Upgrades answered 503, boots answered Pending, other failed connection attempts.
    var upgradesDeferred = 0
    var bootsDeferred = 0
    var otherConnectFailures = 0

    var complete: Bool { !dropped || rebooted == stations }

    var table: String {
        var lines = [
            "storm: \(stations) stations connected and booted in \(Report.number(rampSeconds.rounded())) s"
                + (dropped ? ", then every connection dropped at once" : " (no drop)")
        ]
        guard dropped else { return lines.joined(separator: "\n") }
        lines += [
            "",
            "| figure | value |",
            "|---|---:|",
            "| stations booted again | \(rebooted) of \(stations) |",
            "| time until every station booted, s | \(Report.milliseconds(stormSeconds)) |",
        ]
        lines += Report.latencyRows("per-station reboot", rebootTimes)
        lines += [
            "| upgrades answered 503 | \(upgradesDeferred) |",
            "| boots answered Pending | \(bootsDeferred) |",
            "| other failed connection attempts | \(otherConnectFailures) |",
        ]
        if !complete { lines += ["", "warning: not every station booted again before the timeout"] }
        return lines.joined(separator: "\n")
    }

    var json: String {
        var writer = JSONWriter()
        writer.value(
            .object(
                JSONObject([
                    (key: "stations", value: .integer(Int64(stations))),
                    (key: "rampSeconds", value: .double(rampSeconds)),
                    (key: "dropped", value: .bool(dropped)),
                    (key: "stormSeconds", value: .double(stormSeconds)),
                    (key: "rebooted", value: .integer(Int64(rebooted))),
                    (key: "rebootMs", value: Report.json(rebootTimes)),
                    (key: "upgradesDeferred", value: .integer(Int64(upgradesDeferred))),
                    (key: "bootsDeferred", value: .integer(Int64(bootsDeferred))),
                    (key: "otherConnectFailures", value: .integer(Int64(otherConnectFailures))),
                    (key: "complete", value: .bool(complete)),
                ])))
        return writer.string
    }
}
