import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

@testable import Worker

/// Invariant 5, as a property: a station's history applied in any order, in batches
/// of any size, with charger retries and batches applied twice, ends in the same
/// state as the history applied one row at a time in the order it happened.
///
/// Rows that carry meter values are the exception to retries and second
/// applications: the gateway's content receipt keeps a retried MeterValues or
/// StopTransaction out of the journal, and each journal row is applied once, so their
/// samples are plain inserts (a sample-level key would merge samples that differ).
///
/// One random history per run (the seed is in every failure message; set
/// `OCPP_ORDER_SEED` to replay it). The baseline station gets it in inbox id order;
/// every trial station gets it shuffled, sliced into random inserts and drains with
/// random batch sizes, with retries (same content, new message id, received later)
/// of the messages a charger may resend that way, and with already applied rows
/// marked unprocessed again. All stations share one database, so the trials also
/// prove that stations do not leak into each other.
@Suite("Order-free apply")
struct OrderFreeApplyTests {
    static let trials = 20

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["OCPP_ORDER_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
    }

    @Test func anyOrderAnyBatchingAnyReplayEndsInTheSameState() async throws {
        let seed = Self.seed
        var generator = SplitMix64(seed: seed)
        let history = StationHistory.generate(using: &generator)
        try await InboxFixture.withFixture { fixture in
            let baselineStation = try await fixture.station("S0")
            let baselineIDs = try await history.allocate(for: baselineStation, in: fixture)
            try await fixture.insert(history.rows(transactionIDs: baselineIDs).map(\.row), station: baselineStation)
            try await fixture.drain(batchSize: 1)
            let baseline = try await StationSnapshot.take(of: baselineStation, in: fixture)
            Self.expectComplete(baseline, of: history, seed: seed)

            for trial in 1...Self.trials {
                var random = SplitMix64(seed: seed &+ UInt64(trial))
                let station = try await fixture.station("S\(trial)")
                let ids = try await history.allocate(for: station, in: fixture)
                try await Self.applyScrambled(
                    history.rows(transactionIDs: ids), station: station, fixture: fixture, using: &random)
                let snapshot = try await StationSnapshot.take(of: station, in: fixture)
                // Issue.record rather than #expect: the snapshots are long, the difference is short.
                if snapshot != baseline {
                    Issue.record(
                        """
                        seed \(seed) trial \(trial) (replay with OCPP_ORDER_SEED=\(seed)):
                        \(snapshot.differences(from: baseline))
                        """)
                    break
                }
            }
        }
    }

    /// Inserts `rows` in a random order with retries mixed in, draining now and then
    /// with a random batch size, and sometimes applies drained rows a second time.
    static func applyScrambled(
        _ rows: [StationHistory.PlannedRow], station: Int64, fixture: InboxFixture, using random: inout SplitMix64
    ) async throws {
        var pending = rows.map { ($0.row, $0.producesSamples) }
        for planned in rows where planned.retriable && !planned.producesSamples && Bool.random(using: &random) {
            let delay = TimeInterval(Int.random(in: 1...30, using: &random))
            pending.append((planned.row.retried(after: delay), false))
        }
        pending.shuffle(using: &random)

        /// The rows that may be applied a second time: all but those with samples.
        var replayable: [Int64] = []
        while !pending.isEmpty {
            let slice = pending.prefix(Int.random(in: 1...12, using: &random))
            pending.removeFirst(slice.count)
            let ids = try await fixture.insert(slice.map(\.0), station: station)
            replayable += zip(ids, slice).filter { !$0.1.1 }.map(\.0)
            // Sometimes rows pile up over several inserts and meet in one batch.
            guard pending.isEmpty || Int.random(in: 0..<4, using: &random) > 0 else { continue }
            try await fixture.drain(batchSize: [1, 2, 3, 5, 8, 1000].randomElement(using: &random)!)
            if Int.random(in: 0..<4, using: &random) == 0 {
                let again = replayable.shuffled(using: &random).prefix(Int.random(in: 1...8, using: &random))
                try await fixture.reprocess(Array(again))
                try await fixture.drain(batchSize: [1, 4, 1000].randomElement(using: &random)!)
            }
        }
        try await fixture.drain()
    }

