import ArgumentParser
import Foundation
import Logging
import OCPP
import Shared

/// The worker's flags; each names the environment variable it overrides.
struct WorkerOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL. [env: DATABASE_URL]") var databaseURL: String?
    @Option(help: "This instance's name in logs. [env: OCPP_WORKER_ID, default: host name and process id]")
    var workerID: String?
    @Option(help: "Apply pending migrations at start: true or false. [env: OCPP_MIGRATE, default: true]")
    var migrate: String?
    @Option(help: "Folder of the numbered SQL migrations. [env: OCPP_MIGRATIONS_DIR, default: ./sql]")
    var migrationsDir: String?
    @Option(help: "Address of /healthz, /readyz and /metrics. [env: OCPP_WORKER_HOST, default: 0.0.0.0]")
    var host: String?
    @Option(help: "Port of /healthz, /readyz and /metrics. [env: OCPP_WORKER_PORT, default: 9100]")
    var port: String?
    @Option(help: "Most work rows applied per transaction. [env: OCPP_WORKER_BATCH_SIZE, default: 1000]")
    var batchSize: String?
    @Option(help: "Batches applied at once, each on its own connection. [env: OCPP_WORKER_CONCURRENCY, default: 2]")
    var concurrency: String?
    @Option(
        help:
            "Buckets of stations (of 64) one batch leases; 64 / this many drain loops apply at once. [env: OCPP_WORKER_LEASE_BUCKETS, default: 32]"
    )
    var leaseBuckets: String?
    @Option(help: "Inbox poll interval without NOTIFY, milliseconds. [env: OCPP_WORKER_POLL_MS, default: 1000]")
    var pollMs: String?
    @Option(
        help:
            "After a short batch, milliseconds to let work rows gather once woken before the next claim. [env: OCPP_WORKER_BATCH_DELAY_MS, default: 200]"
    )
    var batchDelayMs: String?
    @Option(help: "Hourly rollup refresh interval, seconds. [env: OCPP_ROLLUP_INTERVAL, default: 300]")
    var rollupInterval: String?
    @Option(
        help: "Partition, retention and archive job interval, seconds. [env: OCPP_MAINTENANCE_INTERVAL, default: 600]")
    var maintenanceInterval: String?
    @Option(
        help: "Heartbeat age after which a gateway is dead, seconds. [env: OCPP_GATEWAY_TIMEOUT, default: 60]")
    var gatewayTimeout: String?
    @Option(help: "Days of raw meter values kept, 0 forever. [env: OCPP_METER_VALUES_RETENTION_DAYS, default: 30]")
    var meterValuesRetentionDays: String?
    @Option(help: "Days of the inbox journal kept, 0 forever. [env: OCPP_INBOX_RETENTION_DAYS, default: 14]")
    var inboxRetentionDays: String?
    @Option(
        help:
            "Days of status history and station events kept, 0 forever. [env: OCPP_EVENT_RETENTION_DAYS, default: 365]"
    )
    var eventRetentionDays: String?
    @Option(
        help: "Days after which meter values are archived, 0 no archive. [env: OCPP_ARCHIVE_AFTER_DAYS, default: 7]")
    var archiveAfterDays: String?
    @Option(
        help: "Days a retransmission receipt is kept. [env: OCPP_RECEIPT_RETENTION_DAYS, default: 7]")
    var receiptRetentionDays: String?
    @Option(help: "Days of partitions created ahead (plain path). [env: OCPP_PARTITIONS_AHEAD_DAYS, default: 7]")
    var partitionsAheadDays: String?
    @Option(
        help: "Most commands waiting for one station. [env: OCPP_MAX_PENDING_COMMANDS, default: 1000]")
    var maxPendingCommands: String?
    @Option(help: "Address of the admin API. [env: OCPP_ADMIN_HOST, default: 127.0.0.1]")
    var adminHost: String?
    @Option(help: "Port of the admin API. [env: OCPP_ADMIN_PORT, default: 8180]")
    var adminPort: String?
    @Option(
        help:
            "Bearer token of the admin API, 16 characters or more; unset turns the API off. [env: OCPP_ADMIN_TOKEN]"
    )
    var adminToken: String?
    @Option(
        help:
            "Required subject O of the CSRs stations send with SignCertificate; set, the worker signs them with --ca-certificate. [env: OCPP_CSR_ORGANIZATION]"
    )
    var csrOrganization: String?
    @Option(
        help:
            "PEM certificate of the CA that signs station certificates, then its chain; needs --csr-organization. [env: OCPP_CA_CERTIFICATE]"
    )
    var caCertificate: String?
    @Option(help: "PEM private key of --ca-certificate. [env: OCPP_CA_KEY]") var caKey: String?
    @Option(
        help:
            "Days a station certificate issued by the worker is valid. [env: OCPP_ISSUED_CERTIFICATE_DAYS, default: 365]"
    )
    var issuedCertificateDays: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. [env: LOG_LEVEL, default: info]")
    var logLevel: String?

    func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> (WorkerSettings, Logger.Level) {
        let settings = SettingsResolver(environment: environment)
        let databaseURL = try settings.requiredString("DATABASE_URL", flag: databaseURL, flagName: "database-url")
        var result = WorkerSettings(
            database: try DatabaseURL(databaseURL).configuration,
            workerID: settings.string("OCPP_WORKER_ID", flag: workerID, default: Self.defaultWorkerID()))
        result.migrateAtStart = try settings.boolean("OCPP_MIGRATE", flag: migrate, default: result.migrateAtStart)
        result.migrationsDirectory = settings.string(
            "OCPP_MIGRATIONS_DIR", flag: migrationsDir, default: result.migrationsDirectory)
        result.host = settings.string("OCPP_WORKER_HOST", flag: host, default: result.host)
        result.port = try settings.integer("OCPP_WORKER_PORT", flag: port, default: result.port, range: 0...65535)
        result.batchSize = try settings.integer(
            "OCPP_WORKER_BATCH_SIZE", flag: batchSize, default: result.batchSize, range: 1...50_000)
        result.concurrency = try settings.integer(
            "OCPP_WORKER_CONCURRENCY", flag: concurrency, default: result.concurrency, range: 1...64)
        result.leaseBuckets = try settings.integer(
            "OCPP_WORKER_LEASE_BUCKETS", flag: leaseBuckets, default: result.leaseBuckets, range: 1...64)
        result.pollInterval = try settings.duration(
            "OCPP_WORKER_POLL_MS", flag: pollMs, default: result.pollInterval, unit: .milliseconds(1),
            range: 10...600_000)
        result.batchDelay = try settings.duration(
            "OCPP_WORKER_BATCH_DELAY_MS", flag: batchDelayMs, default: result.batchDelay, unit: .milliseconds(1),
            range: 0...10_000)
        result.rollupInterval = try settings.duration(
            "OCPP_ROLLUP_INTERVAL", flag: rollupInterval, default: result.rollupInterval, unit: .seconds(1),
            range: 1...900)
        result.maintenanceInterval = try settings.duration(
            "OCPP_MAINTENANCE_INTERVAL", flag: maintenanceInterval, default: result.maintenanceInterval,
            unit: .seconds(1), range: 1...86_400)
        result.gatewayTimeout = try settings.duration(
            "OCPP_GATEWAY_TIMEOUT", flag: gatewayTimeout, default: result.gatewayTimeout, unit: .seconds(1),
            range: 5...86_400)
        result.meterValuesRetentionDays = try settings.integer(
            "OCPP_METER_VALUES_RETENTION_DAYS", flag: meterValuesRetentionDays,
            default: result.meterValuesRetentionDays, range: 0...36_500)
        result.inboxRetentionDays = try settings.integer(
            "OCPP_INBOX_RETENTION_DAYS", flag: inboxRetentionDays, default: result.inboxRetentionDays,
            range: 0...36_500)
        result.eventRetentionDays = try settings.integer(
            "OCPP_EVENT_RETENTION_DAYS", flag: eventRetentionDays, default: result.eventRetentionDays,
            range: 0...36_500)
        result.archiveAfterDays = try settings.integer(
            "OCPP_ARCHIVE_AFTER_DAYS", flag: archiveAfterDays, default: result.archiveAfterDays, range: 0...36_500)
        result.receiptRetentionDays = try settings.integer(
            "OCPP_RECEIPT_RETENTION_DAYS", flag: receiptRetentionDays, default: result.receiptRetentionDays,
            range: 1...365)
        result.partitionsAheadDays = try settings.integer(
            "OCPP_PARTITIONS_AHEAD_DAYS", flag: partitionsAheadDays, default: result.partitionsAheadDays,
            range: 1...366)
        result.maxPendingCommands = try settings.integer(
            "OCPP_MAX_PENDING_COMMANDS", flag: maxPendingCommands, default: result.maxPendingCommands,
            range: 1...1_000_000)
        result.admin = try resolveAdmin(settings)
        result.certificateSigning = try resolveCertificateSigning(settings)
        if result.archiveAfterDays > 0, result.meterValuesRetentionDays > 0,
            result.archiveAfterDays >= result.meterValuesRetentionDays
        {
            // Values would be dropped before they are archived.
            throw ConfigurationError(
                setting: "OCPP_ARCHIVE_AFTER_DAYS",
                reason: "must be less than OCPP_METER_VALUES_RETENTION_DAYS (\(result.meterValuesRetentionDays))")
        }
        let level = try ProcessBootstrap.logLevel(settings.string("LOG_LEVEL", flag: logLevel, default: "info"))
        return (result, level)
    }

    private func resolveAdmin(_ settings: SettingsResolver) throws(ConfigurationError) -> AdminSettings {
        var admin = AdminSettings()
        admin.host = settings.string("OCPP_ADMIN_HOST", flag: adminHost, default: admin.host)
        admin.port = try settings.integer("OCPP_ADMIN_PORT", flag: adminPort, default: admin.port, range: 0...65535)
        admin.token = settings.text("OCPP_ADMIN_TOKEN", flag: adminToken)
        if let token = admin.token {
            guard token.count >= AdminSettings.minimumTokenLength else {
                throw ConfigurationError(
                    setting: "OCPP_ADMIN_TOKEN",
                    reason: "must be at least \(AdminSettings.minimumTokenLength) characters long")
            }
            guard token.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
                throw ConfigurationError(
                    setting: "OCPP_ADMIN_TOKEN", reason: "must be printable ASCII without spaces")
            }
        }
        return admin
    }

    /// Signing is on when the organization is set, and then needs a readable CA
    /// certificate and its key; either without the other is a configuration error.
    private func resolveCertificateSigning(
        _ settings: SettingsResolver
    ) throws(ConfigurationError) -> CertificateSigning? {
        typealias Setting = CertificateAuthority.Setting
        let organization = settings.text(Setting.organization, flag: csrOrganization)
        let certificatePath = settings.text(Setting.certificate, flag: caCertificate)
        let keyPath = settings.text(Setting.key, flag: caKey)
        let days = try settings.integer(
            Setting.validityDays, flag: issuedCertificateDays, default: 365, range: 1...3650)
        guard let organization else {
            if certificatePath != nil || keyPath != nil {
                throw ConfigurationError(
                    setting: Setting.organization,
                    reason:
                        "is required with \(Setting.certificate) and \(Setting.key): the subject O station CSRs must carry"
                )
            }
            return nil
        }
        guard let certificatePath else {
            throw ConfigurationError(
                setting: Setting.certificate, reason: "is required with \(Setting.organization): the CA that signs")
        }
        guard let keyPath else {
            throw ConfigurationError(setting: Setting.key, reason: "is required with \(Setting.certificate)")
        }
        var authority = try CertificateAuthority.load(certificatePath: certificatePath, keyPath: keyPath)
        authority.validity = .seconds(days * 86_400)
        return CertificateSigning(check: CertificateRequestCheck(organization: organization), authority: authority)
    }

    static func defaultWorkerID() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}
