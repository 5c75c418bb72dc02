import ArgumentParser
import Logging
import OCPP
import Shared
import Testing

@testable import Worker

@Suite struct WorkerOptionsTests {
    private let database = ["DATABASE_URL": "postgres://u@localhost:5432/ocpp"]

    @Test func defaultsWithOnlyTheDatabase() throws {
        let (settings, level) = try WorkerOptions.parse([]).resolve(environment: database)
        #expect(settings.batchSize == 1000)
        #expect(settings.migrateAtStart)
        #expect(settings.gatewayTimeout == .seconds(60))
        #expect(level == .info)
        // The admin API is off until a token is configured, and loopback-only by default.
        #expect(settings.admin.token == nil)
        #expect(settings.admin.host == "127.0.0.1")
    }

    @Test func adminSettingsFromEnvironmentAndFlags() throws {
        var environment = database
        environment["OCPP_ADMIN_TOKEN"] = "abcdefghijklmnopqrstuvwxyz"
        environment["OCPP_ADMIN_PORT"] = "9200"
        let (settings, _) = try WorkerOptions.parse(["--admin-host", "0.0.0.0"]).resolve(environment: environment)
        #expect(settings.admin.token == "abcdefghijklmnopqrstuvwxyz")
        #expect(settings.admin.port == 9200)
        #expect(settings.admin.host == "0.0.0.0")
    }

    @Test func missingDatabaseNamesTheSetting() {
        #expect {
            try WorkerOptions.parse([]).resolve(environment: [:])
        } throws: { error in
            (error as? ConfigurationError)?.setting == "DATABASE_URL"
        }
    }

    @Test(arguments: [
        ("OCPP_WORKER_BATCH_SIZE", "0"), ("OCPP_WORKER_POLL_MS", "fast"), ("OCPP_MIGRATE", "maybe"),
        ("OCPP_GATEWAY_TIMEOUT", "1"), ("OCPP_ARCHIVE_AFTER_DAYS", "30"), ("LOG_LEVEL", "loud"),
        ("OCPP_ADMIN_TOKEN", "short"), ("OCPP_ADMIN_TOKEN", "has a space in it somewhere"),
        ("OCPP_ADMIN_PORT", "70000"),
    ])
    func wrongValueNamesTheSetting(name: String, value: String) {
        var environment = database
        environment[name] = value
        #expect {
            try WorkerOptions.parse([]).resolve(environment: environment)
        } throws: { error in
            (error as? ConfigurationError)?.setting == name
        }
    }

    @Test func flagWinsOverEnvironment() throws {
        let options = try WorkerOptions.parse(["--batch-size", "50"])
        var environment = database
        environment["OCPP_WORKER_BATCH_SIZE"] = "70"
        #expect(try options.resolve(environment: environment).0.batchSize == 50)
    }
}
