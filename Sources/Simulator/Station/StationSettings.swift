import Foundation

/// How a single simulated station connects and behaves.
struct StationSettings: Sendable {
    var identity: String
    var connector: WebSocketConnector
    var password: String?
    var connectors = 2
    /// Simulated seconds between MeterValues during a transaction.
    var meterInterval: Double = 60
    /// Simulated time runs this many times faster than real time (meter intervals,
    /// firmware and upload steps), so a walkthrough takes seconds.
    var speed: Double = 1
    /// The power drawn while charging, in W (three phases at 16 A).
    var chargingPower: Double = 11_000
    var vendor = "SwiftOCPP"
    var model = "ocpp-sim"
    var callTimeout = Duration.seconds(30)
    var reconnectDelay = Duration.seconds(5)
    var printer = MessagePrinter()

    /// The real time that `simulatedSeconds` take.
    func realTime(_ simulatedSeconds: Double) -> Duration {
        .seconds(simulatedSeconds / speed)
    }
}

/// A CALL the central system answered with a CALLERROR, or with a status that is
/// not the one the simulator needed (a scripted run fails on either).
struct CallRefused: Error, CustomStringConvertible {
    var action: String
    var reason: String

    var description: String { "\(action) refused: \(reason)" }
}
