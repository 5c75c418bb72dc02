import Foundation
import OCPP
import PostgresNIO
import Shared

/// One `meter_values` row.
struct MeterValueRow: Sendable, Hashable {
    var sampledAt: PostgresTimestamp
    var stationID: Int64
    var connectorID: Int32
    var transactionID: Int32?
    var measurand: String
    var phase: String
    var location: String
    var unit: String
    var context: String
    var format: String
    /// A Raw value that reads as a plain decimal number; nil otherwise.
    var value: Double?
    /// Everything else, as sent; nil when `value` holds it.
    var rawValue: String?
    var receivedAt: PostgresTimestamp
}

/// The journaled messages that carry sampled values, read with the protocol core and
/// expanded into one ``MeterValueRow`` per sampled value: MeterValues, and the
/// `transactionData` of StopTransaction. Pure: no IO.
enum MeterValueExpansion {
    /// A journal row of one of ``actions``: its id, station, receive time, payload.
    struct JournalRow: Sendable {
        var id: Int64
        var stationID: Int64
        var receivedAt: PostgresTimestamp
        var action: String
        var payload: ByteBuffer
    }

    /// A journal row read.
    struct Message: Sendable {
        enum Kind: Sendable, Hashable {
            /// Values of a connector, and of a transaction (nil: none).
            case meterValues(connectorID: Int32, transactionID: Int32?)
            /// A stop's `transactionData`: the connector is its transaction's.
            case stop(transactionID: Int32)
        }

        var stationID: Int64
        var receivedAt: PostgresTimestamp
        var kind: Kind
        var readings: [MeterValue]
    }

    /// A transaction of a station, whose connector a stop's values take.
    struct TransactionKey: Sendable, Hashable {
        var stationID: Int64
        var transactionID: Int32
    }

    static let actions: Set<OCPPAction> = [.meterValues, .stopTransaction]

    /// The journal holds each request re-encoded by the gateway from what it read
    /// tolerantly (enumeration values outside their lists kept as sent): read it
    /// the same way.
    static let decodingOptions = DecodingOptions.tolerant

    /// Reads a journal row; nil for an action without sampled values.
    static func message(_ row: JournalRow) throws(UnreadableWorkRow) -> Message? {
        do {
            switch OCPPAction(rawValue: row.action) {
            case .meterValues:
                let request = try MeterValuesRequest(json: try parse(row.payload), options: decodingOptions)
                let transaction = request.transactionId.flatMap { $0 > 0 ? Int32(exactly: $0) : nil }
                return Message(
                    stationID: row.stationID, receivedAt: row.receivedAt,
                    kind: .meterValues(
                        connectorID: try int32(request.connectorId, "connectorId"), transactionID: transaction),
                    readings: request.meterValue)
            case .stopTransaction:
                let request = try StopTransactionRequest(json: try parse(row.payload), options: decodingOptions)
                return Message(
                    stationID: row.stationID, receivedAt: row.receivedAt,
                    kind: .stop(transactionID: try int32(request.transactionId, "transactionId")),
                    readings: request.transactionData ?? [])
            default:
                return nil
            }
        } catch let error as UnreadableWorkRow {
            throw UnreadableWorkRow(inboxID: row.id, action: row.action, reason: error.reason)
        } catch {
            throw UnreadableWorkRow(inboxID: row.id, action: row.action, reason: String(describing: error))
        }
    }

    /// The transactions whose connector the stops among `messages` need.
    static func stopTransactions(of messages: [Message]) -> Set<TransactionKey> {
        var keys = Set<TransactionKey>()
        for message in messages where !message.readings.isEmpty {
            if case .stop(let transaction) = message.kind {
                keys.insert(TransactionKey(stationID: message.stationID, transactionID: transaction))
            }
        }
        return keys
    }

