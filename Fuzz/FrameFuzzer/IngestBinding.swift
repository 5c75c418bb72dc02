// The frame target's second half: what the gateway does with a CALL it has decoded,
// up to the binding of the ingest statement's parameters.
//
// `StationConnection.handle(_:receivedAt:)` takes a decoded request through
//
//   CallHandler.prepare(request, station:, receivedAt:)   (the answer encoded once, station time)
//     -> WorkItem.call(StationCallRow(request:stationID:receivedAt:messageID:prepared:))
//     -> refused here when the payload holds U+0000 (PostgreSQL text cannot)
//     -> IngestBatchStatement(items:gatewayID:).makeBindings()   (in the ingest writer's batch)
//
// Those Gateway files are compiled into this module (Fuzz/run lists them); only the two
// database reads of CallHandler are replaced, by the in-memory `FuzzAuthorizer` and
// `FuzzRegistrations` below, as the gateway's tests do. The bindings are then read
// back byte by byte: every parameter is the type the statement's SQL casts it to, and
// every array is a well-formed binary array (`array_recv`) with one element per item.

import Dispatch
import Foundation
import NIOCore
import OCPP
import PostgresNIO
import Synchronization

@testable import Shared

enum IngestFuzz {
    /// The gateway's clock when the frame arrived: fixed, so that runs reproduce.
    static let receivedAt = Date(timeIntervalSince1970: 1_764_000_000.123)
    static let gatewayID = "fuzz-gateway"

    static let handler = CallHandler(
        heartbeatInterval: 300, bootRetryInterval: 60, authorizer: FuzzAuthorizer(),
        registrations: FuzzRegistrations())

    /// Takes a request the decoder accepted (`call` is its frame) the rest of the
    /// gateway's way, up to the bound batch statement.
    static func run(_ request: StationRequest, call: Call) {
        let action = request.action
        // Varies with the frame, so that every registration status and id tag answer
        // is reached.
        let station = StationContext(
            stationID: Int64(call.messageID.utf8.count), identity: "FUZZ-\(call.messageID.utf8.count)")

        // 1. CallHandler.prepare. With in-memory reads nothing can fail but the
        //    handler's own checks, which are the decoder's failures: a request it
        //    refuses (a value out of the range the decoder promises) would be answered
        //    InternalError, and the station would retry it forever.
        let prepared: PreparedCall
        switch prepare(request, station: station) {
        case .success(let value):
            prepared = value
        case .failure(let error):
            fail("CallHandler.prepare refused a decoded \(action.rawValue): \(String(reflecting: error))")
        }
        check(
            prepared.stationTime == FrameFuzz.stationTime(of: request.request),
            "CallHandler took another station time than the message's")
        check(
            (prepared.response.transactionStart != nil) == (action == .startTransaction),
            "a transaction start key for \(action.rawValue)")
        if let start = prepared.response.transactionStart, case .startTransaction(let request) = request {
            check(
                Int(start.connectorID) == request.connectorId && start.idTag == request.idTag
                    && start.startedAt == request.timestamp && start.meterStart == request.meterStart,
                "the transaction start key differs from the request")
        }

        // The answer is encoded once and sent as is: it must be the JSON object the
        // typed response encodes to (StartTransaction's with any transaction id).
        guard let answer = prepared.response.payload(transactionID: 2_147_483_647),
            let answerJSON = try? JSONParser.parse(answer), case .object = answerJSON,
            (try? action.decodeResponse(answerJSON, options: .strict)) != nil
        else { fail("the encoded answer to \(action.rawValue) is not a valid CALLRESULT payload") }

        // 2. The work item, as the connection makes it.
        let row = StationCallRow(
            request: request, stationID: station.stationID, receivedAt: receivedAt, messageID: call.messageID,
            prepared: prepared)
        let item = WorkItem.call(row)
        check(row.action == action, "the work item is not this CALL")
        check(row.messageID == call.messageID, "the work item has another message id")
        let payloadJSON = row.payloadJSON
        guard let payload = try? JSONParser.parse(payloadJSON) else {
            fail("the work item's payload is not JSON (the statement casts it to json)")
        }
        check(payloadJSON == request.jsonBytes, "the work item's payload is not the request as written")
        check(
            item.payloadHoldsNUL == holdsNUL(payload),
            "WorkItem.payloadHoldsNUL is \(item.payloadHoldsNUL) for a payload that does\(holdsNUL(payload) ? "" : " not") hold U+0000"
        )
        if action.isTransactionRelated {
            check(row.payloadDigest?.count == 32, "a transaction-related CALL without its SHA-256 digest")
        } else {
            check(row.payloadDigest == nil, "a digest for \(action.rawValue), which is journaled afresh")
        }

        // The gateway refuses such an item before it is written; it is bound anyway
        // (binding must not trap either), but not held to what PostgreSQL accepts.
        let isWritten = !item.payloadHoldsNUL

        // 3. The batch statement's bindings: the item alone, and in a batch with a
        //    connect event (no action, payload, response...: NULLs in every nullable
        //    column) and a copy of itself.
        let connected = WorkItem.connected(SessionEvent(stationID: station.stationID, receivedAt: receivedAt))
        for batch in [[item], [connected, item, item]] {
            let statement = IngestBatchStatement(items: batch, gatewayID: gatewayID)
            let bindings: PostgresBindings
            do {
                bindings = try statement.makeBindings()
            } catch {
                fail("makeBindings threw for a decoded \(action.rawValue): \(error)")
            }
            BindingsCheck.verify(bindings, items: batch, gatewayID: gatewayID, isWritten: isWritten)
        }
    }

