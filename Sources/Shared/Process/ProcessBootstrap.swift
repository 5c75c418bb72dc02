import Foundation
import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics, set up once at start by each executable:
/// log lines to standard output at `logLevel`, metrics into a Prometheus registry
/// that `/metrics` serves.
public enum ProcessBootstrap {
    public static func bootstrap(logLevel: Logger.Level) -> PrometheusCollectorRegistry {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        return prometheus
    }

    /// The settings `resolve` reads, or, on a configuration mistake, one line on
    /// standard error naming the setting and exit status 2.
    public static func settingsOrExit<Settings>(_ resolve: () throws(ConfigurationError) -> Settings) -> Settings {
        do {
            return try resolve()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(2)
        }
    }

    /// Reads a `LOG_LEVEL` value.
    public static func logLevel(_ text: String) throws(ConfigurationError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ConfigurationError(
                setting: "LOG_LEVEL", reason: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        return level
    }
}
