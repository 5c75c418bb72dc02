import Foundation
import Logging
import OCPP
import PostgresNIO
import ServiceLifecycle
import Shared

/// Sends one NOTIFY on ``ConsoleLive/channel`` per applied batch that changed a
/// station's connection, boot or connector status, with the ids of the stations it
/// touched (or `*` when there are too many for one notice). The notice is delivered
/// when the batch commits; one per batch keeps the commit cost flat.
struct ConsoleNotifyHandler: InboxHandler {
    let actions: Set<OCPPAction> = [.statusNotification, .bootNotification]
    let events: Set<ConnectionEvent> = [.connected, .disconnected]

    /// More stations than this in one batch are announced as `*` (a notice holds
    /// at most 8000 bytes).
    static let maximumIDs = 500

    var sql: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: rowFilter)), ids AS (SELECT DISTINCT station_id FROM batch)
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
        /// A fleet page: it also follows the counts and stations it does not show.
        var fleet: Bool
        var continuation: AsyncStream<String>.Continuation
    }

    private var subscribers: [UUID: Subscriber] = [:]
    private var closed = false

    /// A stream of server-sent event texts for these stations; it ends when the hub closes.
    func subscribe(stations: Set<Int64>, fleet: Bool = false) -> (UUID, AsyncStream<String>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        if closed {
            continuation.finish()
        } else {
            subscribers[id] = Subscriber(stations: stations, fleet: fleet, continuation: continuation)
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

    /// Whether some fleet page is open (and so wants counts and other stations' changes).
    var hasFleet: Bool { subscribers.values.contains { $0.fleet } }

    /// Sends each page the events of the stations it shows.
    func publish(_ events: [Int64: String]) {
        for subscriber in subscribers.values {
            for station in subscriber.stations {
                if let event = events[station] { subscriber.continuation.yield(event) }
            }
        }
    }

    /// Sends each fleet page the `change` events of the changed stations it does
    /// not show (`changes` nil: too many changed to name, one `change` event with
    /// `{"all":true}`); its script tells whether they would be on the page.
    func publishChanges(_ changes: [Int64: String]?) {
        for subscriber in subscribers.values where subscriber.fleet {
            guard let changes else {
                subscriber.continuation.yield(ConsoleLive.allChangedEvent)
                continue
            }
            for (station, event) in changes where !subscriber.stations.contains(station) {
                subscriber.continuation.yield(event)
            }
        }
    }

    /// Sends every fleet page the counts (one `counts` event text, read once for all).
    func publishCounts(_ event: String) {
        for subscriber in subscribers.values where subscriber.fleet {
            subscriber.continuation.yield(event)
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

    /// The `change` event of a notice that names no stations (`*`).
    static let allChangedEvent = "event: change\ndata: {\"all\":true}\n\n"

    /// After a `counts` event, the counts are read again at most this much later:
    /// a burst of notices costs one count per interval, however many pages are open.
    static let countsInterval = Duration.milliseconds(250)

    func run() async throws {
        // Notices ask for counts here; a burst collapses into one request (newest 1).
        let (countRequests, requestCounts) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await listenLoop(requestCounts: requestCounts) }
                group.addTask { await countsLoop(countRequests) }
                await group.next()
                group.cancelAll()
            }
        }
        await hub.close()
    }

    /// Reads the counts once per request (requests that arrive meanwhile are one)
    /// and sends them to the fleet pages.
    private func countsLoop(_ requests: AsyncStream<Void>) async {
        for await _ in requests {
            guard !Task.isCancelled else { return }
            guard await hub.hasFleet else { continue }
            do {
                // Bounded (``PostgresClient/boundedRows(_:timeout:logger:)``): a count
                // that is never answered would stop the fleet pages' counts, and hold
                // up the shutdown, for good.
                let event = try await Self.countsEvent(client: client, logger: logger)
                await hub.publishCounts(event)
            } catch {
                logger.warning("counting stations for the console failed: \(String(reflecting: error))")
            }
            try? await Task.sleep(for: Self.countsInterval)
        }
    }

    /// The `counts` event: what the fleet page shows at its top.
    static func countsEvent(client: PostgresClient, logger: Logger) async throws -> String {
        var json = "{}"
        for row in try await client.boundedRows("\(unescaped: ConsoleSQL.fleetCounts)", logger: logger) {
            json = try row.decode(String.self)
        }
        return "event: counts\ndata: \(json)\n\n"
    }

    private func listenLoop(requestCounts: AsyncStream<Void>.Continuation) async {
        await client.listenUntilCancelled(
            on: Self.channel, logger: logger,
            listening: { _ in
                await refresh(nil, initial: true)
                requestCounts.yield()
            },
            notified: { notification in
                await refresh(Self.stationIDs(notification.payload), initial: false)
                requestCounts.yield()
            })
    }

    /// The station ids of a notice; nil for `*` (any station may have changed).
    static func stationIDs(_ payload: String) -> Set<Int64>? {
        guard payload != "*" else { return nil }
        return Set(payload.split(separator: ",").compactMap { Int64($0) })
    }

    /// Sends the watched stations among `notified` to their pages and, when a fleet
    /// page is open, the other notified stations as `change` events (one read for all).
    /// The refresh after a (re)connect (`initial`) sends no `change`: nothing is known
    /// to have changed.
    private func refresh(_ notified: Set<Int64>?, initial: Bool) async {
        let watched = await hub.watched(among: notified)
        let fleetOpen = await hub.hasFleet
        let fleet = !initial && fleetOpen
        var read = watched
        if fleet, let notified { read.formUnion(notified) }
        do {
            let events = read.isEmpty ? [:] : try await Self.events(for: read, client: client, logger: logger)
            if !watched.isEmpty { await hub.publish(events) }
            if fleet {
                await hub.publishChanges(
                    notified.map { _ in
                        Dictionary(uniqueKeysWithValues: events.map { ($0.key, Self.changeEvent($0.value)) })
                    })
            }
        } catch {
            logger.warning("reading stations for the console failed: \(String(reflecting: error))")
        }
    }

    /// A `station` event as a `change` event (a station that a fleet page does not show).
    static func changeEvent(_ stationEvent: String) -> String {
        "event: change" + stationEvent.dropFirst("event: station".count)
    }

    /// One `station` event per station: its state as the fleet and station pages show it.
    static func events(for stations: Set<Int64>, client: PostgresClient, logger: Logger) async throws -> [Int64: String]
    {
        let ids = Array(stations)
        let rows = try await client.boundedRows(
            """
            SELECT s.id, \(unescaped: ConsoleSQL.stationState)::text
            FROM ocpp.stations AS s WHERE s.id = ANY(\(ids))
            """, logger: logger)
        var events: [Int64: String] = [:]
        for row in rows {
            let (id, json) = try row.decode((Int64, String).self)
            events[id] = "event: station\ndata: \(json)\n\n"
        }
        return events
    }
}