    /// Runs the async `CallHandler.prepare` to its end. The in-memory reads never
    /// suspend for long, and a BootNotification has no storm budget here (no sleep).
    static func prepare(_ request: StationRequest, station: StationContext) -> Result<PreparedCall, any Error> {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<PreparedCall, any Error>
            do {
                result = .success(try await handler.prepare(request, station: station, receivedAt: receivedAt))
            } catch {
                result = .failure(error)
            }
            outcome.value.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        guard let result = outcome.value.withLock({ $0 }) else { fail("CallHandler.prepare did not finish") }
        return result
    }

    final class Outcome: Sendable {
        let value = Mutex<Result<PreparedCall, any Error>?>(nil)
    }

    /// Whether any string (value or key) of `value` holds U+0000.
    static func holdsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text):
            text.unicodeScalars.contains("\u{0}")
        case .array(let elements):
            elements.contains { holdsNUL($0) }
        case .object(let object):
            object.members.contains { $0.key.unicodeScalars.contains("\u{0}") || holdsNUL($0.value) }
        default:
            false
        }
    }
}

/// `IdTagAuthorizing` in memory: the answer depends on the tag only, so that every
/// status, and both optional members present or not, are reached.
///
/// Only answers the production authorizer can give: its `parentIdTag` is the stored
/// `ocpp.id_tags.parent_id_tag`, which the schema holds to 20 characters
/// (`CHECK (length(parent_id_tag) <= 20)`, sql/0001_schema.sql). The tag received is
/// not bounded so: tolerant decoding (OCPP_LENIENT) keeps an idTag of up to
/// `DecodingOptions.tolerantStringCap` characters, and echoing such a tag whole made an
/// Authorize answer no gateway sends (found as a "UTF-8" crash: an idTag of 20
/// ill-formed bytes, repaired to 20 U+FFFD, plus 3 others; 21 ASCII characters do the same).
struct FuzzAuthorizer: IdTagAuthorizing {
    func authorize(
        _ idTag: String, station: StationContext, purpose: AuthorizationPurpose
    ) async throws -> IdTagInfo {
        let statuses = AuthorizationStatus.allCases
        let length = idTag.utf8.count
        let parent = String(String.UnicodeScalarView(idTag.unicodeScalars.prefix(20)))
        return IdTagInfo(
            status: statuses[length % statuses.count],
            expiryDate: length % 2 == 0 ? Date(timeIntervalSince1970: 1_800_000_000) : nil,
            parentIdTag: length % 3 == 0 ? parent : nil)
    }
}

