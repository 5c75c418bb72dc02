import NIOCore
import NIOPosix
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// The drain loops' connections are spread over the event loops, so that their
/// work does not share one thread (``WorkerApplication/drainClients(count:configuration:logger:)``).
@Suite("Drain loops' clients", .timeLimit(.minutes(1)))
struct DrainClientsTests {
    private static let eventLoops = Array(NIOSingletons.posixEventLoopGroup.makeIterator())

    @Test func theDrainLoopsTakeEveryEventLoopInTurn() {
        let assigned = WorkerApplication.drainEventLoops(count: 2 * Self.eventLoops.count)
        #expect(assigned.map(ObjectIdentifier.init) == (Self.eventLoops + Self.eventLoops).map(ObjectIdentifier.init))
    }

    /// Six clients on the last event loop: were a client's connection not opened on
    /// its own event loop, PostgresNIO would take the group's loops in turn.
    @Test func aDrainLoopsConnectionIsOpenedOnItsEventLoop() async throws {
        let eventLoop = try #require(Self.eventLoops.last)
        let configuration = try TestDatabase.serverConfiguration
        let clients = (0..<6).map { _ in
            WorkerApplication.drainClient(on: eventLoop, configuration: configuration, logger: TestDatabase.logger)
        }
        let pools = clients.map(PostgresClient.startRunning)
        defer { for pool in pools { pool.cancel() } }
        var used: [ObjectIdentifier] = []
        for client in clients {
            used.append(try await client.withConnection { ObjectIdentifier($0.eventLoop) })
        }
        #expect(used == Array(repeating: ObjectIdentifier(eventLoop), count: clients.count))
    }
}
