import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import Shared

/// The operator API as services of the worker's group: its own small connection
/// pool (so operators' queries never take the worker's connections, and times come
/// back in UTC) and its own HTTP listener, apart from the health endpoint.
struct AdminServer {
    let settings: AdminSettings
    let database: PostgresClient.Configuration
    let logger: Logger
    var onServerRunning: @Sendable (Int) async -> Void = { _ in }

    /// The pool and the listener, in start order; none when no token is configured.
    func makeServices() -> [any Service] {
        guard let token = settings.token else {
            logger.notice("admin API off: OCPP_ADMIN_TOKEN is not set")
            return []
        }
        var configuration = database
        configuration.options.maximumConnections = settings.maximumConnections
        configuration.options.additionalStartupParameters.append(("TimeZone", "UTC"))
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let router = Router()
        // The bearer token guards /api/...; the web console at / checks its own session.
        router.add(middleware: ConsoleGateMiddleware(api: BearerTokenMiddleware(token: token)))
        router.add(middleware: UnexpectedErrorMiddleware())
        let routes = AdminRoutes.all(AdminEnvironment(client: client, logger: logger))
        router.add(middleware: MethodNotAllowedMiddleware(routes: routes))
        for route in routes {
            router.on(RouterPath(route.path), method: route.method, use: route.handler)
        }
        let hub = ConsoleLiveHub()
        do {
            try Console(client: client, token: token, logger: logger, hub: hub).register(on: router)
        } catch {
            logger.error("web console off: its templates could not be read: \(error)")
        }
        let onServerRunning = self.onServerRunning
        let listener = Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "ocpp-admin"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        logger.info("admin API on \(settings.host):\(settings.port)")
        // The console's LISTEN last: it stops first at shutdown and ends the live streams,
        // which the listener would otherwise wait for.
        return [PostgresClientService(client), listener, ConsoleLive(client: client, hub: hub, logger: logger)]
    }
}
