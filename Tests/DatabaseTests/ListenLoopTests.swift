import PostgresNIO
import Shared
import TestSupport
import Testing

/// The LISTEN loop the gateway and the worker share: it hears notices, and after
/// its connection is terminated it connects, listens and calls `listening` again.
@Suite("LISTEN loop", .timeLimit(.minutes(1)))
struct ListenLoopTests {
    @Test func itHearsNoticesAndListensAgainAfterItsConnectionIsTerminated() async throws {
        try await PostgresClient.withClient(
            configuration: try TestDatabase.serverConfiguration, logger: TestDatabase.logger
        ) { client in
            let logger = TestDatabase.logger
            let channel = "listen_loop_test_\(UInt32.random(in: 0...UInt32.max))"
            let (events, event) = AsyncStream<Event>.makeStream()
            let listener = Task {
                await client.listenUntilCancelled(
                    on: channel, logger: logger,
                    listening: { connection in
                        let rows = try await connection.query("SELECT pg_backend_pid()", logger: logger).collect()
                        event.yield(.listening(backend: try rows.first?.decode(Int32.self) ?? 0))
                    },
                    notified: { event.yield(.notified($0.payload)) })
            }
            var received = events.makeAsyncIterator()

            guard case .listening(let first) = await received.next() else {
                Issue.record("the loop did not start listening")
                return
            }
            try await client.query("SELECT pg_notify(\(channel), 'one')", logger: logger)
            #expect(await received.next() == .notified("one"))

            try await client.query("SELECT pg_terminate_backend(\(first))", logger: logger)
            guard case .listening(let second) = await received.next() else {
                Issue.record("the loop did not listen again")
                return
            }
            #expect(second != first)
            try await client.query("SELECT pg_notify(\(channel), 'two')", logger: logger)
            #expect(await received.next() == .notified("two"))

            listener.cancel()
            await listener.value
        }
    }
}

private enum Event: Equatable, Sendable {
    case listening(backend: Int32)
    case notified(String)
}