    /// The baseline must hold what the history made, or the comparison proves nothing.
    static func expectComplete(_ baseline: StationSnapshot, of history: StationHistory, seed: UInt64) {
        let context = Comment(rawValue: "seed \(seed): baseline \(baseline.tables.mapValues(\.count))")
        #expect(baseline.count("stations") == 1, context)
        #expect(baseline.count("transactions") == history.starts.count, context)
        #expect(baseline.tables["transactions"]?.allSatisfy { $0.contains("\"Completed\"") } == true, context)
        #expect(baseline.count("connectors") == history.connectors, context)
        #expect(baseline.count("status_events") == history.statusNotifications, context)
        #expect(baseline.count("meter_values") == history.sampledValues, context)
        #expect(baseline.count("station_events") == history.stationEvents, context)
    }
}

/// A plausible random life of one charge point, as the work rows a gateway writes:
/// sessions (connect, boot, disconnect), status notifications on each connector,
/// transactions with meter values and a stop, data transfers, heartbeats, and a stop
/// for a transaction this system never started. Every time is distinct, so that the
/// expected state is the one the real order gives.
struct StationHistory: Sendable {
    struct Start: Sendable {
        var connector: Int
        var idTag: String
        var startedAt: Date
        var meterStart: Int
    }

    /// A work row, given the transaction ids allocated for the station.
    struct Planned: Sendable {
        var retriable: Bool
        var producesSamples = false
        var make: @Sendable ([Int32]) -> InboxFixture.Row
    }

    struct PlannedRow: Sendable {
        var row: InboxFixture.Row
        /// A charger may resend it under a new message id with no second effect
        /// (invariant 3): transaction messages, meter values, and statuses that carry
        /// their own timestamp.
        var retriable: Bool
        /// MeterValues, or a StopTransaction with `transactionData`.
        var producesSamples: Bool
    }

    var starts: [Start] = []
    var planned: [Planned] = []
    var connectors = 0
    var statusNotifications = 0
    var sampledValues = 0
    var stationEvents = 0

    func allocate(for station: Int64, in fixture: InboxFixture) async throws -> [Int32] {
        var ids: [Int32] = []
        for start in starts {
            ids.append(
                try await fixture.allocateTransaction(
                    station: station, connector: start.connector, idTag: start.idTag, startedAt: start.startedAt,
                    meterStart: start.meterStart))
        }
        return ids
    }

    func rows(transactionIDs: [Int32]) -> [PlannedRow] {
        planned.map {
            PlannedRow(row: $0.make(transactionIDs), retriable: $0.retriable, producesSamples: $0.producesSamples)
        }
    }

    static func generate(using random: inout SplitMix64) -> StationHistory {
        var builder = Builder(random: random)
        builder.build()
        random = builder.random
        return builder.history
    }

    /// Writes the history in time order.
    private struct Builder {
        var random: SplitMix64
        var history = StationHistory()
        /// Milliseconds since ``TestTime/origin``.
        var clock = 0
        var meter = 0

        mutating func tick() -> Date {
            clock += Int.random(in: 1_000...90_000, using: &random)
            return TestTime.origin.addingTimeInterval(TimeInterval(clock) / 1000)
        }

        mutating func add(
            _ retriable: Bool = false, producesSamples: Bool = false,
            _ make: @escaping @Sendable ([Int32]) -> InboxFixture.Row
        ) {
            history.planned.append(Planned(retriable: retriable, producesSamples: producesSamples, make: make))
        }

        mutating func add(_ row: InboxFixture.Row, retriable: Bool = false) {
            add(retriable) { _ in row }
        }

