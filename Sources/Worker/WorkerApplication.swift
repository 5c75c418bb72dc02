import Foundation
import Hummingbird
import Logging
import OCPP
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Shared

/// The worker process: migrations and retention settings at start, then the pool,
/// the inbox listener and drainer, the periodic jobs, the admin API and the HTTP
/// endpoint, as services of one group.
///
/// Graceful shutdown runs in reverse order: the HTTP endpoint and the admin API
/// stop, the jobs stop,
/// the drainer commits the batch in hand, the listener stops, the pool closes.
struct WorkerApplication {
    let settings: WorkerSettings
    let logger: Logger
    let prometheus: PrometheusCollectorRegistry

    /// Called with the bound port once the HTTP endpoint listens (tests bind port 0).
    var onServerRunning: @Sendable (Int) async -> Void = { _ in }
    /// Called with the bound port once the admin API listens.
    var onAdminServerRunning: @Sendable (Int) async -> Void = { _ in }

    /// Applies pending migrations (unless disabled) and records the settings the
    /// database's own functions read (retention, the pending-command cap).
    func prepareDatabase() async throws {
        try await PostgresClient.withClient(configuration: settings.database, logger: logger) { client in
            if settings.migrateAtStart {
                let directory = URL(fileURLWithPath: settings.migrationsDirectory)
                try await MigrationRunner(client: client, directory: directory, logger: logger).run()
            }
            _ = try await client.query(
                """
                SELECT ocpp.configure_retention(\(Int32(settings.meterValuesRetentionDays)),
                                                \(Int32(settings.inboxRetentionDays)))
                """, logger: logger
            ).collect()
            _ = try await client.query(
                """
                INSERT INTO ocpp.settings (name, value) VALUES ('max_pending_commands', \(String(settings.maxPendingCommands)))
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """, logger: logger
            ).collect()
        }
    }

    func makeServiceGroup() -> ServiceGroup {
        let client = PostgresClient(configuration: settings.database, backgroundLogger: logger)
        let metrics = WorkerMetrics()
        let health = WorkerHealth()
        let wakeups = (0..<settings.concurrency).map { _ in Wakeup() }
        let drainClients = Self.drainClients(
            count: settings.concurrency, configuration: settings.database, logger: logger)
        let appliers = drainClients.map { drainClient in
            InboxApplier(
                client: drainClient, batchSize: settings.batchSize, leaseBuckets: settings.leaseBuckets,
                metrics: metrics, logger: logger, certificateSigning: settings.certificateSigning)
        }
        let drainer = InboxDrainer(
            appliers: appliers, wakeups: wakeups, pollInterval: settings.pollInterval,
            batchDelay: settings.batchDelay, logger: logger)
        let listener = InboxListener(client: client, wakeups: wakeups, logger: logger)
        let readiness = ReadinessProbe(client: client, health: health, logger: logger)
        let maintenance = MaintenanceService(
            client: client, jobs: MaintenanceJobs.all(settings: settings, metrics: metrics), logger: logger)

        let router = Router()
        HealthRoutes.add(to: router, registry: prometheus) { health.isReady }
        let onServerRunning = self.onServerRunning
        let server = Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "ocpp-worker"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)

        let admin = AdminServer(
            settings: settings.admin, database: settings.database, logger: logger,
            onServerRunning: onAdminServerRunning)

        return ServiceGroup.process(
            services: ([client] + drainClients).map(PostgresClientService.init)
                + [readiness, listener, drainer, maintenance] + admin.makeServices()
                + [server],
            shutdownTimeout: settings.shutdownTimeout,
            cancellationTimeout: settings.cancellationTimeout,
            logger: logger)
    }

    /// A client of one connection for each drain loop, on the event loops in turn.
    ///
    /// PostgresNIO opens a pool's connections on `eventLoopGroup.any()`, which, asked
    /// from an event loop's thread (the pool runs as a task, and NIO's event loops
    /// are the global executor), is that same loop. With one shared client, every
    /// drain loop's connection, and the work each loop resumes on it (reading the
    /// payloads, expanding the samples, writing the COPY), shared one thread while
    /// the other core waited.
    static func drainClients(
        count: Int, configuration: PostgresClient.Configuration, logger: Logger
    ) -> [PostgresClient] {
        drainEventLoops(count: count).map { drainClient(on: $0, configuration: configuration, logger: logger) }
    }

    /// A client of one connection, opened on `eventLoop`.
    static func drainClient(
        on eventLoop: any EventLoop, configuration: PostgresClient.Configuration, logger: Logger
    ) -> PostgresClient {
        var configuration = configuration
        configuration.options.maximumConnections = 1
        return PostgresClient(configuration: configuration, eventLoopGroup: eventLoop, backgroundLogger: logger)
    }

    /// The event loop of each drain loop's client: NIO's event loops in turn.
    static func drainEventLoops(count: Int) -> [any EventLoop] {
        let eventLoops = Array(NIOSingletons.posixEventLoopGroup.makeIterator())
        return (0..<count).map { eventLoops[$0 % eventLoops.count] }
    }
}
