import PostgresNIO
import ServiceLifecycle

/// A client's pool as a service of a ServiceGroup, already running when the group
/// starts the other services.
///
/// The group starts its services concurrently, so a service that leases a
/// connection at once (a LISTEN loop, a drain loop, the readiness probe) could do
/// so before the client's own `run()` had marked it running, and PostgresNIO then
/// logged a warning that `run()` had not been called, at start-up, for nothing: the
/// lease waits for the pool anyway. The pool starts when this is made
/// (``PostgresClient/startRunning(_:)``), so make it where the services are listed,
/// after anything that can fail. Graceful shutdown or cancellation stops it, in the
/// group's order, as the client's own `run()` would.
public struct PostgresClientService: Service {
    private let pool: Task<Void, Never>

    public init(_ client: PostgresClient) {
        pool = PostgresClient.startRunning(client)
    }

    public func run() async {
        let pool = pool
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await pool.value
            } onGracefulShutdown: {
                pool.cancel()
            }
        } onCancel: {
            pool.cancel()
        }
    }
}