        mutating func build() {
            history.connectors = Int.random(in: 2...3, using: &random)
            let sessions = Int.random(in: 2...3, using: &random)
            var transactionsLeft = Int.random(in: 2...3, using: &random)
            meter = Int.random(in: 0...100_000, using: &random)
            for session in 0..<sessions {
                let id = uuid()
                let connectedAt = tick()
                add(.presence("connected", session: id, connectedAt: connectedAt, receivedAt: connectedAt))
                boot(session)
                for connector in 1...history.connectors { status(connector, "Available") }
                periodicMeterValues()
                let transactions = session == sessions - 1 ? transactionsLeft : Int.random(in: 0...1, using: &random)
                for _ in 0..<min(transactions, transactionsLeft) { transaction() }
                transactionsLeft -= min(transactions, transactionsLeft)
                if Bool.random(using: &random) { dataTransfer() }
                let now = tick()
                add(
                    .call(
                        "Heartbeat", json: [:], response: ["currentTime": .string(RFC3339.format(now))], receivedAt: now
                    ), retriable: true)
                if session < sessions - 1 || Bool.random(using: &random) {
                    add(.presence("disconnected", session: id, connectedAt: connectedAt, receivedAt: tick()))
                }
            }
            dataTransfer()
            unknownStop()
        }

        mutating func uuid() -> UUID {
            var bits = (random.next(), random.next())
            return withUnsafeBytes(of: &bits) { UUID(uuid: $0.load(as: uuid_t.self)) }
        }

        mutating func boot(_ session: Int) {
            let at = tick()
            let status = ["Accepted", "Pending"].randomElement(using: &random)!
            add(
                .call(
                    "BootNotification",
                    json: [
                        "chargePointVendor": "Acme", "chargePointModel": "Fast-50",
                        "firmwareVersion": .string("fw-\(session)"), "meterType": .string("meter-\(session)"),
                    ],
                    response: ["status": .string(status), "currentTime": .string(RFC3339.format(at)), "interval": 300],
                    receivedAt: at))
        }

        /// Most statuses carry the station's timestamp; one without is timed by its
        /// receipt, so a retry would be a new status (not retriable).
        mutating func status(_ connector: Int, _ status: String) {
            let at = tick()
            let stamped = Int.random(in: 0..<5, using: &random) > 0
            var payload: [(key: String, value: JSONValue)] = [
                ("connectorId", .integer(Int64(connector))), ("status", .string(status)), ("errorCode", "NoError"),
            ]
            if stamped { payload.append(("timestamp", .string(RFC3339.format(at)))) }
            if Bool.random(using: &random) { payload.append(("info", .string("info \(clock)"))) }
            add(
                .call(
                    "StatusNotification", json: .object(JSONObject(payload)), stationTime: stamped ? at : nil,
                    receivedAt: at.addingTimeInterval(0.2)), retriable: stamped)
            history.statusNotifications += 1
        }

        /// Samples of one reading: the energy register (sometimes signed too), power,
        /// and a per-phase voltage.
        mutating func samples(context: String) -> [JSONValue] {
            meter += Int.random(in: 0...3_000, using: &random)
            var samples: [JSONValue] = [
                ["value": .string("\(meter)"), "context": .string(context)],
                [
                    "value": .string("\(Double(Int.random(in: 0...22_000, using: &random)) / 10)"),
                    "measurand": "Power.Active.Import", "unit": "W", "context": .string(context),
                ],
            ]
            if Bool.random(using: &random) {
                samples.append(
                    [
                        "value": .string("\(Int.random(in: 220...240, using: &random))"), "measurand": "Voltage",
                        "phase": "L1", "unit": "V", "context": .string(context),
                    ])
            }
            if Int.random(in: 0..<3, using: &random) == 0 {
                samples.append([
                    "value": .string("SIGNED:\(meter)"), "format": "SignedData", "context": .string(context),
                ])
            }
            history.sampledValues += samples.count
            return samples
        }

