import OCPP
import Shared

/// Formatting shared by the reports.
enum Report {
    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : MeterSampler.format(value, digits: 1)
    }

    static func milliseconds(_ value: Double) -> String {
        MeterSampler.format(value, digits: value < 10 ? 2 : 1)
    }

    static func latencyRows(_ label: String, _ summary: LatencySummary) -> [String] {
        [
            "| \(label) p50, ms | \(milliseconds(summary.p50)) |",
            "| \(label) p90, ms | \(milliseconds(summary.p90)) |",
            "| \(label) p99, ms | \(milliseconds(summary.p99)) |",
            "| \(label) p99.9, ms | \(milliseconds(summary.p999)) |",
            "| \(label) max, ms | \(milliseconds(summary.max)) |",
        ]
    }

    static func json(_ summary: LatencySummary) -> JSONValue {
        .object(
            JSONObject([
                (key: "count", value: .integer(Int64(summary.count))),
                (key: "p50", value: .double(summary.p50)),
                (key: "p90", value: .double(summary.p90)),
                (key: "p99", value: .double(summary.p99)),
                (key: "p99_9", value: .double(summary.p999)),
                (key: "max", value: .double(summary.max)),
            ]))
    }
}
