import Logging
import ServiceLifecycle
import UnixSignals

extension ServiceGroup {
    /// The service group of one of our executables: SIGTERM and SIGINT start a
    /// graceful shutdown, which stops the services in reverse order of `services`;
    /// past `shutdownTimeout` the rest is cancelled, and past `cancellationTimeout`
    /// more the process must end anyway (ServiceLifecycle stops it with a fatal error).
    ///
    /// - Parameter cancellationTimeout: 2 s in the executables. The in-process test
    ///   harnesses run their groups inside the test process, where that fatal error
    ///   ends the whole test run: they allow longer.
    public static func process(
        services: [any Service], shutdownTimeout: Duration, cancellationTimeout: Duration = .seconds(2),
        logger: Logger
    ) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownTimeout
        configuration.maximumCancellationDuration = cancellationTimeout
        return ServiceGroup(configuration: configuration)
    }
}