        mutating func meterValues(connector: Int, transaction: Int?) {
            var readings: [JSONValue] = []
            var newest = Date.distantPast
            for _ in 0..<Int.random(in: 1...2, using: &random) {
                let at = tick()
                newest = at
                readings.append([
                    "timestamp": .string(RFC3339.format(at)),
                    "sampledValue": .array(samples(context: "Sample.Periodic")),
                ])
            }
            let (readingsValue, stationTime) = (JSONValue.array(readings), newest)
            add(true, producesSamples: true) { ids in
                var payload: [(key: String, value: JSONValue)] = [("connectorId", .integer(Int64(connector)))]
                if let transaction { payload.append(("transactionId", .integer(Int64(ids[transaction])))) }
                payload.append(("meterValue", readingsValue))
                return .call(
                    "MeterValues", json: .object(JSONObject(payload)), stationTime: stationTime,
                    receivedAt: stationTime.addingTimeInterval(0.3))
            }
        }

        mutating func periodicMeterValues() {
            meterValues(connector: 0, transaction: nil)
        }

        mutating func transaction() {
            let index = history.starts.count
            let connector = Int.random(in: 1...history.connectors, using: &random)
            let idTag = "TAG-\(index)"
            status(connector, "Preparing")
            let startedAt = tick()
            let start = Start(connector: connector, idTag: idTag, startedAt: startedAt, meterStart: meter)
            history.starts.append(start)
            let reservation: JSONValue? = Bool.random(using: &random) ? .integer(Int64(100 + index)) : nil
            add(true) { ids in
                var payload: [(key: String, value: JSONValue)] = [
                    ("connectorId", .integer(Int64(connector))), ("idTag", .string(idTag)),
                    ("meterStart", .integer(Int64(start.meterStart))),
                    ("timestamp", .string(RFC3339.format(startedAt))),
                ]
                if let reservation { payload.append(("reservationId", reservation)) }
                return .call(
                    "StartTransaction", json: .object(JSONObject(payload)),
                    response: ["idTagInfo": ["status": "Accepted"], "transactionId": .integer(Int64(ids[index]))],
                    stationTime: startedAt, receivedAt: startedAt.addingTimeInterval(0.1))
            }
            status(connector, "Charging")
            for _ in 0..<Int.random(in: 1...3, using: &random) { meterValues(connector: connector, transaction: index) }
            if Bool.random(using: &random) { status(connector, "SuspendedEV") }
            stop(transaction: index)
            status(connector, "Finishing")
            status(connector, "Available")
        }

        /// `transaction` nil: an id this system never allocated.
        mutating func stop(transaction: Int?) {
            let stoppedAt = tick()
            let reason = [nil, "EVDisconnected", "Local", "Remote"].randomElement(using: &random)!
            let idTag: String? = Bool.random(using: &random) ? "TAG-STOP" : nil
            let data: JSONValue? =
                Bool.random(using: &random)
                ? [
                    [
                        "timestamp": .string(RFC3339.format(stoppedAt)),
                        "sampledValue": .array(samples(context: "Transaction.End")),
                    ]
                ]
                : nil
            let meterStop = meter
            add(transaction != nil, producesSamples: data != nil) { ids in
                let id = transaction.map { Int64(ids[$0]) } ?? 2_000_000_000
                var payload: [(key: String, value: JSONValue)] = [
                    ("transactionId", .integer(id)), ("meterStop", .integer(Int64(meterStop))),
                    ("timestamp", .string(RFC3339.format(stoppedAt))),
                ]
                if let reason { payload.append(("reason", .string(reason))) }
                if let idTag { payload.append(("idTag", .string(idTag))) }
                if let data { payload.append(("transactionData", data)) }
                return .call(
                    "StopTransaction", json: .object(JSONObject(payload)), response: [:], stationTime: stoppedAt,
                    receivedAt: stoppedAt.addingTimeInterval(0.1))
            }
        }

        /// Kept as an event per work row, so a charger's retry would be a second event:
        /// resent only as the same row applied twice.
        mutating func unknownStop() {
            stop(transaction: nil)
            history.stationEvents += 1
        }

        mutating func dataTransfer() {
            let at = tick()
            add(
                .call(
                    "DataTransfer", json: ["vendorId": "com.acme", "messageId": "tick", "data": .string("\(clock)")],
                    response: ["status": "Accepted"], receivedAt: at))
            history.stationEvents += 1
        }
    }
}
