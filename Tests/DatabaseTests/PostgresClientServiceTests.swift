import Logging
import PostgresNIO
import ServiceLifecycle
import Shared
import Synchronization
import TestSupport
import Testing

/// A client's pool as a ServiceGroup's service (``PostgresClientService``).
/// A pool that is not running would leave the first lease waiting for good: the
/// time limit turns that into a failure.
@Suite(.timeLimit(.minutes(1))) struct PostgresClientServiceTests {
    /// Made, the service has marked the client running: a lease before the group has
    /// started anything draws no warning from PostgresNIO (with the client itself in
    /// the group, every lease before its `run()` began did), and graceful shutdown
    /// stops the pool.
    @Test func theClientRunsOnceTheServiceIsMadeAndStopsWithTheGroup() async throws {
        let messages = LoggedMessages()
        let logger = Logger(label: "client-service-test") { _ in RecordingLogHandler(messages: messages) }
        let client = PostgresClient(configuration: try TestDatabase.serverConfiguration, backgroundLogger: logger)
        let service = PostgresClientService(client)

        let rows = try await client.query("SELECT 1", logger: logger).collect()
        #expect(rows.count == 1)
        #expect(messages.all.filter { $0.contains("run()") } == [])

        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// What a logger was told, for a test to read.
private final class LoggedMessages: Sendable {
    private let messages = Mutex<[String]>([])
    var all: [String] { messages.withLock { $0 } }
    func append(_ message: String) { messages.withLock { $0.append(message) } }
}

private struct RecordingLogHandler: LogHandler {
    let messages: LoggedMessages
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.append(event.message.description)
    }
}
