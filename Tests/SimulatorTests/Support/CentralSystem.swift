import Foundation
import Logging
import PostgresNIO
import Prometheus
import ServiceLifecycle
import TestSupport

@testable import Gateway
@testable import Worker

/// A real gateway and a real worker, in this process, on a fresh migrated database:
/// what the simulator is tested against.
struct CentralSystem: Sendable {
    let client: PostgresClient
    let database: PostgresClient.Configuration
    let gatewayPort: Int

    var endpoint: String { "ws://127.0.0.1:\(gatewayPort)/ocpp" }

    /// Runs `body` with both processes up; stops them afterwards, also when it throws.
    static func run(
        configureGateway: @escaping @Sendable (inout GatewaySettings) -> Void = { _ in },
        _ body: @Sendable (CentralSystem) async throws -> Void
    ) async throws {
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            var logger = Logger(label: "simulator-tests")
            logger.logLevel = .warning

            var gatewaySettings = GatewaySettings(gatewayID: "sim-test", database: configuration)
            gatewaySettings.host = "127.0.0.1"
            gatewaySettings.port = 0
            // The simulated stations have no passwords: the development settings,
            // explicitly (the defaults are secure), as scripts/run sets them.
            gatewaySettings.auth = .insecureNone
            gatewaySettings.registrationPolicy = .open
            gatewaySettings.authorizationPolicy = .open
            // Past this, ServiceLifecycle's fatal error ends the whole test process: a
            // service slow to end once cancelled gets 60 s here, not 2 s (as in GatewayHarness).
            gatewaySettings.cancellationTimeout = .seconds(60)
            configureGateway(&gatewaySettings)
            var gatewayApplication = GatewayApplication(
                settings: gatewaySettings, logger: logger, prometheus: PrometheusCollectorRegistry())
            let gateway = try await RunningGroup.start { onRunning in
                gatewayApplication.onServerRunning = onRunning
                return try gatewayApplication.makeServiceGroup()
            }

            var workerSettings = WorkerSettings(database: configuration, workerID: "sim-test-worker")
            workerSettings.host = "127.0.0.1"
            workerSettings.port = 0
            workerSettings.migrateAtStart = false
            workerSettings.cancellationTimeout = .seconds(60)
            var workerApplication = WorkerApplication(
                settings: workerSettings, logger: logger, prometheus: PrometheusCollectorRegistry())
            try await workerApplication.prepareDatabase()
            let worker = try await RunningGroup.start { onRunning in
                workerApplication.onServerRunning = onRunning
                return workerApplication.makeServiceGroup()
            }

            let system = CentralSystem(client: client, database: configuration, gatewayPort: gateway.port)
            do {
                try await body(system)
            } catch {
                try? await worker.stop()
                try? await gateway.stop()
                throw error
            }
            try await worker.stop()
            try await gateway.stop()
        }
    }
}

/// A process's service group running in this test process, started and stopped as
/// its executable does.
private struct RunningGroup {
    let port: Int
    let group: ServiceGroup
    let running: Task<Void, any Error>

    static func start(
        _ makeGroup: (_ onRunning: @escaping @Sendable (Int) async -> Void) throws -> ServiceGroup
    ) async throws -> RunningGroup {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let group = try makeGroup { port in
            continuation.yield(port)
            continuation.finish()
        }
        let running = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CentralSystemError.didNotStart }
        return RunningGroup(port: port, group: group, running: running)
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

enum CentralSystemError: Error {
    case didNotStart
}

/// Polls `condition` until it holds; fails after `timeout`. The state comes from
/// other processes in their own time (the worker applying rows).
func eventually(
    _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else { throw EventuallyTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(100))
    }
}

struct EventuallyTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "gave up waiting: \(what)" }
}
