import Foundation
import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// Transactions: a filtered, keyset-paged list; a transaction's page with its energy
/// and power charts and meter values; CSV exports of transactions and of meter values.
extension Console {
    /// The newest samples a transaction's page lists (the charts use them all; the
    /// meter value export has every one).
    static let samplesShown = 100

    func registerTransactions(on router: Router<BasicRequestContext>) {
        router.get("/transactions", use: page(transactionList))
        router.get("/transactions.csv", use: page(transactionCSV))
        router.get("/meter-values.csv", use: page(meterValueCSV))
        router.get("/transactions/{id}", use: page(transactionPage))
    }

    struct TransactionFilter {
        var station: String?
        var status: String?
        var from: Date?
        var to: Date?

        init(_ form: ConsoleForm) {
            station = form["station"].map { String($0.prefix(StationIdentity.maximumLength)) }
            status = form["status"].flatMap { ["Active", "Completed"].contains($0) ? $0 : nil }
            from = ConsoleForm.time(form["from"])
            to = ConsoleForm.time(form["to"])
        }

        var query: [String] {
            var parts: [String] = []
            if let station { parts.append("station=\(Console.urlEncoded(station))") }
            if let status { parts.append("status=\(status)") }
            if let from { parts.append("from=\(Console.urlEncoded(RFC3339.format(from)))") }
            if let to { parts.append("to=\(Console.urlEncoded(RFC3339.format(to)))") }
            return parts
        }
    }

    /// Transactions matching the filter, newest first (by id), after `before`.
    func transactions(_ filter: TransactionFilter, before: Int32?, limit: Int) async throws -> [Any] {
        ConsoleValue.parseArray(
            try await json(
                """
                SELECT coalesce(json_agg(json_build_object(
                    'id', t.id, 'station', s.identity, 'connectorId', t.connector_id, 'idTag', t.id_tag,
                    'status', t.status, 'meterStart', t.meter_start, 'meterStop', t.meter_stop,
                    'energyWh', t.meter_stop - t.meter_start, 'stopReason', t.stop_reason,
                    'started', \(unescaped: ConsoleSQL.time("t.started_at")),
                    'stopped', \(unescaped: ConsoleSQL.time("t.stopped_at"))) ORDER BY t.id DESC), '[]')::text
                FROM (SELECT * FROM ocpp.transactions
                      WHERE (\(filter.station)::text IS NULL
                             OR station_id = (SELECT id FROM ocpp.stations WHERE identity = \(filter.station)))
                        AND (\(filter.status)::text IS NULL OR status = \(filter.status))
                        AND (\(filter.from)::timestamptz IS NULL OR started_at >= \(filter.from))
                        AND (\(filter.to)::timestamptz IS NULL OR started_at < \(filter.to))
                        AND (\(before)::integer IS NULL OR id < \(before))
                      ORDER BY id DESC LIMIT \(limit)) AS t
                JOIN ocpp.stations AS s ON s.id = t.station_id
                """))
    }

    @Sendable func transactionList(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        let filter = TransactionFilter(form)
        let before = form["before"].flatMap { Int32($0) }
        var items = try await transactions(filter, before: before, limit: Self.pageSize + 1)
        let more = items.count > Self.pageSize
        if more { items.removeLast() }
        var data: [String: Any] = [
            "transactions": items, "station": filter.station ?? "", "from": form["from"] ?? "", "to": form["to"] ?? "",
            "active": filter.status == "Active", "completed": filter.status == "Completed",
            "csv": "/transactions.csv" + (filter.query.isEmpty ? "" : "?" + filter.query.joined(separator: "&")),
        ]
        var meterQuery = filter.query.filter { !$0.hasPrefix("status=") }
        if filter.from == nil {
            meterQuery.append("from=\(Self.urlEncoded(RFC3339.format(Date().addingTimeInterval(-86_400))))")
        }
        data["meterCSV"] = "/meter-values.csv?" + meterQuery.joined(separator: "&")
        if more, let last = items.last as? [String: Any], let id = last["id"] {
            data["next"] = "/transactions?" + (filter.query + ["before=\(id)"]).joined(separator: "&")
        }
        return .html(pages.render("transactions", title: "Transactions", data: data, session: session))
    }

    @Sendable func transactionCSV(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        let items = try await transactions(TransactionFilter(form), before: nil, limit: 100_000)
        var text = ConsoleCSV.row([
            "transaction_id", "station", "connector_id", "id_tag", "status", "started_at", "stopped_at",
            "meter_start_wh",
            "meter_stop_wh", "energy_wh", "stop_reason",
        ])
        for case let item as [String: Any] in items {
            text += ConsoleCSV.row(
                [
                    "id", "station", "connectorId", "idTag", "status", "started", "stopped", "meterStart", "meterStop",
                    "energyWh",
                    "stopReason",
                ].map { item[$0].map { "\($0)" } })
        }
        return .download(text, contentType: "text/csv; charset=utf-8", filename: "transactions.csv")
    }