    /// One row per sampled value, in message, reading and sample order.
    ///
    /// The spec's defaults are stored for omitted fields; a value outside its
    /// enumeration (kept as sent by tolerant reading) is stored as sent. A stop's
    /// values take the connector of its transaction in `connectors` (0 when unknown)
    /// and its `transactionId` as sent; a MeterValues `transactionId` of 0 or below
    /// is no transaction (see ``message(_:)``).
    static func rows(_ messages: [Message], connectors: [TransactionKey: Int32] = [:]) -> [MeterValueRow] {
        var rows: [MeterValueRow] = []
        rows.reserveCapacity(messages.reduce(0) { $0 + $1.readings.reduce(0) { $0 + $1.sampledValue.count } })
        for message in messages {
            let connector: Int32
            let transaction: Int32?
            switch message.kind {
            case .meterValues(let connectorID, let transactionID):
                connector = connectorID
                transaction = transactionID
            case .stop(let transactionID):
                connector =
                    connectors[TransactionKey(stationID: message.stationID, transactionID: transactionID)] ?? 0
                transaction = transactionID
            }
            for reading in message.readings {
                let sampledAt = PostgresTimestamp(reading.timestamp)
                for sample in reading.sampledValue {
                    let format = sample.format?.rawValue ?? sample.unrecognized["format"] ?? "Raw"
                    let number = format == "Raw" ? plainNumber(sample.value) : nil
                    rows.append(
                        MeterValueRow(
                            sampledAt: sampledAt, stationID: message.stationID, connectorID: connector,
                            transactionID: transaction,
                            measurand: sample.measurand?.rawValue ?? sample.unrecognized["measurand"]
                                ?? "Energy.Active.Import.Register",
                            phase: sample.phase?.rawValue ?? sample.unrecognized["phase"] ?? "",
                            location: sample.location?.rawValue ?? sample.unrecognized["location"] ?? "Outlet",
                            unit: sample.unit?.rawValue ?? sample.unrecognized["unit"] ?? "Wh",
                            context: sample.context?.rawValue ?? sample.unrecognized["context"] ?? "Sample.Periodic",
                            format: format, value: number, rawValue: number == nil ? sample.value : nil,
                            receivedAt: message.receivedAt))
                }
            }
        }
        return rows
    }

    /// The longest run of digits a plain number may have on either side of its point:
    /// with at most 30 digits each side and a two-digit exponent, no number overflows
    /// a double (at most about 1e129).
    static let maximumDigits = 30

    /// `text` as a double when it is a plain decimal number: optional ASCII white space
    /// around, an optional sign, digits with an optional point (or a point and digits),
    /// an optional exponent of one or two digits, and at most ``maximumDigits`` digits
    /// each side of the point. Anything else (`NaN`, `inf`, hexadecimal, a comma,
    /// three-digit exponents, ...) is nil and stays text.
    static func plainNumber(_ text: String) -> Double? {
        var utf8 = text.utf8[...]
        while let first = utf8.first, isSpace(first) { utf8 = utf8.dropFirst() }
        while let last = utf8.last, isSpace(last) { utf8 = utf8.dropLast() }
        let number = utf8
        var index = utf8.startIndex
        func digits() -> Int {
            var count = 0
            while index < utf8.endIndex, isDigit(utf8[index]) {
                count += 1
                index = utf8.index(after: index)
            }
            return count
        }
        if index < utf8.endIndex, utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-") {
            index = utf8.index(after: index)
        }
        let integerDigits = digits()
        var fractionDigits = 0
        if index < utf8.endIndex, utf8[index] == UInt8(ascii: ".") {
            index = utf8.index(after: index)
            fractionDigits = digits()
        }
        guard integerDigits + fractionDigits > 0, integerDigits <= maximumDigits, fractionDigits <= maximumDigits
        else { return nil }
        if index < utf8.endIndex, utf8[index] == UInt8(ascii: "e") || utf8[index] == UInt8(ascii: "E") {
            index = utf8.index(after: index)
            if index < utf8.endIndex, utf8[index] == UInt8(ascii: "+") || utf8[index] == UInt8(ascii: "-") {
                index = utf8.index(after: index)
            }
            guard (1...2).contains(digits()) else { return nil }
        }
        guard index == utf8.endIndex else { return nil }
        // Checked above to be a plain decimal number, which strtod reads whole.
        return Double(Substring(number))
    }

    /// White space as PostgreSQL's `\s` and its number input read it (ASCII).
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func parse(_ payload: ByteBuffer) throws -> JSONValue {
        try payload.withUnsafeReadableBytes { bytes in try JSONParser.parse(bytes) }
    }

    private static func int32(_ value: Int, _ field: String) throws(UnreadableWorkRow) -> Int32 {
        guard let value = Int32(exactly: value) else {
            throw UnreadableWorkRow(inboxID: 0, action: "", reason: "\(field) \(value) is out of range for an integer")
        }
        return value
    }
}

/// A work row whose payload, or whose action, the protocol core cannot read: it
/// would fail at every retry, so the applier sets it aside like a row the database
/// refuses. The gateway journals only what it read, so this means a journal written
/// by hand or by a different version.
struct UnreadableWorkRow: Error, CustomStringConvertible {
    var inboxID: Int64
    var action: String
    var reason: String
    /// The action itself is not one of OCPP 1.6 (`reason` is then unused).
    var unknownAction = false

    var description: String {
        if unknownAction {
            return "work row \(inboxID) names an action the protocol core does not know: \(action)"
        }
        return
            "the \(action) payload of work row \(inboxID) cannot be read (a value out of range, or malformed): \(reason)"
    }
}
