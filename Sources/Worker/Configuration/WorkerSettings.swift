import PostgresNIO

/// Everything `ocpp-worker run` is told, with the defaults an operator gets when a
/// setting is not given (see ``WorkerOptions`` for the variables and flags).
struct WorkerSettings: Sendable {
    var database: PostgresClient.Configuration
    /// This instance's name in logs.
    var workerID: String
    /// Apply pending migrations before starting (several workers may start at once).
    var migrateAtStart = true
    /// Folder of the numbered SQL migrations.
    var migrationsDirectory = "sql"
    /// Address and port of `/healthz`, `/readyz` and `/metrics`.
    var host = "0.0.0.0"
    var port = 9100
    /// Most inbox rows claimed and applied in one transaction.
    var batchSize = 1000
    /// Batches applied at once, each on its own connection. Applying a batch keeps
    /// one PostgreSQL backend busy on one core; more loops use more of the server.
    var concurrency = 2
    /// Buckets of stations (of the journal's 64) one batch leases. Half by default,
    /// so that two drain loops (one worker's default) apply at once and more take
    /// turns; fewer per lease let more loops work at once, but each batch is then
    /// smaller, and a batch's statements cost about as much for 20 rows as for 500.
    var leaseBuckets = Self.defaultLeaseBuckets
    static let defaultLeaseBuckets = 32
    /// How often the inbox is polled when no NOTIFY arrives (a notice can be missed
    /// while the listening connection is down).
    var pollInterval = Duration.seconds(1)
    /// After a batch that came back short, how long a drain loop lets new rows
    /// gather once it is woken, before it claims again: a claim and a batch's
    /// statements cost about the same for 5 rows as for 500, so under a steady
    /// trickle of gateway batches (one NOTIFY every few milliseconds) claiming at
    /// every wake-up spent most of the database's time on claims. 200 ms rather
    /// than 50: at 2,000 messages/s a batch then holds ~240 rows instead of ~70,
    /// and PostgreSQL spends a fifth less per message (each station's last seen is
    /// written once per batch, the lease and claim are shared by more rows); the
    /// domain tables trail the journal by a fifth of a second more.
    var batchDelay = Duration.milliseconds(200)
    /// How often the hours that received meter values are rolled up (plain path;
    /// the rollup is current within this interval plus one run).
    var rollupInterval = Duration.seconds(300)
    /// How often partitions, retention and the archive are looked after.
    var maintenanceInterval = Duration.seconds(600)
    /// A gateway whose heartbeat is older than this is dead: its sessions end.
    var gatewayTimeout = Duration.seconds(60)
    /// Days of raw meter values kept (0: forever).
    var meterValuesRetentionDays = 30
    /// Days of the inbox journal kept (0: forever). Unprocessed rows are never dropped.
    var inboxRetentionDays = 14
    /// Days of status history and station events kept (0: forever).
    var eventRetentionDays = 365
    /// Meter values older than this many days are copied to the archive (0: no archive).
    var archiveAfterDays = 7
    /// Days a retransmission receipt is kept: a resend within it gets the first answer.
    var receiptRetentionDays = 7
    /// Days of partitions created ahead (plain path).
    var partitionsAheadDays = 7
    /// Most commands waiting for one station; `ocpp.enqueue_call` refuses more.
    var maxPendingCommands = 1000
    /// The operator API (`/api/v1`), on its own listener.
    var admin = AdminSettings()
    /// Signing of station certificates (SignCertificate); nil: not offered, requests
    /// are recorded in the station's events with the reason.
    var certificateSigning: CertificateSigning?
    /// Longest graceful shutdown before the process is cancelled.
    var shutdownTimeout = Duration.seconds(10)
    /// How long the services may take to end once cancelled (after ``shutdownTimeout``)
    /// before the process is stopped (ServiceLifecycle's fatal error). Not an
    /// environment setting: the in-process test harnesses raise it to 60 s, since there
    /// that fatal error ends the whole test run.
    var cancellationTimeout = Duration.seconds(2)
}