    /// Meter values of a time range (at most 31 days, at most 200,000 values), of one
    /// station or all.
    @Sendable func meterValueCSV(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        let filter = TransactionFilter(form)
        guard let from = filter.from else {
            throw AdminError.badRequest("A meter value export needs a start time (from).")
        }
        let to = filter.to ?? Date()
        guard to > from, to.timeIntervalSince(from) <= 31 * 86_400 else {
            throw AdminError.badRequest("A meter value export spans at most 31 days, from before to.")
        }
        let rows = try await client.boundedRows(
            """
            SELECT to_char(m.sampled_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), s.identity, m.connector_id, m.transaction_id,
                   m.measurand, m.phase, m.location, m.unit, m.context, coalesce(m.value::text, m.raw_value)
            FROM ocpp.meter_values AS m JOIN ocpp.stations AS s ON s.id = m.station_id
            WHERE m.sampled_at >= \(from) AND m.sampled_at < \(to)
              AND (\(filter.station)::text IS NULL
                   OR m.station_id = (SELECT id FROM ocpp.stations WHERE identity = \(filter.station)))
            ORDER BY m.sampled_at, s.identity, m.connector_id, m.measurand, m.phase
            LIMIT 200000
            """, logger: logger)
        var text = ConsoleCSV.row([
            "sampled_at", "station", "connector_id", "transaction_id", "measurand", "phase", "location", "unit",
            "context",
            "value",
        ])
        for row in rows {
            let (time, station, connector, transaction, measurand, phase, location, unit, context, value) =
                try row.decode((String, String, Int32, Int32?, String, String, String, String, String, String?).self)
            text += ConsoleCSV.row([
                time, station, "\(connector)", transaction.map { "\($0)" }, measurand, phase, location, unit, context,
                value,
            ])
        }
        return .download(text, contentType: "text/csv; charset=utf-8", filename: "meter-values.csv")
    }

    @Sendable func transactionPage(
        _ request: Request, _ form: ConsoleForm, _ session: ConsoleSessions.Session
    )
        async throws -> Response
    {
        guard let idText = request.uri.path.split(separator: "/").last, let id = Int32(idText) else {
            throw AdminError.notFound("There is no such transaction.")
        }
        guard
            var data = Optional(
                ConsoleValue.parse(
                    try await json(
                        """
                        SELECT json_build_object(
                            'id', t.id, 'station', s.identity, 'connectorId', t.connector_id, 'idTag', t.id_tag,
                            'status', t.status, 'meterStart', t.meter_start, 'meterStop', t.meter_stop,
                            'energyWh', t.meter_stop - t.meter_start, 'stopReason', t.stop_reason,
                            'stopIdTag', t.stop_id_tag, 'reservationId', t.reservation_id,
                            'started', \(unescaped: ConsoleSQL.time("t.started_at")),
                            'stopped', \(unescaped: ConsoleSQL.time("t.stopped_at")))::text
                        FROM ocpp.transactions AS t JOIN ocpp.stations AS s ON s.id = t.station_id
                        WHERE t.id = \(id)
                        """))), !data.isEmpty
        else { throw AdminError.notFound("There is no transaction \(id).") }
        // The transaction's samples: by its id, or on its connector while it ran.
        let rows = try await client.boundedRows(
            """
            SELECT m.sampled_at, to_char(m.sampled_at, 'YYYY-MM-DD HH24:MI:SS'), m.measurand, m.phase, m.unit,
                   m.context, m.value, coalesce(m.value::text, m.raw_value)
            FROM ocpp.transactions AS t
            JOIN ocpp.meter_values AS m ON m.station_id = t.station_id
             AND m.sampled_at >= coalesce(t.started_at, '-infinity') AND m.sampled_at <= coalesce(t.stopped_at, now())
             AND (m.transaction_id = t.id OR (m.transaction_id IS NULL AND m.connector_id = t.connector_id))
            WHERE t.id = \(id)
            ORDER BY m.sampled_at, m.measurand, m.phase
            LIMIT 20000
            """, logger: logger)
        var energy: [ConsoleChart.Point] = []
        var power: [ConsoleChart.Point] = []
        var samples: [[String: Any]] = []
        for row in rows {
            let (at, time, measurand, phase, unit, context, value, text) = try row.decode(
                (Date, String, String, String, String, String, Double?, String?).self)
            samples.append([
                "time": time, "measurand": measurand, "phase": phase, "unit": unit, "context": context,
                "value": text ?? "",
            ])
            guard let value, phase.isEmpty else { continue }
            switch (measurand, unit) {
            case ("Energy.Active.Import.Register", "Wh"): energy.append(.init(time: at, value: value))
            case ("Energy.Active.Import.Register", "kWh"): energy.append(.init(time: at, value: value * 1000))
            case ("Power.Active.Import", "W"): power.append(.init(time: at, value: value))
            case ("Power.Active.Import", "kW"): power.append(.init(time: at, value: value * 1000))
            default: break
            }
        }
        if power.isEmpty { power = ConsoleChart.power(fromEnergy: energy) }
        data["energyChart"] = ConsoleChart.svg(title: "Energy", unit: "Wh", points: energy)
        data["powerChart"] = ConsoleChart.svg(title: "Power", unit: "W", points: power)
        data["samples"] = Array(samples.suffix(Self.samplesShown).reversed())
        data["sampleCount"] = samples.count
        return .html(pages.render("transaction", title: "Transaction \(id)", data: data, session: session))
    }
}
