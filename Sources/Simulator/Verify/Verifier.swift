import Foundation
import Logging
import PostgresNIO

/// Checks that what a load run saw acknowledged is in the database: every
/// acknowledged StartTransaction is a transaction row with its id and content,
/// every acknowledged StopTransaction stopped it, every acknowledged sampled value
/// is a meter_values row, no start was stored twice and no CALL was journaled twice
/// under one unique id. Waits for the worker to
/// drain the inbox first (bounded).
struct Verifier {
    let client: PostgresClient
    let logger: Logger

    /// Waits until the inbox has no unprocessed row; false after `timeout`.
    func waitForDrainedInbox(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let rows = try await client.query(
                "SELECT count(*) FROM ocpp.inbox_pending", logger: logger
            ).collect()
            if try rows.first?.decode(Int.self) == 0 { return true }
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    func verify(_ journal: AckJournal) async throws -> VerificationReport {
        var report = VerificationReport(
            starts: journal.starts.count, stops: journal.stops.count, sampledValues: journal.sampleCount)
        let identities = Array(
            Set(journal.starts.map(\.identity) + journal.stops.map(\.identity) + journal.samples.keys.map(\.identity)))
        guard !identities.isEmpty else { return report }
        let transactions = try await storedTransactions(of: identities)

        for start in journal.starts {
            guard let row = transactions[start.transactionId] else {
                report.differences.append(
                    "transaction \(start.transactionId) of \(start.identity): acknowledged start not stored")
                continue
            }
            if row.identity != start.identity || row.connectorID != start.connectorId || row.idTag != start.idTag
                || row.meterStart != start.meterStart
            {
                report.differences.append(
                    "transaction \(start.transactionId): stored as \(row.identity) connector \(row.connectorID.map(String.init) ?? "-") "
                        + "tag \(row.idTag ?? "-") meterStart \(row.meterStart.map(String.init) ?? "-"), acknowledged as "
                        + "\(start.identity) connector \(start.connectorId) tag \(start.idTag) meterStart \(start.meterStart)"
                )
            }
        }
        for stop in journal.stops {
            guard let row = transactions[stop.transactionId], row.stopped else {
                report.differences.append(
                    "transaction \(stop.transactionId) of \(stop.identity): acknowledged stop not stored")
                continue
            }
            if row.meterStop != stop.meterStop {
                report.differences.append(
                    "transaction \(stop.transactionId): meterStop \(row.meterStop.map(String.init) ?? "-"), acknowledged \(stop.meterStop)"
                )
            }
        }
        for duplicate in try await duplicateStarts(of: identities, since: journal.startedAt) {
            report.differences.append("duplicate transactions for one start: \(duplicate)")
        }
        for duplicate in try await duplicateCalls(of: identities, since: journal.startedAt) {
            report.differences.append("CALL stored twice: \(duplicate)")
        }

        let stored = try await storedSampleCounts(of: identities, since: journal.startedAt)
        for (key, acknowledged) in journal.samples {
            let count = stored[key] ?? 0
            report.storedSampledValues += min(count, acknowledged)
            if count < acknowledged {
                report.differences.append(
                    "transaction \(key.transactionId) of \(key.identity): \(acknowledged - count) of \(acknowledged) acknowledged sampled values not stored"
                )
            } else if count > acknowledged {
                report.extraSampledValues += count - acknowledged
            }
        }
        // With every CALL answered, a row beyond the acknowledged ones is a duplicate.
        if journal.unanswered == 0 && report.extraSampledValues > 0 {
            report.differences.append(
                "\(report.extraSampledValues) sampled values stored beyond those acknowledged, and no CALL went unanswered"
            )
        }
        return report
    }

    private struct TransactionRow {
        var identity: String
        var connectorID: Int?
        var idTag: String?
        var meterStart: Int?
        var meterStop: Int?
        var stopped: Bool
    }

    private func storedTransactions(of identities: [String]) async throws -> [Int: TransactionRow] {
        let rows = try await client.query(
            """
            SELECT t.id, s.identity, t.connector_id, t.id_tag, t.meter_start, t.meter_stop, t.stopped_at IS NOT NULL
            FROM ocpp.transactions AS t JOIN ocpp.stations AS s ON s.id = t.station_id
            WHERE s.identity = ANY(\(identities))
            """, logger: logger)
        var transactions: [Int: TransactionRow] = [:]
        for try await (id, identity, connector, idTag, meterStart, meterStop, stopped) in rows.decode(
            (Int, String, Int?, String?, Int?, Int?, Bool).self)
        {
            transactions[id] = TransactionRow(
                identity: identity, connectorID: connector, idTag: idTag, meterStart: meterStart, meterStop: meterStop,
                stopped: stopped)
        }
        return transactions
    }

    /// Starts stored under more than one transaction id (invariant 3 of DESIGN.md).
    private func duplicateStarts(of identities: [String], since: Date) async throws -> [String] {
        let rows = try await client.query(
            """
            SELECT s.identity || ' connector ' || t.connector_id || ' at ' || t.started_at || ': ids '
                   || string_agg(t.id::text, ', ' ORDER BY t.id)
            FROM ocpp.transactions AS t JOIN ocpp.stations AS s ON s.id = t.station_id
            WHERE s.identity = ANY(\(identities)) AND t.started_at >= \(since) - interval '1 minute'
            GROUP BY s.identity, t.connector_id, t.id_tag, t.meter_start, t.started_at
            HAVING count(*) > 1
            """, logger: logger)
        var duplicates: [String] = []
        for try await description in rows.decode(String.self) { duplicates.append(description) }
        return duplicates
    }

    /// Transaction-related CALLs journaled twice under one unique id and payload
    /// (invariant 3 of DESIGN.md: a resent CALL gets the first answer and writes no
    /// second row). A resend under a new id is a new row by design, deduplicated by
    /// content downstream; the start and sample checks cover that.
    private func duplicateCalls(of identities: [String], since: Date) async throws -> [String] {
        let rows = try await client.query(
            """
            SELECT s.identity || ' ' || i.action || ' ' || i.message_id || ': ' || count(*) || ' rows'
            FROM ocpp.inbox AS i JOIN ocpp.stations AS s ON s.id = i.station_id
            WHERE s.identity = ANY(\(identities)) AND i.received_at >= \(since) - interval '1 minute'
              AND i.kind = 'call' AND i.action IN ('StartTransaction', 'MeterValues', 'StopTransaction')
            GROUP BY s.identity, i.action, i.message_id, i.payload_digest
            HAVING count(*) > 1
            """, logger: logger)
        var duplicates: [String] = []
        for try await description in rows.decode(String.self) { duplicates.append(description) }
        return duplicates
    }

    private func storedSampleCounts(
        of identities: [String], since: Date
    ) async throws -> [AckJournal.TransactionKey: Int] {
        let rows = try await client.query(
            """
            SELECT s.identity, m.transaction_id, count(*)
            FROM ocpp.meter_values AS m JOIN ocpp.stations AS s ON s.id = m.station_id
            WHERE s.identity = ANY(\(identities)) AND m.sampled_at >= \(since) - interval '1 minute'
              AND m.transaction_id IS NOT NULL
            GROUP BY s.identity, m.transaction_id
            """, logger: logger)
        var counts: [AckJournal.TransactionKey: Int] = [:]
        for try await (identity, transactionID, count) in rows.decode((String, Int, Int).self) {
            counts[.init(identity: identity, transactionId: transactionID)] = count
        }
        return counts
    }
}

/// What verification found.
struct VerificationReport: Sendable {
    var starts: Int
    var stops: Int
    var sampledValues: Int
    var storedSampledValues = 0
    var extraSampledValues = 0
    var differences: [String] = []

    var passed: Bool { differences.isEmpty }

    var text: String {
        var lines = [
            "verify: \(starts) acknowledged starts, \(stops) stops, \(sampledValues) sampled values; "
                + "\(storedSampledValues) of those sampled values stored, \(extraSampledValues) beyond them"
        ]
        if passed {
            lines.append("verify: PASS, everything acknowledged is stored, once")
        } else {
            lines.append("verify: FAIL, \(differences.count) difference(s):")
            lines += differences.prefix(50).map { "  - \($0)" }
            if differences.count > 50 { lines.append("  ... and \(differences.count - 50) more") }
        }
        return lines.joined(separator: "\n")
    }
}
