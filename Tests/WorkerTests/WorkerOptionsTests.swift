import ArgumentParser
import Logging
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
