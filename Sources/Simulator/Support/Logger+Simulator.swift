import Foundation
import Logging

extension Logger {
    /// The simulator's own diagnostics; the OCPP traffic of station mode is printed, not logged.
    static func simulator(_ label: String) -> Logger {
        var logger = Logger(label: "ocpp-sim.\(label)")
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .warning
        return logger
    }

    /// The database pool's background logger: PostgresNIO warns when the first
    /// query races the pool's start, which is harmless for a one-shot command.
    static func databasePool() -> Logger {
        var logger = Logger(label: "ocpp-sim.database")
        logger.logLevel = .error
        return logger
    }
}