/// `RegistrationLookup` in memory: the status depends on the station id.
struct FuzzRegistrations: RegistrationLookup {
    func registrationStatus(of stationID: Int64) async throws -> RegistrationStatus {
        let statuses = RegistrationStatus.allCases
        return statuses[Int(stationID.magnitude % UInt64(statuses.count))]
    }
}

// MARK: Reading the bindings back

/// The bytes PostgresNIO sends for the statement's parameters: per parameter a
/// 32-bit length (-1: NULL) and the value in the binary format of its type.
enum BindingsCheck {
    /// A parameter's type as the SQL casts it: `$n::name` or `$n::name[]`.
    struct ParameterType {
        var element: PostgresDataType
        var array: PostgresDataType?
    }

    /// Read from `IngestBatchStatement.sql`, so that the check follows the statement.
    static let parameterTypes: [ParameterType] = {
        let pattern = try! Regex(#"\$([0-9]+)::([a-z]+)(\[\])?"#)
        var types: [Int: ParameterType] = [:]
        for match in IngestBatchStatement.sql.matches(of: pattern) {
            guard let number = Int(match.output[1].substring ?? ""), let name = match.output[2].substring else {
                continue
            }
            let isArray = match.output[3].substring != nil
            let type: ParameterType
            switch name {
            case "bigint": type = ParameterType(element: .int8, array: isArray ? .int8Array : nil)
            case "integer": type = ParameterType(element: .int4, array: isArray ? .int4Array : nil)
            case "text": type = ParameterType(element: .text, array: isArray ? .textArray : nil)
            case "bytea": type = ParameterType(element: .bytea, array: isArray ? .byteaArray : nil)
            case "timestamptz": type = ParameterType(element: .timestamptz, array: isArray ? .timestamptzArray : nil)
            default: fail("IngestBatchStatement.sql casts $\(number) to \(name), which the harness does not know")
            }
            if let known = types[number] {
                check(known.element == type.element && known.array == type.array, "$\(number) is cast twice")
            }
            types[number] = type
        }
        check(types.keys.sorted() == Array(1...types.count), "the statement's parameters are not $1...$n")
        return (1...types.count).map { types[$0]! }
    }()

    /// PostgreSQL's timestamptz range (MIN_TIMESTAMP ..< END_TIMESTAMP), in
    /// microseconds since 2000-01-01: `timestamptz_recv` refuses anything else.
    static let timestampRange: Range<Int64> = -211_813_488_000_000_000..<9_223_371_331_200_000_000

    /// The column of each item field (1-based parameter numbers, as in the SQL).
    enum Column {
        static let stationID = 1, kind = 2, action = 3, messageID = 4, digest = 5, payload = 6, response = 7
        static let responseTail = 8, stationTime = 9, receivedAt = 10, connectorID = 11, idTag = 12
        static let startedAt = 13, meterStart = 14, gatewayID = 15
    }

    static func verify(_ bindings: PostgresBindings, items: [WorkItem], gatewayID: String, isWritten: Bool) {
        let types = parameterTypes
        check(bindings.count == types.count, "\(bindings.count) bindings for \(types.count) parameters")

        // PostgresBindings keeps its bytes and per-parameter metadata internal; read them
        // by reflection (fails loudly if PostgresNIO renames them).
        let mirror = Mirror(reflecting: bindings)
        guard var bytes = mirror.descendant("bytes") as? ByteBuffer else { fail("PostgresBindings has no bytes") }
        guard let metadata = mirror.descendant("metadata") as? [Any], metadata.count == types.count else {
            fail("PostgresBindings' metadata is not one entry per parameter")
        }

        var columns: [[ByteBuffer?]] = []
        for (index, type) in types.enumerated() {
            let number = index + 1
            let entry = Mirror(reflecting: metadata[index])
            guard let dataType = entry.descendant("dataType") as? PostgresDataType,
                let format = entry.descendant("format") as? PostgresFormat
            else { fail("PostgresBindings' metadata has no dataType/format") }
            check(
                dataType == (type.array ?? type.element),
                "$\(number) is bound as \(dataType), the SQL casts it to \(type.array ?? type.element)")
            check(format == .binary || type.array == nil, "$\(number), an array, is not in the binary format")

            guard let length = bytes.readInteger(as: Int32.self) else { fail("$\(number): no length") }
            check(length >= 0, "$\(number) is NULL")
            guard var value = bytes.readSlice(length: Int(length)) else {
                fail("$\(number): \(length) bytes announced, \(bytes.readableBytes) left")
            }
            if type.array != nil {
                columns.append(readArray(&value, number: number, element: type.element, count: items.count))
            } else {
                columns.append([value])
                value.moveReaderIndex(forwardBy: value.readableBytes)
            }
            check(value.readableBytes == 0, "$\(number): \(value.readableBytes) bytes after the value")
        }
        check(bytes.readableBytes == 0, "\(bytes.readableBytes) bytes after the last parameter")

        // Every element in the binary format of its type, and PostgreSQL's limits.
        for (index, type) in types.enumerated() {
            for element in columns[index] {
                guard let element else { continue }
                checkElement(element, type: type.element, number: index + 1, isWritten: isWritten)
            }
        }

        // The values are the items'.
        check(columns[Column.gatewayID - 1] == [ByteBuffer(string: gatewayID)], "the gateway id is not bound as is")
        for (row, item) in items.enumerated() {
            func value(_ column: Int) -> ByteBuffer? { columns[column - 1][row] }
            check(integer(value(Column.stationID), as: Int64.self) == item.stationID, "station id")
            check(value(Column.kind) == ByteBuffer(string: item.kind), "kind")
            let call: StationCallRow?
            let eventDetails: String?
            switch item {
            case .call(let row): (call, eventDetails) = (row, nil)
            case .connected(let event), .disconnected(let event): (call, eventDetails) = (nil, event.detailsJSON)
            }
            check(value(Column.action) == call.map { ByteBuffer(string: $0.action.rawValue) }, "action")
            check(value(Column.messageID) == call.map { ByteBuffer(string: $0.messageID) }, "message id")
            check(value(Column.digest) == call?.payloadDigest.map { ByteBuffer(bytes: $0) }, "payload digest")
            check(
                value(Column.payload)
                    == (call.map { ByteBuffer(bytes: $0.payloadJSON) } ?? eventDetails.map { ByteBuffer(string: $0) }),
                "payload")
            // The answer is bound as the bytes encoded once (StartTransaction's as the
            // text around its id): the statement joins them, nothing re-encodes them.
            switch call?.response {
            case .complete(let bytes)?:
                check(value(Column.response) == ByteBuffer(bytes: bytes), "the bound response is not the encoded one")
                check(value(Column.responseTail) == nil, "a response tail for a complete answer")
            case .transactionStart(_, let head, let tail)?:
                check(
                    value(Column.response) == ByteBuffer(bytes: head), "the bound response head is not the encoded one")
                check(
                    value(Column.responseTail) == ByteBuffer(bytes: tail),
                    "the bound response tail is not the encoded one")
            case nil:
                check(value(Column.response) == nil && value(Column.responseTail) == nil, "a response for an event")
            }
            check(
                microseconds(value(Column.stationTime)) == call?.stationTime.map(roundedMicroseconds),
                "station time is not the item's, to the microsecond")
            check(
                microseconds(value(Column.receivedAt)) == roundedMicroseconds(item.receivedAt),
                "receive time is not the item's, to the microsecond")
            let start = call?.response.transactionStart
            check(
                integer(value(Column.connectorID), as: Int32.self) == start?.connectorID,
                "start connector id")
            check(value(Column.idTag) == start.map { ByteBuffer(string: $0.idTag) }, "start id tag")
            check(
                microseconds(value(Column.startedAt)) == start.map { roundedMicroseconds($0.startedAt) },
                "start time is not the item's, to the microsecond")
            check(
                integer(value(Column.meterStart), as: Int64.self) == start.map { Int64($0.meterStart) },
                "start meter value")
        }
    }

    /// A one-dimensional binary array (`array_recv`): dimensions, has-NULLs flag,
    /// element type, then length and lower bound, then each element as its length
    /// (-1: NULL) and its bytes.
    static func readArray(
        _ buffer: inout ByteBuffer, number: Int, element: PostgresDataType, count: Int
    )
        -> [ByteBuffer?]
    {
        guard let dimensions = buffer.readInteger(as: Int32.self),
            let hasNulls = buffer.readInteger(as: Int32.self),
            let elementType = buffer.readInteger(as: UInt32.self)
        else { fail("$\(number): truncated array header") }
        check(elementType == element.rawValue, "$\(number): array of type \(elementType), not \(element)")
        check(hasNulls == 0 || hasNulls == 1, "$\(number): has-NULLs flag \(hasNulls)")
        guard count > 0 else {
            check(dimensions == 0, "$\(number): an empty array with \(dimensions) dimensions")
            return []
        }
        check(dimensions == 1, "$\(number): \(dimensions) dimensions")
        guard let length = buffer.readInteger(as: Int32.self), let lowerBound = buffer.readInteger(as: Int32.self)
        else { fail("$\(number): truncated dimension") }
        check(length == count, "$\(number): \(length) elements for a batch of \(count)")
        check(lowerBound == 1, "$\(number): lower bound \(lowerBound)")
        var elements: [ByteBuffer?] = []
        for index in 0..<count {
            guard let size = buffer.readInteger(as: Int32.self) else { fail("$\(number)[\(index)]: no length") }
            if size == -1 {
                elements.append(nil)
                continue
            }
            check(size >= 0, "$\(number)[\(index)]: length \(size)")
            guard let bytes = buffer.readSlice(length: Int(size)) else {
                fail("$\(number)[\(index)]: \(size) bytes announced, \(buffer.readableBytes) left")
            }
            elements.append(bytes)
        }
        check((hasNulls == 1) == elements.contains(nil), "$\(number): the has-NULLs flag is wrong")
        return elements
    }

    static func checkElement(_ element: ByteBuffer, type: PostgresDataType, number: Int, isWritten: Bool) {
        switch type {
        case .int8:
            check(element.readableBytes == 8, "$\(number): a bigint of \(element.readableBytes) bytes")
        case .int4:
            check(element.readableBytes == 4, "$\(number): an integer of \(element.readableBytes) bytes")
        case .timestamptz:
            check(element.readableBytes == 8, "$\(number): a timestamptz of \(element.readableBytes) bytes")
            let value = element.getInteger(at: element.readerIndex, as: Int64.self) ?? .min
            check(timestampRange.contains(value), "$\(number): timestamptz \(value) µs is beyond PostgreSQL's range")
        case .text:
            let text = Array(element.readableBytesView)
            check(String(validating: text, as: UTF8.self) != nil, "$\(number): text that is not UTF-8")
            // PostgreSQL text cannot hold U+0000: a written item with one fails its batch
            // statement (22021), which the ingest writer splits until the item is alone
            // and answered InternalError, retried by the station forever.
            if isWritten, text.contains(0) {
                fail("$\(number): text holding U+0000 is bound")
            }
        case .bytea:
            return
        default:
            fail("$\(number): no check for \(type)")
        }
    }

    static func integer<Integer: FixedWidthInteger>(_ element: ByteBuffer?, as: Integer.Type) -> Integer? {
        guard let element else { return nil }
        return element.getInteger(at: element.readerIndex, as: Integer.self)
    }

    static func microseconds(_ element: ByteBuffer?) -> Int64? {
        integer(element, as: Int64.self)
    }

    /// What `PostgresTimestamp` must bind for a date from the wire (years 0000 to
    /// 9999): the date's own value (seconds since 2001) to the nearest microsecond,
    /// then moved to PostgreSQL's epoch (2000-01-01, 366 days earlier) exactly.
    static func roundedMicroseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSinceReferenceDate * 1_000_000).rounded()) + 366 * 86_400 * 1_000_000
    }
}
