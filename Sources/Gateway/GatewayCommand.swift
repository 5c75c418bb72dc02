import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import OCPP
import Prometheus
import ServiceLifecycle
import Shared

/// `ocpp-gateway`: the WebSocket endpoint stations connect to.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocpp-gateway",
        abstract: "The OCPP 1.6J central system's WebSocket gateway.",
        discussion: """
            Every setting can be given as a flag or as the environment variable named in its help; \
            the flag wins. Stations connect to ws://HOST:PORT/ocpp/{identity} (or /v1/ocpp/{identity}).
            """
    )

    @OptionGroup var options: GatewayOptions

    func run() async throws {
        // Tasks run on the event loops that serve the stations (NIO's singleton group,
        // which the listeners and the database pool use) rather than on a pool of
        // their own: a station's CALL then goes from its socket to the ingest writer
        // and back without a switch between two sets of threads. Nothing the gateway
        // runs in a task blocks a thread (password checks have a thread pool).
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let (settings, logLevel) = ProcessBootstrap.settingsOrExit { () throws(ConfigurationError) in
            try options.resolve()
        }
        let prometheus = ProcessBootstrap.bootstrap(logLevel: logLevel)
        var logger = Logger(label: "ocpp-gateway")
        logger[metadataKey: "gateway"] = "\(settings.gatewayID)"
        let application = GatewayApplication(settings: settings, logger: logger, prometheus: prometheus)
        // Reads the TLS files: a mistake in them stops the process here.
        let group = ProcessBootstrap.settingsOrExit { () throws(ConfigurationError) in
            try application.makeServiceGroup()
        }
        logger.info(
            "listening on \(settings.port.map { "\(settings.host):\($0)" } ?? "no plain port (OCPP_PORT=off)"), auth \(settings.auth.rawValue), registration \(settings.registrationPolicy.rawValue)"
        )
        if let tls = settings.tls {
            logger.info(
                "listening for wss:// on \(settings.host):\(tls.port), security profile \(tls.clientCAPath == nil ? 2 : 3)"
            )
        }
        try await group.run()
    }
}
