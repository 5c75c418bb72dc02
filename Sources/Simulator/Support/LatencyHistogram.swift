import Histogram

/// Latencies in microseconds, in an HDR histogram (three significant digits, up to
/// ten minutes): percentiles stay exact to 0.1 % however many values are recorded,
/// in constant memory. One per event loop, merged for the report.
struct LatencyHistogram: Sendable {
    private var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)

    var count: UInt64 { histogram.totalCount }

    mutating func record(microseconds: Int64) {
        // A value above the range is clamped rather than lost: it still counts, as a maximum.
        _ = histogram.record(UInt64(min(max(microseconds, 1), 600_000_000)))
    }

    mutating func add(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
    }

    /// The value at `percentile` (0...100), in milliseconds.
    func milliseconds(atPercentile percentile: Double) -> Double {
        guard count > 0 else { return 0 }
        return Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    var maxMilliseconds: Double { count > 0 ? Double(histogram.max) / 1000 : 0 }

    /// The figures every report shows.
    var summary: LatencySummary {
        LatencySummary(
            count: count, p50: milliseconds(atPercentile: 50), p90: milliseconds(atPercentile: 90),
            p99: milliseconds(atPercentile: 99), p999: milliseconds(atPercentile: 99.9), max: maxMilliseconds)
    }
}

/// Latency percentiles in milliseconds.
struct LatencySummary: Sendable, Hashable {
    var count: UInt64
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
}
