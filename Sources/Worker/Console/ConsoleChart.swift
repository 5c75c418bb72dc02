import Foundation

/// Line charts drawn on the server as SVG, by hand: a transaction's energy and power
/// over time. No script, nothing fetched.
enum ConsoleChart {
    struct Point: Sendable, Equatable {
        var time: Date
        var value: Double
    }

    static let width = 640.0
    static let height = 220.0
    static let left = 64.0
    static let right = 16.0
    static let top = 24.0
    static let bottom = 32.0

    /// The chart, or a short SVG that says there is no data.
    static func svg(title: String, unit: String, points: [Point]) -> String {
        let label = escape("\(title) (\(unit))")
        let head =
            #"<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" "#
            + #"width="\#(Int(width))" height="\#(Int(height))" viewBox="0 0 \#(Int(width)) \#(Int(height))" "#
            + #"aria-label="\#(label)"><title>\#(label)</title>"#
            + #"<text x="\#(Int(left))" y="16">\#(label)</text>"#
        let sorted = points.filter { $0.value.isFinite }.sorted { $0.time < $1.time }
        guard let first = sorted.first, let last = sorted.last else {
            return head
                + #"<text x="\#(Int(width / 2))" y="\#(Int(height / 2))" text-anchor="middle">no data</text></svg>"#
        }
        let minimum = min(0, sorted.map(\.value).min() ?? 0)
        var maximum = sorted.map(\.value).max() ?? 1
        if maximum <= minimum { maximum = minimum + 1 }
        let span = max(last.time.timeIntervalSince(first.time), 1)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func x(_ time: Date) -> Double { left + time.timeIntervalSince(first.time) / span * plotWidth }
        func y(_ value: Double) -> Double { top + (1 - (value - minimum) / (maximum - minimum)) * plotHeight }

        var body = ""
        for step in 0...4 {
            let value = minimum + (maximum - minimum) * Double(step) / 4
            let position = format(y(value))
            body +=
                #"<line class="grid" x1="\#(Int(left))" x2="\#(Int(width - right))" y1="\#(position)" y2="\#(position)"/>"#
            body +=
                #"<text x="\#(Int(left) - 6)" y="\#(position)" text-anchor="end" dominant-baseline="middle">\#(number(value))</text>"#
        }
        body +=
            #"<line class="axis" x1="\#(Int(left))" x2="\#(Int(left))" y1="\#(Int(top))" y2="\#(Int(height - bottom))"/>"#
        body +=
            #"<line class="axis" x1="\#(Int(left))" x2="\#(Int(width - right))" y1="\#(Int(height - bottom))" y2="\#(Int(height - bottom))"/>"#
        body += #"<text x="\#(Int(left))" y="\#(Int(height - 10))">\#(clock(first.time))</text>"#
        body +=
            #"<text x="\#(Int(width - right))" y="\#(Int(height - 10))" text-anchor="end">\#(clock(last.time))</text>"#
        let path = sorted.enumerated().map { index, point in
            (index == 0 ? "M" : "L") + format(x(point.time)) + "," + format(y(point.value))
        }.joined(separator: " ")
        body += #"<path class="line" d="\#(path)"/>"#
        return head + body + "</svg>"
    }

    /// Average power between successive energy readings (W from Wh), where the
    /// station sent no power readings itself.
    static func power(fromEnergy energy: [Point]) -> [Point] {
        let sorted = energy.sorted { $0.time < $1.time }
        return zip(sorted, sorted.dropFirst()).compactMap { earlier, later in
            let hours = later.time.timeIntervalSince(earlier.time) / 3600
            guard hours > 0 else { return nil }
            return Point(time: later.time, value: (later.value - earlier.value) / hours)
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A coordinate with one decimal.
    static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }

    /// An axis label: whole numbers, or with k above 10,000.
    static func number(_ value: Double) -> String {
        abs(value) >= 10_000 ? String(format: "%.1fk", value / 1000) : String(format: "%.0f", value)
    }

    static func clock(_ time: Date) -> String {
        let seconds = Int(time.timeIntervalSince1970) % 86_400
        return String(format: "%02d:%02d:%02d UTC", seconds / 3600, seconds / 60 % 60, seconds % 60)
    }
}
