import Foundation
import PostgresNIO

/// A `DATABASE_URL` of the form `postgres://user:password@host:port/database?sslmode=...`.
public struct DatabaseURL: Sendable {
    public var configuration: PostgresClient.Configuration

    /// Reads the URL; errors name the setting and what is wrong, never the password.
    public init(_ text: String, setting: String = "DATABASE_URL") throws(ConfigurationError) {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme)
        else {
            throw ConfigurationError(setting: setting, reason: "must be a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ConfigurationError(setting: setting, reason: "has no host")
        }
        let database = String(components.path.dropFirst())
        guard !database.isEmpty else {
            throw ConfigurationError(setting: setting, reason: "has no database name after the host")
        }
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable":
            tls = .disable
        case "allow", "prefer":
            tls = .prefer(Self.unverifiedTLS)
        case "require":
            tls = .require(Self.unverifiedTLS)
        case "verify-ca", "verify-full":
            tls = .require(.makeClientConfiguration())
        default:
            throw ConfigurationError(
                setting: setting, reason: "sslmode \(sslMode) is not one of disable, prefer, require, verify-full")
        }
        configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432,
            username: components.user ?? "postgres", password: components.password,
            database: database, tls: tls)
    }

    /// libpq's `prefer` and `require` encrypt without checking the certificate.
    private static var unverifiedTLS: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }
}

/// A configuration mistake: one line naming the setting.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var setting: String
    public var reason: String

    public init(setting: String, reason: String) {
        self.setting = setting
        self.reason = reason
    }

    public var description: String { "configuration error: \(setting) \(reason)" }
}
