import ServiceLifecycle

/// A process's service group (a gateway's or a worker's) running in this test
/// process, started and stopped the way the executable does it.
struct RunningServiceGroup {
    /// The port the group's HTTP server bound (the tests bind port 0).
    let port: Int
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// Runs the group `makeGroup` builds, given the callback its server calls with the
    /// bound port, and returns once the server listens.
    static func start(
        _ makeGroup: (_ onServerRunning: @escaping @Sendable (Int) async -> Void) throws -> ServiceGroup
    ) async throws -> RunningServiceGroup {
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let group = try makeGroup { port in
            portContinuation.yield(port)
            portContinuation.finish()
        }
        let running = Task {
            // A group that ends before listening (a service failed) must not leave the
            // caller waiting for a port.
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError.didNotStart }
        return RunningServiceGroup(port: port, group: group, running: running)
    }

    /// Graceful shutdown, as on SIGTERM; waits until every service has stopped.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

enum HarnessError: Error {
    case didNotStart
}
