import Foundation
import OCPP
import Shared

/// What a load run saw acknowledged, for ``Verifier`` to find in the database:
/// every StartTransaction with the transaction id it was given, every
/// StopTransaction, and how many sampled values of each transaction were acked.
///
/// Written as JSON lines: `{"start": ...}`, `{"stop": ...}`, `{"samples": ...}`,
/// one object per line, after a first `{"run": ...}` line with the run's start time.
struct AckJournal: Sendable {
    struct Start: Sendable, Hashable {
        var identity: String
        var connectorId: Int
        var transactionId: Int
        var idTag: String
        var meterStart: Int
        var timestamp: Date
    }

    struct Stop: Sendable, Hashable {
        var identity: String
        var transactionId: Int
        var meterStop: Int
    }

    struct TransactionKey: Sendable, Hashable {
        var identity: String
        var transactionId: Int
    }

    var startedAt = Date()
    /// CALLs of the run that got no answer (lost with a connection, timed out): the
    /// central system may have stored them, so more rows than acks is no error then.
    var unanswered = 0
    var starts: [Start] = []
    var stops: [Stop] = []
    /// Acknowledged sampled values per transaction.
    var samples: [TransactionKey: Int] = [:]

    var sampleCount: Int { samples.values.reduce(0, +) }

    mutating func add(_ other: AckJournal) {
        startedAt = min(startedAt, other.startedAt)
        unanswered += other.unanswered
        starts += other.starts
        stops += other.stops
        samples.merge(other.samples, uniquingKeysWith: +)
    }
}

extension AckJournal {
    func write(to url: URL) throws {
        var text = ""
        func line(_ fields: [(String, JSONValue)]) {
            var writer = JSONWriter()
            writer.value(.object(JSONObject(fields.map { (key: $0.0, value: $0.1) })))
            text += writer.string + "\n"
        }
        line([
            (
                "run",
                .object(
                    JSONObject([
                        (key: "startedAt", value: .string(RFC3339.format(startedAt))),
                        (key: "unanswered", value: .integer(Int64(unanswered))),
                    ]))
            )
        ])
        for start in starts {
            line([
                ("start", .string(start.identity)), ("connectorId", .integer(Int64(start.connectorId))),
                ("transactionId", .integer(Int64(start.transactionId))), ("idTag", .string(start.idTag)),
                ("meterStart", .integer(Int64(start.meterStart))),
                ("timestamp", .string(RFC3339.format(start.timestamp))),
            ])
        }
        for stop in stops {
            line([
                ("stop", .string(stop.identity)), ("transactionId", .integer(Int64(stop.transactionId))),
                ("meterStop", .integer(Int64(stop.meterStop))),
            ])
        }
        for (key, count) in samples.sorted(by: {
            ($0.key.identity, $0.key.transactionId) < ($1.key.identity, $1.key.transactionId)
        }) {
            line([
                ("samples", .string(key.identity)), ("transactionId", .integer(Int64(key.transactionId))),
                ("count", .integer(Int64(count))),
            ])
        }
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    static func read(from url: URL) throws -> AckJournal {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SimulatorError("cannot read the journal \(url.path): \(error.localizedDescription)")
        }
        var journal = AckJournal()
        for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            func fail(_ reason: String) -> SimulatorError {
                SimulatorError("journal \(url.path), line \(number + 1): \(reason)")
            }
            guard case .object(let object) = try? JSONParser.parse(line) else { throw fail("not a JSON object") }
            func string(_ key: String) throws -> String {
                guard case .string(let value) = object[key] else { throw fail("no text '\(key)'") }
                return value
            }
            func integer(_ key: String) throws -> Int {
                guard case .integer(let value) = object[key] else { throw fail("no number '\(key)'") }
                return Int(value)
            }
            func date(_ text: String) throws -> Date {
                guard let date = RFC3339.parse(text) else { throw fail("bad time '\(text)'") }
                return date
            }
            if case .object(let run) = object["run"], case .string(let started) = run["startedAt"] {
                journal.startedAt = try date(started)
                if case .integer(let unanswered) = run["unanswered"] { journal.unanswered = Int(unanswered) }
            } else if object["start"] != nil {
                journal.starts.append(
                    Start(
                        identity: try string("start"), connectorId: try integer("connectorId"),
                        transactionId: try integer("transactionId"), idTag: try string("idTag"),
                        meterStart: try integer("meterStart"), timestamp: try date(try string("timestamp"))))
            } else if object["stop"] != nil {
                journal.stops.append(
                    Stop(
                        identity: try string("stop"), transactionId: try integer("transactionId"),
                        meterStop: try integer("meterStop")))
            } else if object["samples"] != nil {
                let key = TransactionKey(identity: try string("samples"), transactionId: try integer("transactionId"))
                journal.samples[key, default: 0] += try integer("count")
            } else {
                throw fail("unknown record")
            }
        }
        return journal
    }
}
