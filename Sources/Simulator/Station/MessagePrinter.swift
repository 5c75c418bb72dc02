import Foundation

/// Prints every OCPP message of a station session readably, one line each:
/// direction, time, action, compact JSON.
///
///     → 13:35:58.123 BootNotification [2,"1","BootNotification",{...}]
///     ← 13:35:58.131 BootNotification.conf [3,"1",{...}]
struct MessagePrinter: Sendable {
    enum Direction: String, Sendable {
        case sent = "→"
        case received = "←"
    }

    var isEnabled = true

    func print(_ direction: Direction, _ label: String, _ bytes: [UInt8]) {
        guard isEnabled else { return }
        line("\(direction.rawValue) \(Self.time()) \(label) \(String(decoding: bytes, as: UTF8.self))")
    }

    /// A note between messages (a connection, a failure).
    func note(_ text: String) {
        guard isEnabled else { return }
        line("· \(Self.time()) \(text)")
    }

    private func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    private static func time() -> String {
        let now = Date().timeIntervalSince1970
        let milliseconds = Int64((now * 1000).rounded(.down))
        let ofDay = milliseconds % 86_400_000
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = ofDay % 1000
        let padded = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(two(ofDay / 3_600_000)):\(two(ofDay / 60_000 % 60)):\(two(ofDay / 1000 % 60)).\(padded)"
    }
}
