import Logging
import ServiceLifecycle
import UnixSignals

extension ServiceGroup {
    /// The service group of one of our executables: SIGTERM and SIGINT start a
    /// graceful shutdown, which stops the services in reverse order of `services`;
    /// past `shutdownTimeout` the rest is cancelled, and past 2 more seconds the
    /// process must end anyway.
    public static func process(
        services: [any Service], shutdownTimeout: Duration, logger: Logger
    ) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownTimeout
        configuration.maximumCancellationDuration = .seconds(2)
        return ServiceGroup(configuration: configuration)
    }
}
