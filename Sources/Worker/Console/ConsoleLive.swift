import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Sends one NOTIFY on ``ConsoleLive/channel`` per applied batch that changed a
/// station's connection, boot or connector status, with the ids of the stations it
/// touched (or `*` when there are too many for one notice). The notice is delivered
/// when the batch commits; one per batch keeps the commit cost flat.
struct ConsoleNotifyHandler: InboxHandler {
    let actions: Set<String> = ["StatusNotification", "BootNotification", "connected", "disconnected"]

    /// More stations than this in one batch are announced as `*` (a notice holds
    /// at most 8000 bytes).
    static let maximumIDs = 500

    var sql: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: actionFilter)), ids AS (SELECT DISTINCT station_id FROM batch)
        SELECT pg_notify('\(ConsoleLive.channel)',
                         CASE WHEN count(*) > \(Self.maximumIDs) THEN '*'
                              ELSE string_agg(station_id::text, ',') END)
        FROM ids
        HAVING count(*) > 0
        """
    }

    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws {
        try await execute(sql, batch, on: connection, logger: logger)
    }
}

/// The console's live updates: pages subscribe (server-sent events) to the stations
/// they show; a notice from the worker that applied a change makes the hub read
/// those stations again and push them to the pages that show them.
actor ConsoleLiveHub {
    private struct Subscriber {
        var stations: Set<Int64>
        var continuation: AsyncStream<String>.Continuation
    }

    private var subscribers: [UUID: Subscriber] = [:]
    private var closed = false

    /// A stream of server-sent event texts for these stations; it ends when the hub closes.
    func subscribe(stations: Set<Int64>) -> (UUID, AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        if closed {
            continuation.finish()
        } else {
            subscribers[id] = Subscriber(stations: stations, continuation: continuation)
        }
        return (id, stream)
    }

    func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)?.continuation.finish()
    }

    /// The stations some page shows among `notified` (nil: all of them).
    func watched(among notified: Set<Int64>?) -> Set<Int64> {
        let all = subscribers.values.reduce(into: Set<Int64>()) { $0.formUnion($1.stations) }
        guard let notified else { return all }
        return all.intersection(notified)
    }

    /// Sends each page the events of the stations it shows.
    func publish(_ events: [Int64: String]) {
        for subscriber in subscribers.values {
            for station in subscriber.stations {
                if let event = events[station] { subscriber.continuation.yield(event) }
            }
        }
    }

    /// A comment line keeps a quiet connection open through proxies.
    func ping(_ id: UUID) {
        subscribers[id]?.continuation.yield(": keep-alive\n\n")
    }

    /// Ends every stream (the worker is stopping), so no response holds the shutdown up.
    func close() {
        closed = true
        for subscriber in subscribers.values { subscriber.continuation.finish() }
        subscribers.removeAll()
    }

    var subscriberCount: Int { subscribers.count }
}

/// LISTENs on ``channel`` and feeds the hub. After every (re)connect it refreshes
/// every watched station once: a notice sent while the connection was down is lost.
struct ConsoleLive: Service {
    static let channel = "ocpp_console"

    let client: PostgresClient
    let hub: ConsoleLiveHub
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await listenLoop() }
        await hub.close()
    }

    private func listenLoop() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.channel) { notifications in
                        backoff = .milliseconds(100)
                        await refresh(nil)
                        for try await notification in notifications {
                            await refresh(Self.stationIDs(notification.payload))
                        }
                    }
                }
            } catch {
                guard !Task.isCancelled else { return }
                logger.warning("listening on \(Self.channel) failed, retrying: \(String(reflecting: error))")
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// The station ids of a notice; nil for `*` (any station may have changed).
    static func stationIDs(_ payload: String) -> Set<Int64>? {
        guard payload != "*" else { return nil }
        return Set(payload.split(separator: ",").compactMap { Int64($0) })
    }

    private func refresh(_ notified: Set<Int64>?) async {
        let watched = await hub.watched(among: notified)
        guard !watched.isEmpty else { return }
        do {
            let events = try await Self.events(for: watched, client: client, logger: logger)
            await hub.publish(events)
        } catch {
            logger.warning("reading stations for the console failed: \(String(reflecting: error))")
        }
    }

    /// One `station` event per station: its state as the fleet and station pages show it.
    static func events(for stations: Set<Int64>, client: PostgresClient, logger: Logger) async throws -> [Int64: String]
    {
        let ids = Array(stations)
        let rows = try await client.query(
            """
            SELECT s.id, \(unescaped: ConsoleSQL.stationState)::text
            FROM ocpp.stations AS s WHERE s.id = ANY(\(ids))
            """, logger: logger)
        var events: [Int64: String] = [:]
        for try await (id, json) in rows.decode((Int64, String).self) {
            events[id] = "event: station\ndata: \(json)\n\n"
        }
        return events
    }
}
