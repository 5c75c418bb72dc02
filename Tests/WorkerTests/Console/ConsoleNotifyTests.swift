import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// ``ConsoleNotifyHandler``: one NOTIFY per applied batch that changed a station's
/// status, boot or connection, naming the stations; none for other batches.
@Suite("Console: NOTIFY per batch", .serialized, .timeLimit(.minutes(2)))
struct ConsoleNotifyTests {
    actor Received {
        var payloads: [String] = []
        func add(_ payload: String) { payloads.append(payload) }
    }

    static func status(_ status: String, connector: Int) -> InboxFixture.Row {
        .call("StatusNotification", #"{"connectorId":\#(connector),"errorCode":"NoError","status":"\#(status)"}"#)
    }

    @Test func aBatchOfStatusesIsOneNoticeNamingItsStations() async throws {
        try await InboxFixture.withFixture { fixture in
            let first = try await fixture.station("CP-1")
            let second = try await fixture.station("CP-2")
            let received = Received()
            let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
            let listener = Task {
                try await fixture.client.withConnection { connection in
                    try await connection.listen(on: ConsoleLive.channel) { notifications in
                        readyContinuation.yield()
                        for try await notification in notifications { await received.add(notification.payload) }
                    }
                }
            }
            defer { listener.cancel() }
            for await _ in ready { break }

            try await fixture.insert(
                [Self.status("Available", connector: 1), Self.status("Charging", connector: 2)], station: first)
            try await fixture.insert([Self.status("Faulted", connector: 1)], station: second)
            try await fixture.drain()
            // A batch with nothing the pages show sends nothing.
            try await fixture.insert([.call("Heartbeat", "{}")], station: first)
            try await fixture.drain()
            try await fixture.insert(
                [.call("BootNotification", #"{"chargePointVendor":"V","chargePointModel":"M"}"#)], station: second)
            try await fixture.drain()
            // A connection opening or closing is a change too: those rows have a kind, no action.
            let session =
                #"{"sessionId":"\#(UUID().uuidString.lowercased())","gatewayId":"g","connectedAt":"2026-12-06T10:00:00Z"}"#
            try await fixture.insert(
                [InboxFixture.Row(kind: "connected", action: nil, messageID: nil, payload: session, response: nil)],
                station: first)
            try await fixture.drain()

            let deadline = ContinuousClock.now + .seconds(5)
            while await received.payloads.count < 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(await received.payloads == ["\(first),\(second)", "\(second)", "\(first)"])
        }
    }

    @Test func theLiveEventCarriesTheStationsState() async throws {
        try await InboxFixture.withFixture { fixture in
            let station = try await fixture.station("CP-LIVE")
            try await fixture.insert([Self.status("Faulted", connector: 1)], station: station)
            try await fixture.drain()
            let events = try await ConsoleLive.events(
                for: [station], client: fixture.client, logger: TestDatabase.logger)
            let event = try #require(events[station])
            #expect(event.hasPrefix("event: station\ndata: {") && event.hasSuffix("}\n\n"))
            let data = try JSONParser.parse(String(event.dropFirst("event: station\ndata: ".count).dropLast(2)))
            #expect(data["identity"] == .string("CP-LIVE"))
            #expect(data["online"] == .bool(false))
            #expect(data["connectors"]?[0]?["status"] == .string("Faulted"))
            #expect(data["connectors"]?[0]?["errorCode"] == .string("NoError"))
        }
    }

    @Test func theCountsEventCountsStationsAndConnectorStatuses() async throws {
        try await InboxFixture.withFixture { fixture in
            let first = try await fixture.station("CP-1")
            _ = try await fixture.station("CP-2")
            try await fixture.insert(
                [Self.status("Available", connector: 1), Self.status("Faulted", connector: 2)], station: first)
            try await fixture.drain()
            let event = try await ConsoleLive.countsEvent(client: fixture.client, logger: TestDatabase.logger)
            #expect(event.hasPrefix("event: counts\ndata: {") && event.hasSuffix("}\n\n"))
            let data = try JSONParser.parse(String(event.dropFirst("event: counts\ndata: ".count).dropLast(2)))
            #expect(data["total"] == .integer(2))
            #expect(data["online"] == .integer(0))
            #expect(data["offline"] == .integer(2))
            #expect(data["statuses"]?[0]?["status"] == .string("Available"))
            #expect(data["statuses"]?[0]?["count"] == .integer(1))
            #expect(data["statuses"]?[1]?["status"] == .string("Faulted"))
        }
    }

    /// The service end to end: an applied StatusNotification reaches a fleet page as
    /// the station's `change` (it is not on the page) and fresh counts.
    @Test func aFleetPageGetsFreshCountsAndTheChangeAfterABatch() async throws {
        try await InboxFixture.withFixture { fixture in
            let shown = try await fixture.station("CP-SHOWN")
            let other = try await fixture.station("CP-OTHER")
            let hub = ConsoleLiveHub()
            let (_, stream) = await hub.subscribe(stations: [shown], fleet: true)
            let service = ConsoleLive(client: fixture.client, hub: hub, logger: TestDatabase.logger)
            let running = Task { try await service.run() }
            defer { running.cancel() }
            var events = stream.makeAsyncIterator()
            // After LISTEN starts: the shown station and the counts once, and no change
            // (nothing is known to have changed).
            var initial: [String] = []
            while !(initial.last?.hasPrefix("event: counts\n") ?? false), let event = await events.next() {
                initial.append(event)
            }
            #expect(initial.count == 2 && initial[0].hasPrefix("event: station\n"))
            #expect(initial.last?.contains(#""total" : 2"#) == true)
            try await fixture.insert([Self.status("Faulted", connector: 1)], station: other)
            try await fixture.drain()
            var received: [String] = []
            while !(received.contains { $0.hasPrefix("event: counts") && $0.contains("Faulted") }),
                let event = await events.next()
            {
                received.append(event)
            }
            let change = try #require(received.first { $0.hasPrefix("event: change\n") })
            #expect(change.contains(#""identity" : "CP-OTHER""#))
            #expect(!received.contains { $0.hasPrefix("event: station\n") })
        }
    }
}
