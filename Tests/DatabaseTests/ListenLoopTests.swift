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
            // The pool may still hold the terminated connection, released by the loop,
            // and a query on it is never answered: bounded, and tried again.
            try await notifyOnce(client, channel: channel, payload: "two")
            #expect(await received.next() == .notified("two"))

            listener.cancel()
            await listener.value
        }
    }
}

private func notifyOnce(_ client: PostgresClient, channel: String, payload: String) async throws {
    for attempt in 1...3 {
        do {
            return try await DatabaseAttempt.run(timeout: .seconds(3)) {
                _ = try await client.query("SELECT pg_notify(\(channel), \(payload))", logger: TestDatabase.logger)
            }
        } catch  where attempt < 3 {
            continue
        }
    }
}

private enum Event: Equatable, Sendable {
    case listening(backend: Int32)
    case notified(String)
}
