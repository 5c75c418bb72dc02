import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import OCPP
import ServiceLifecycle
import Shared
import X509

/// `ocpp-worker run`: applies the gateways' work rows and runs the periodic jobs
/// until SIGTERM or SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Apply work rows to the domain tables and run maintenance (the default).",
        discussion: """
            Every setting can be given as a flag or as the environment variable named in its help; \
            the flag wins. Pending migrations are applied first unless OCPP_MIGRATE=false.
            """)

    @OptionGroup var options: WorkerOptions

    func run() async throws {
        // Tasks run on NIO's event loops (the singleton group, which the database pool
        // and the admin server use) rather than on Dispatch's pool: a drain loop then
        // resumes on the event loop of the connection whose answer it awaited, with no
        // switch to another thread at each of a batch's statements. Nothing the
        // worker runs in a task blocks a thread for long (password hashing has a
        // thread pool).
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let (settings, logLevel) = ProcessBootstrap.settingsOrExit { () throws(ConfigurationError) in
            try options.resolve()
        }
        let prometheus = ProcessBootstrap.bootstrap(logLevel: logLevel)
        var logger = Logger(label: "ocpp-worker")
        logger[metadataKey: "worker"] = "\(settings.workerID)"
        let application = WorkerApplication(settings: settings, logger: logger, prometheus: prometheus)
        try await runReportingErrors {
            try await application.prepareDatabase()
        }
        logger.info("applying work rows; health and metrics on \(settings.host):\(settings.port)")
        if let signing = settings.certificateSigning {
            logger.info(
                "signing station certificates (SignCertificate) for O=\(signing.check.organization) with CA \(signing.authority.certificate.subject)"
            )
        }
        try await application.makeServiceGroup().run()
    }
}
