import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import OCPP
import PostgresNIO
import Shared
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// The group-commit writer against a real PostgreSQL (`DATABASE_URL`), one fresh,
/// migrated database per test. Proves invariants 1 to 4 for the gateway's side.
@Suite("Ingest writer (PostgreSQL)", .timeLimit(.minutes(2)))
struct IngestWriterTests {
    static let gatewayID = "gw-ingest-test"

    // MARK: Rows and answers

    @Test("a CALL's row is committed and its response returned")
    func commitsCall() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let time = Date(timeIntervalSince1970: 1_700_000_000.25)
            let request = StationRequest.statusNotification(
                StatusNotificationRequest(connectorId: 1, errorCode: .noError, status: .available))
            let call = StationCallRow(
                request: request, stationID: station, receivedAt: Date(), messageID: "m-1",
                prepared: PreparedCall(response: .complete(Array("{}".utf8)), stationTime: time))
            let outcome = try await writer.submit(.call(call))
            // Sent as encoded: the frame around the very bytes prepared, nothing re-encoded.
            #expect(outcome.callResult == OCPPFrame.encodeCallResult(messageID: "m-1", payloadJSON: "{}".utf8))
            #expect(try answer(outcome) == Answer(payload: [:], isDuplicate: false))

            let row = try await client.query(
                """
                SELECT gateway_id, station_id, kind, action, message_id, payload_digest IS NULL,
                       payload::text, response::text, station_time = \(time), txid IS NOT NULL
                FROM ocpp.inbox
                """, logger: TestDatabase.logger
            ).collect()
            #expect(row.count == 1)
            let (gateway, stationID, kind, action, messageID, noDigest, payload, response, sameTime, unprocessed) =
                try row[0].decode((String, Int64, String, String, String, Bool, String, String, Bool, Bool).self)
            #expect(gateway == Self.gatewayID)
            #expect(stationID == station)
            #expect(kind == "call")
            #expect(action == "StatusNotification")
            #expect(messageID == "m-1")
            // The row keeps the request as read, in the compact JSON it encodes to.
            #expect(payload == String(decoding: request.jsonBytes, as: UTF8.self))
            // Not a transaction-related message: answered afresh, so no content key.
            #expect(noDigest)
            #expect(response == "{}")
            #expect(sameTime)
            #expect(unprocessed)
            #expect(try await count(client, "ocpp.inbox_receipts") == 0)
            #expect(writer.isDatabaseReachable)
        }
    }

    @Test("a transaction-related message's row carries the digest of its payload")
    func keyedCallDigest() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            _ = try await writer.submit(keyedCall(station: station, id: "m-1", content: ["x": 1], response: [:]))
            let (payload, digest) = try await client.query(
                "SELECT payload::text, encode(payload_digest, 'hex') FROM ocpp.inbox", logger: TestDatabase.logger
            ).collect()[0].decode((String, String).self)
            #expect(digest == hex(Array(SHA256.hash(data: Array(payload.utf8)))))
            #expect(try await count(client, "ocpp.inbox_receipts") == 1)
        }
    }

    @Test("the same transaction-related CALL twice in one batch: the first copy's answer, one row")
    func duplicateInOneBatch() async throws {
        try await withWriter(batchMaxSize: 2, batchMaxDelay: .seconds(60)) { writer, client in
            let station = try await makeStation(client)
            async let first = writer.submit(
                keyedCall(station: station, id: "m-1", content: ["x": 1], response: ["n": "first"]))
            async let second = writer.submit(
                keyedCall(station: station, id: "m-2", content: ["x": 1], response: ["n": "second"]))
            let outcomes = try await [first, second]
            #expect(try answer(outcomes[0]).payload == answer(outcomes[1]).payload)
            #expect(outcomes.filter(\.isDuplicate).count == 1)
            let original = try #require(outcomes.first { !$0.isDuplicate })
            let stored = try await client.scalar(
                "SELECT response::text FROM ocpp.inbox", as: String.self)
            #expect(try JSONParser.parse(stored) == answer(original).payload)
            #expect(try await count(client, "ocpp.inbox") == 1)
            #expect(try await count(client, "ocpp.inbox_receipts") == 1)
            #expect(await writer.statistics.committedBatches == 1)
        }
    }

    @Test("the same transaction-related CALL under a new id in a later batch: the stored answer, one row")
    func duplicateInTwoBatches() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let first = try await writer.submit(
                keyedCall(station: station, id: "m-1", content: ["x": 1], response: ["n": "first"]))
            let second = try await writer.submit(
                keyedCall(station: station, id: "m-2", content: ["x": 1], response: ["n": "second"]))
            #expect(try answer(first) == Answer(payload: ["n": "first"], isDuplicate: false))
            #expect(try answer(second) == Answer(payload: ["n": "first"], isDuplicate: true))
            #expect(try await count(client, "ocpp.inbox") == 1)
            #expect(await writer.statistics.committedBatches == 2)
        }
    }

    @Test("the batch statement returns rows only for StartTransactions and duplicates, not for new items")
    func onlyItemsThatAreNotSimplyNewComeBack() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let station = try await makeStation(client)
            let key = TransactionStartKey(
                connectorID: 1, idTag: "TAG-1", startedAt: Date(timeIntervalSince1970: 1_700_000_000), meterStart: 0)
            let items: [WorkItem] = [
                freshCall(station: station, id: "d-1", content: ["x": 1], response: ["status": "Accepted"]),
                keyedCall(station: station, id: "m-1", content: ["x": 1], response: [:]),
                startTransaction(station: station, id: "s-1", key: key),
                keyedCall(station: station, id: "m-2", content: ["x": 1], response: [:]),
                .connected(
                    SessionEvent(stationID: station, receivedAt: Date(), details: object(["remoteAddress": "10.0.0.1"]))
                ),
            ]
            let statement = IngestBatchStatement(items: items, gatewayID: Self.gatewayID)
            let reported = try await client.withConnection { connection in
                var ords: [Int32] = []
                for try await row in try await connection.execute(statement, logger: TestDatabase.logger) {
                    ords.append(row.0)
                }
                return ords
            }
            #expect(reported == [2, 3], "the start (its id) and the second copy (its answer) only")
            #expect(try await count(client, "ocpp.inbox") == 4)

            // The same batch again: everything but the DataTransfer and the event is a duplicate.
            let again = try await IngestBatchStatement.run(
                items, gatewayID: Self.gatewayID, client: client, logger: TestDatabase.logger)
            let outcomes = try again.map { result in
                guard case .committed(let outcome) = result else { throw NotACallResult() }
                return outcome
            }
            #expect(outcomes.map(\.isDuplicate) == [false, true, true, true, false])
            #expect(try answer(outcomes[0]).payload == ["status": "Accepted"])
            #expect(outcomes[4].callResult == nil)
        }
    }

    @Test("any other CALL resent with the same id and payload is answered afresh and journaled again")
    func otherActionsAnsweredAfresh() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let first = try await writer.submit(
                freshCall(station: station, id: "m-1", content: ["x": 1], response: ["n": "first"]))
            let second = try await writer.submit(
                freshCall(station: station, id: "m-1", content: ["x": 1], response: ["n": "second"]))
            #expect(try answer(first) == Answer(payload: ["n": "first"], isDuplicate: false))
            #expect(try answer(second) == Answer(payload: ["n": "second"], isDuplicate: false))
            #expect(try await count(client, "ocpp.inbox") == 2)
            #expect(try await count(client, "ocpp.inbox_receipts") == 0)
        }
    }

    @Test("a transaction-related CALL with other content is a new message")
    func otherContentIsNew() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let first = try await writer.submit(
                keyedCall(station: station, id: "m-1", content: ["x": 1], response: ["n": 1]))
            let second = try await writer.submit(
                keyedCall(station: station, id: "m-1", content: ["x": 2], response: ["n": 2]))
            #expect(try answer(first) == Answer(payload: ["n": 1], isDuplicate: false))
            #expect(try answer(second) == Answer(payload: ["n": 2], isDuplicate: false))
            #expect(try await count(client, "ocpp.inbox") == 2)
            #expect(try await count(client, "ocpp.inbox_receipts") == 2)
        }
    }

    @Test("the same transaction-related content from another station is a new message")
    func sameContentOtherStation() async throws {
        try await withWriter { writer, client in
            let one = try await makeStation(client, identity: "CP-1")
            let two = try await makeStation(client, identity: "CP-2")
            let first = try await writer.submit(
                keyedCall(station: one, id: "m-1", content: ["x": 1], response: [:]))
            let second = try await writer.submit(
                keyedCall(station: two, id: "m-1", content: ["x": 1], response: [:]))
            #expect(!first.isDuplicate)
            #expect(!second.isDuplicate)
            #expect(try await count(client, "ocpp.inbox") == 2)
        }
    }

    // MARK: Transaction ids

    @Test("StartTransaction: the same content under two message ids gets the same transactionId")
    func startTransactionContentKey() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let startedAt = Date(timeIntervalSince1970: 1_700_000_000.123)
            let key = TransactionStartKey(connectorID: 1, idTag: "TAG-1", startedAt: startedAt, meterStart: 1000)

            let first = try await writer.submit(startTransaction(station: station, id: "s-1", key: key))
            let retry = try await writer.submit(startTransaction(station: station, id: "s-2", key: key))
            var other = key
            other.meterStart = 1001
            let another = try await writer.submit(startTransaction(station: station, id: "s-3", key: other))

            let id = try #require(transactionID(first))
            #expect(try answer(first).payload?["idTagInfo"] == ["status": "Accepted"])
            #expect(transactionID(retry) == id)
            #expect(retry.isDuplicate)  // another message id, the same content: the same start
            let otherID = try #require(transactionID(another))
            #expect(otherID != id)
            #expect(try await count(client, "ocpp.transaction_starts") == 2)
            #expect(try await count(client, "ocpp.inbox") == 2)
            let stored = try await client.scalar(
                "SELECT (response->>'transactionId')::int FROM ocpp.inbox WHERE message_id = 's-1'", as: Int32.self)
            #expect(Int64(stored) == id)
            let startRow = try await client.scalar(
                """
                SELECT transaction_id FROM ocpp.transaction_starts
                WHERE station_id = \(station) AND connector_id = 1 AND id_tag = 'TAG-1'
                  AND started_at = \(RFC3339.format(startedAt))::timestamptz AND meter_start = 1000
                """, as: Int32.self)
            #expect(Int64(startRow) == id)
        }
    }

    @Test("StartTransaction: two message ids with the same content in one batch share the transactionId")
    func startTransactionContentKeyInOneBatch() async throws {
        try await withWriter(batchMaxSize: 3, batchMaxDelay: .seconds(60)) { writer, client in
            let station = try await makeStation(client)
            let key = TransactionStartKey(
                connectorID: 2, idTag: "TAG-2", startedAt: Date(timeIntervalSince1970: 1_700_000_100), meterStart: 5)
            async let a = writer.submit(startTransaction(station: station, id: "s-1", key: key))
            async let b = writer.submit(startTransaction(station: station, id: "s-2", key: key))
            async let c = writer.submit(startTransaction(station: station, id: "s-2", key: key))
            let outcomes = try await [a, b, c]
            let ids = Set(outcomes.map(transactionID))
            #expect(ids.count == 1)
            #expect(ids.first! != nil)
            #expect(outcomes.filter(\.isDuplicate).count == 2)
            #expect(await writer.statistics.committedBatches == 1)
            #expect(try await count(client, "ocpp.transaction_starts") == 1)
            #expect(try await count(client, "ocpp.inbox") == 1)
        }
    }

    // MARK: Encode once

    @Test("a new message: the CALLRESULT sent is the encoded bytes, and the journal holds the same answer")
    func sentIsJournaled() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let bytes = Array(#"{"status":"Accepted","data":"x\u00e9"}"#.utf8)
            let fresh = WorkItem.call(
                StationCallRow(
                    request: .dataTransfer(DataTransferRequest(vendorId: "test")), stationID: station,
                    receivedAt: Date(),
                    messageID: "m-1", prepared: PreparedCall(response: .complete(bytes))))
            let outcome = try await writer.submit(fresh)
            #expect(outcome.callResult == OCPPFrame.encodeCallResult(messageID: "m-1", payloadJSON: bytes))
            let journaled = try await client.scalar(
                "SELECT response::text FROM ocpp.inbox WHERE message_id = 'm-1'", as: String.self)
            #expect(try JSONParser.parse(journaled) == JSONParser.parse(bytes))
        }
    }

    @Test("a new StartTransaction: sent, receipted and journaled with the one allocated transactionId")
    func startTransactionSentIsJournaled() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let key = TransactionStartKey(
                connectorID: 1, idTag: "TAG-1", startedAt: Date(timeIntervalSince1970: 1_700_000_000), meterStart: 7)
            let tag = IdTagInfo(status: .accepted, parentIdTag: "FLEET")
            let outcome = try await writer.submit(
                startTransaction(station: station, id: "s-1", key: key, idTagInfo: tag))
            let allocated = try await client.scalar(
                "SELECT transaction_id FROM ocpp.transaction_starts WHERE station_id = \(station)", as: Int32.self)
            // Byte for byte the frame a typed encoding of the answer would give.
            #expect(
                outcome.callResult
                    == OCPPFrame.encodeCallResult(
                        messageID: "s-1",
                        payload: StartTransactionResponse(idTagInfo: tag, transactionId: Int(allocated))))
            let sent = try #require(try answer(outcome).payload)
            let (journaled, receipted) = try await client.query(
                """
                SELECT i.response::text, r.response::text
                FROM ocpp.inbox AS i JOIN ocpp.inbox_receipts AS r USING (station_id, action, payload_digest)
                """, logger: TestDatabase.logger
            ).collect()[0].decode((String, String).self)
            #expect(try JSONParser.parse(journaled) == sent)
            #expect(try JSONParser.parse(receipted) == sent)
        }
    }

    @Test("a retransmitted StartTransaction gets the stored answer, byte for byte, with the same transactionId")
    func startTransactionRetransmission() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let key = TransactionStartKey(
                connectorID: 3, idTag: "TAG-3", startedAt: Date(timeIntervalSince1970: 1_700_000_300), meterStart: 0)
            let first = try await writer.submit(startTransaction(station: station, id: "s-1", key: key))
            // Meanwhile the tag was blocked: the retry is prepared with another answer,
            // but a retransmission repeats the first one.
            let retry = try await writer.submit(
                startTransaction(station: station, id: "s-2", key: key, idTagInfo: IdTagInfo(status: .blocked)))
            #expect(retry.isDuplicate)
            #expect(transactionID(retry) == transactionID(first))
            #expect(try answer(retry).payload == answer(first).payload)
            let stored = try await client.scalar("SELECT response::text FROM ocpp.inbox_receipts", as: String.self)
            #expect(retry.callResult == OCPPFrame.encodeCallResult(messageID: "s-2", payloadJSON: stored.utf8))
            #expect(try await count(client, "ocpp.inbox") == 1)
        }
    }

    @Test("a StartTransaction whose receipt was pruned keeps its transactionId and is sent as journaled")
    func startTransactionAfterPrunedReceipt() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let key = TransactionStartKey(
                connectorID: 4, idTag: "TAG-4", startedAt: Date(timeIntervalSince1970: 1_700_000_400), meterStart: 9)
            let first = try await writer.submit(startTransaction(station: station, id: "s-1", key: key))
            try await client.query("DELETE FROM ocpp.inbox_receipts", logger: TestDatabase.logger)
            let again = try await writer.submit(startTransaction(station: station, id: "s-2", key: key))
            // One transaction per content key, whatever became of the receipt.
            #expect(!again.isDuplicate)
            #expect(transactionID(again) == transactionID(first))
            let journaled = try await client.scalar(
                "SELECT response::text FROM ocpp.inbox WHERE message_id = 's-2'", as: String.self)
            #expect(try JSONParser.parse(journaled) == answer(again).payload)
            #expect(try await count(client, "ocpp.transaction_starts") == 1)
        }
    }

    // MARK: Events

    @Test("connect and disconnect events are rows too")
    func connectionEvents() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let connected = try await writer.submit(
                .connected(
                    SessionEvent(stationID: station, receivedAt: Date(), details: object(["remoteAddress": "10.0.0.1"]))
                ))
            let disconnected = try await writer.submit(
                .disconnected(SessionEvent(stationID: station, receivedAt: Date(), details: object(["code": 1000]))))
            #expect(connected == IngestOutcome(callResult: nil, isDuplicate: false))
            #expect(disconnected == IngestOutcome(callResult: nil, isDuplicate: false))
            let rows = try await client.query(
                """
                SELECT kind, action IS NULL AND message_id IS NULL AND payload_digest IS NULL AND response IS NULL,
                       payload::text
                FROM ocpp.inbox ORDER BY id
                """, logger: TestDatabase.logger
            ).collect()
            let decoded = try rows.map { try $0.decode((String, Bool, String).self) }
            #expect(decoded.map(\.0) == ["connected", "disconnected"])
            #expect(decoded.allSatisfy { $0.1 })
            #expect(try JSONParser.parse(decoded[0].2) == ["remoteAddress": "10.0.0.1"])
            #expect(try await count(client, "ocpp.inbox_receipts") == 0)
        }
    }

    @Test("a payload string holding U+0000 is refused before it is queued; an escaped backslash is not")
    func nulInPayload() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let item = freshCall(station: station, id: "m-1", content: "a\u{0}b", response: [:])
            #expect(item.payloadHoldsNUL)
            await #expect(throws: IngestError.self) { try await writer.submit(item) }
            let backslash = freshCall(station: station, id: "m-2", content: #"\u0000"#, response: [:])
            #expect(!backslash.payloadHoldsNUL)
            _ = try await writer.submit(backslash)
            #expect(try await count(client, "ocpp.inbox") == 1)
            #expect(await writer.statistics.failedAttempts == 0)
        }
    }

    // MARK: Notification

    @Test("a committed batch notifies ocpp_inbox with the gateway id")
    func notifies() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let payload = try await client.withConnection { connection in
                try await connection.listen(on: InboxChannel.name) { notifications in
                    _ = try await writer.submit(
                        .connected(SessionEvent(stationID: station, receivedAt: Date(), details: JSONObject())))
                    for try await notification in notifications { return notification.payload }
                    return "(no notification)"
                }
            }
            #expect(payload == Self.gatewayID)
        }
    }

    @Test("the notices of batches committed together are one, sent outside the batch's transaction")
    func noticesAreCoalesced() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            let notifier = InboxNotifier(client: client, gatewayID: Self.gatewayID, logger: TestDatabase.logger)
            let received = try await client.withConnection { connection in
                try await connection.listen(on: InboxChannel.name) { notifications in
                    let notifying = Task { try await notifier.run() }
                    defer { notifying.cancel() }
                    for _ in 0..<1000 { notifier.batchCommitted() }
                    var payloads: [String] = []
                    let quiet = Task {
                        try await Task.sleep(for: .seconds(1))
                        try await connection.query("SELECT pg_notify('ocpp_inbox', 'end')", logger: TestDatabase.logger)
                    }
                    defer { quiet.cancel() }
                    for try await notification in notifications {
                        guard notification.payload != "end" else { break }
                        payloads.append(notification.payload)
                    }
                    return payloads
                }
            }
            #expect(!received.isEmpty && received.allSatisfy { $0 == Self.gatewayID })
            // 1,000 commits within a few milliseconds: a notice per interval, not per commit.
            #expect(received.count <= 10)
        }
    }

    // MARK: Ack after commit

    @Test("submit does not return while the row cannot be committed, and returns once it is")
    func ackAfterCommit() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let finished = Flag()
            let submission = try await client.withTransaction(logger: TestDatabase.logger) { connection in
                try await connection.query(
                    "LOCK TABLE ocpp.inbox IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
                let submission = Task {
                    defer { finished.set() }
                    return try await writer.submit(
                        freshCall(station: station, id: "m-1", content: ["x": 1], response: ["ok": true]))
                }
                try await eventually("the batch statement waits for the lock") {
                    await lockWaiters(client) > 0
                }
                try await Task.sleep(for: .milliseconds(200))
                #expect(!finished.isSet)
                #expect(await writer.statistics.committedBatches == 0)
                return submission
            }
            let outcome = try await submission.value
            #expect(try answer(outcome) == Answer(payload: ["ok": true], isDuplicate: false))
            #expect(try await count(client, "ocpp.inbox") == 1)
        }
    }

    @Test("a batch whose connection is lost is retried; the item is answered once committed")
    func retriesAfterConnectionLoss() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let submission = try await client.withTransaction(logger: TestDatabase.logger) { connection in
                try await connection.query(
                    "LOCK TABLE ocpp.inbox IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
                let submission = Task {
                    try await writer.submit(
                        freshCall(station: station, id: "m-1", content: ["x": 1], response: ["n": 1]))
                }
                try await eventually("the batch statement waits for the lock") {
                    await lockWaiters(client) > 0
                }
                let terminated = try await client.scalar(
                    """
                    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE datname = current_database() AND wait_event_type = 'Lock'
                    """, as: Int64.self)
                #expect(terminated == 1)
                try await eventually("the writer notices the failure") {
                    await writer.statistics.failedAttempts >= 1
                }
                #expect(!writer.isDatabaseReachable)
                // The retry waits for the lock again.
                try await eventually("the batch is retried") { await lockWaiters(client) > 0 }
                return submission
            }
            let outcome = try await submission.value
            #expect(try answer(outcome) == Answer(payload: ["n": 1], isDuplicate: false))
            #expect(try await count(client, "ocpp.inbox") == 1)
            #expect(writer.isDatabaseReachable)
        }
    }

    @Test("a statement that is not answered is given up when its items expire, and the writer goes on")
    func unansweredStatementIsGivenUp() async throws {
        try await withWriter(ingestTimeout: .seconds(1)) { writer, client in
            let station = try await makeStation(client)
            let outcome = try await client.withTransaction(logger: TestDatabase.logger) { connection in
                // A statement waiting for this lock is not answered, and cancelling its
                // task does not end the wait: as one written to a connection that had
                // just closed.
                try await connection.query(
                    "LOCK TABLE ocpp.inbox IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
                await #expect(throws: IngestError.unavailable) {
                    try await writer.submit(
                        freshCall(station: station, id: "m-1", content: ["x": 1], response: ["n": 1]))
                }
                let later = Task {
                    try await writer.submit(
                        freshCall(station: station, id: "m-2", content: ["x": 2], response: ["n": 2]))
                }
                // The writer did not wait for the first statement: the next batch is
                // a second statement, waiting next to it.
                try await eventually("the next batch is written while the first still waits") {
                    await lockWaiters(client) == 2
                }
                return later
            }
            #expect(try answer(try await outcome.value) == Answer(payload: ["n": 2], isDuplicate: false))
            // The statement given up commits in its own time (its item was answered
            // as failed; a station sends it again).
            try await eventually("both rows are committed") { try await count(client, "ocpp.inbox") == 2 }
        }
    }

    @Test("a receipt another gateway has not committed yet: the item is written again and gets its answer")
    func concurrentReceipt() async throws {
        try await withWriter { writer, client in
            let station = try await makeStation(client)
            let item = keyedCall(station: station, id: "m-1", content: ["x": 1], response: ["from": "this gateway"])
            let digest = hex(try #require(item.row.payloadDigest))
            let submission = try await client.withTransaction(logger: TestDatabase.logger) { connection in
                // What another gateway's batch does for the same message.
                try await connection.query(
                    """
                    INSERT INTO ocpp.inbox_receipts (station_id, action, payload_digest, response)
                    VALUES (\(station), 'MeterValues', decode(\(digest), 'hex'), '{"from": "other gateway"}')
                    """, logger: TestDatabase.logger)
                let submission = Task { try await writer.submit(item) }
                try await eventually("the batch statement waits for the other transaction") {
                    await lockWaiters(client) > 0
                }
                return submission
            }
            let outcome = try await submission.value
            #expect(try answer(outcome) == Answer(payload: ["from": "other gateway"], isDuplicate: true))
            #expect(await writer.statistics.committedBatches == 2)
            #expect(try await count(client, "ocpp.inbox") == 0)
        }
    }

    @Test("the same messages at two gateways at once: one row and one answer each")
    func twoGateways() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let station = try await makeStation(client)
            let gatewayA = IngestWriter(
                client: client, gatewayID: "gw-a", batchMaxDelay: .milliseconds(2), logger: TestDatabase.logger)
            let gatewayB = IngestWriter(
                client: client, gatewayID: "gw-b", batchMaxDelay: .milliseconds(2), logger: TestDatabase.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await gatewayA.run() }
                group.addTask { try await gatewayB.run() }
                let messages = 40
                let pairs = try await withThrowingTaskGroup(of: (IngestOutcome, IngestOutcome).self) { pairs in
                    for index in 0..<messages {
                        pairs.addTask {
                            if index.isMultiple(of: 2) {
                                // A retransmission that reaches the other gateway.
                                let content: JSONValue = ["n": .integer(Int64(index))]
                                async let viaA = gatewayA.submit(
                                    keyedCall(
                                        station: station, id: "m-\(index)", content: content, response: ["via": "a"]))
                                async let viaB = gatewayB.submit(
                                    keyedCall(
                                        station: station, id: "m-\(index)", content: content, response: ["via": "b"]))
                                return try await (viaA, viaB)
                            } else {
                                // A StartTransaction retried under a new message id.
                                let key = TransactionStartKey(
                                    connectorID: 1, idTag: "TAG", startedAt: Date(timeIntervalSince1970: Double(index)),
                                    meterStart: index)
                                async let viaA = gatewayA.submit(
                                    startTransaction(station: station, id: "s-\(index)-a", key: key))
                                async let viaB = gatewayB.submit(
                                    startTransaction(station: station, id: "s-\(index)-b", key: key))
                                return try await (viaA, viaB)
                            }
                        }
                    }
                    return try await pairs.reduce(into: []) { $0.append($1) }
                }
                for (viaA, viaB) in pairs {
                    #expect(try answer(viaA).payload == answer(viaB).payload)
                    #expect([viaA, viaB].filter(\.isDuplicate).count == 1)
                }
                #expect(try await count(client, "ocpp.inbox") == Int64(messages))
                #expect(try await count(client, "ocpp.inbox_receipts") == Int64(messages))
                #expect(try await count(client, "ocpp.transaction_starts") == Int64(messages / 2))
                await gatewayA.shutdown()
                await gatewayB.shutdown()
                try await group.waitForAll()
            }
        }
    }

    @Test("an item the database refuses fails alone; the rest of its batch is written")
    func poisonItem() async throws {
        try await withWriter(batchMaxSize: 3, batchMaxDelay: .seconds(60)) { writer, client in
            let station = try await makeStation(client)
            async let good1 = writer.submit(freshCall(station: station, id: "m-1", content: ["x": 1], response: [:]))
            // PostgreSQL text cannot hold U+0000: the message id column refuses it.
            async let bad = error {
                try await writer.submit(freshCall(station: station, id: "m-\u{0}2", content: ["x": 2], response: [:]))
            }
            async let good2 = writer.submit(freshCall(station: station, id: "m-3", content: ["x": 3], response: [:]))
            _ = try await (good1, good2)
            guard case .rejected? = await bad as? IngestError else {
                Issue.record("the item with an unstorable message id was not rejected")
                return
            }
            #expect(try await count(client, "ocpp.inbox") == 2)
            let statistics = await writer.statistics
            #expect(statistics.failedAttempts >= 2)
            #expect(statistics.committedItems == 2)
        }
    }

    // MARK: Batching

    @Test("many concurrent submissions share few batches")
    func groupCommit() async throws {
        try await withWriter(batchMaxSize: 50, batchMaxDelay: .milliseconds(20)) { writer, client in
            let station = try await makeStation(client)
            let submissions = 200
            try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
                for index in 0..<submissions {
                    group.addTask {
                        try await writer.submit(
                            freshCall(
                                station: station, id: "m-\(index)", content: ["n": .integer(Int64(index))],
                                response: [:]))
                    }
                }
                for try await outcome in group { #expect(!outcome.isDuplicate) }
            }
            #expect(try await count(client, "ocpp.inbox") == Int64(submissions))
            let statistics = await writer.statistics
            #expect(statistics.committedItems == submissions)
            #expect(statistics.committedBatches >= submissions / 50)
            #expect(statistics.committedBatches <= submissions / 4)
            #expect(statistics.statements == statistics.committedBatches)
        }
    }

    @Test("submissions from an event loop are answered on that loop, once committed")
    func answersOnTheSubmittersEventLoop() async throws {
        try await withWriter(batchMaxSize: 50, batchMaxDelay: .milliseconds(20)) { writer, client in
            let station = try await makeStation(client)
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let submissions = 20
            let (answers, answering) = AsyncStream<(onLoop: Bool, outcome: IngestOutcome?)>.makeStream()
            try await loop.submit {
                for index in 0..<submissions {
                    writer.submit(
                        freshCall(
                            station: station, id: "m-\(index)", content: ["n": .integer(Int64(index))], response: [:]),
                        on: loop
                    ) { result in
                        answering.yield((loop.inEventLoop, try? result.get()))
                    }
                }
            }.get()
            var answered = 0
            for await answer in answers {
                #expect(answer.onLoop)
                #expect(answer.outcome?.callResult != nil)
                answered += 1
                if answered == submissions { break }
            }
            #expect(try await count(client, "ocpp.inbox") == Int64(submissions))
            #expect(await writer.statistics.committedBatches < submissions)
        }
    }

    @Test("a full batch is written at once, without waiting for the batch delay")
    func aFullBatchIsWrittenAtOnce() async throws {
        try await withWriter(batchMaxSize: 5, batchMaxDelay: .seconds(60)) { writer, client in
            let station = try await makeStation(client)
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: IngestOutcome.self) { group in
                for index in 0..<5 {
                    group.addTask {
                        try await writer.submit(
                            freshCall(
                                station: station, id: "m-\(index)", content: ["n": .integer(Int64(index))],
                                response: [:]))
                    }
                }
                try await group.waitForAll()
            }
            // Far sooner than the 60 s the first item's batch would otherwise wait.
            #expect(ContinuousClock.now - start < .seconds(30))
            #expect(await writer.statistics.committedBatches == 1)
        }
    }

    // MARK: Shutdown and outages

    @Test("graceful shutdown writes what is queued, then refuses new items")
    func shutdownFlushes() async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let station = try await makeStation(client)
            let writer = IngestWriter(
                client: client, gatewayID: Self.gatewayID, batchMaxSize: 100, batchMaxDelay: .seconds(60),
                logger: TestDatabase.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await writer.run() }
                let submissions = (0..<3).map { index in
                    Task {
                        try await writer.submit(
                            freshCall(
                                station: station, id: "m-\(index)", content: ["n": .integer(Int64(index))],
                                response: [:]))
                    }
                }
                try await eventually("the items are queued") { await writer.pendingCount == 3 }
                await writer.shutdown()
                try await group.next()  // run() returned
                for submission in submissions { _ = try await submission.value }
                await #expect(throws: IngestError.shuttingDown) {
                    try await writer.submit(.connected(SessionEvent(stationID: station, receivedAt: Date())))
                }
            }
            #expect(try await count(client, "ocpp.inbox") == 3)
        }
    }

    /// A full batch waiting out the back-off: the writer waits too, rather than
    /// turning its loop until the retry, and the items expire and are answered.
    @Test("with the database unreachable, a full batch waits for its retry and its items expire")
    func aFullBatchWaitsOutTheBackOff() async throws {
        await withUnreachableDatabase(batchMaxSize: 2) { writer in
            await withTaskGroup(of: Void.self) { submissions in
                for index in 0..<5 {
                    submissions.addTask {
                        await #expect(throws: IngestError.unavailable) {
                            try await writer.submit(
                                freshCall(station: 1, id: "m-\(index)", content: [:], response: [:]))
                        }
                    }
                }
            }
            #expect(await writer.statistics.committedBatches == 0)
            // A few turns per try (the back-off doubles from 50 ms), not a busy loop.
            #expect(await writer.statistics.loopTurns < 200)
        }
    }

    @Test("with the database unreachable an item fails as unavailable after the timeout, never as committed")
    func unreachableDatabase() async throws {
        await withUnreachableDatabase { writer in
            await #expect(throws: IngestError.unavailable) {
                try await writer.submit(freshCall(station: 1, id: "m-1", content: [:], response: [:]))
            }
            #expect(!writer.isDatabaseReachable)
            #expect(await writer.statistics.committedBatches == 0)
        }
    }

    // MARK: Helpers

    /// A running writer whose database is a closed port, with an ingest timeout of 1 s.
    func withUnreachableDatabase(
        batchMaxSize: Int = 500, _ body: @Sendable (IngestWriter) async -> Void
    ) async {
        let nowhere = PostgresClient.Configuration(
            host: "127.0.0.1", port: 1, username: "postgres", password: nil, database: "nowhere", tls: .disable)
        let client = PostgresClient(configuration: nowhere, backgroundLogger: TestDatabase.logger)
        let writer = IngestWriter(
            client: client, gatewayID: Self.gatewayID, batchMaxSize: batchMaxSize, ingestTimeout: .seconds(1),
            logger: TestDatabase.logger)
        let pool = PostgresClient.startRunning(client)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await writer.run() }
            await body(writer)
            await writer.shutdown()
            group.cancelAll()
        }
        pool.cancel()
    }

    /// A fresh database with a running writer; the writer is shut down gracefully
    /// after `body`.
    func withWriter(
        batchMaxSize: Int = 500, batchMaxDelay: Duration = .milliseconds(5), ingestTimeout: Duration = .seconds(60),
        _ body: @Sendable @escaping (IngestWriter, PostgresClient) async throws -> Void
    ) async throws {
        try await TestDatabase.withFreshDatabase { client, _ in
            _ = try await TestDatabase.migrate(client)
            let notifier = InboxNotifier(client: client, gatewayID: Self.gatewayID, logger: TestDatabase.logger)
            let writer = IngestWriter(
                client: client, gatewayID: Self.gatewayID, batchMaxSize: batchMaxSize, batchMaxDelay: batchMaxDelay,
                ingestTimeout: ingestTimeout, logger: TestDatabase.logger, committed: notifier.batchCommitted)
            let notifying = Task { try await notifier.run() }
            defer { notifying.cancel() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await writer.run() }
                do {
                    try await body(writer, client)
                    await writer.shutdown()
                    try await group.waitForAll()
                } catch {
                    group.cancelAll()
                    throw error
                }
            }
        }
    }
}

// MARK: - Test data

private func makeStation(_ client: PostgresClient, identity: String = "CP-1") async throws -> Int64 {
    try await client.scalar("INSERT INTO ocpp.stations (identity) VALUES (\(identity)) RETURNING id", as: Int64.self)
}

/// A CALL answered afresh every time: a DataTransfer carrying `content` as its data.
private func freshCall(station: Int64, id: String, content: JSONValue, response: JSONValue) -> WorkItem {
    .call(
        StationCallRow(
            request: .dataTransfer(DataTransferRequest(vendorId: "test", data: json(content))), stationID: station,
            receivedAt: Date(), messageID: id, prepared: PreparedCall(response: encoded(response))))
}

/// A transaction-related CALL, deduplicated by content: a MeterValues whose one
/// sampled value carries `content`.
private func keyedCall(station: Int64, id: String, content: JSONValue, response: JSONValue) -> WorkItem {
    let reading = MeterValue(
        timestamp: Date(timeIntervalSince1970: 1_700_000_000), sampledValue: [SampledValue(value: json(content))])
    return .call(
        StationCallRow(
            request: .meterValues(MeterValuesRequest(connectorId: 1, meterValue: [reading])), stationID: station,
            receivedAt: Date(), messageID: id, prepared: PreparedCall(response: encoded(response))))
}

/// An answer encoded once, as the call handler does.
private func encoded(_ response: JSONValue) -> EncodedResponse {
    var writer = JSONWriter()
    writer.value(response)
    return .complete(writer.bytes)
}

/// A string as it is; any other value as compact JSON.
private func json(_ value: JSONValue) -> String {
    if case .string(let text) = value { return text }
    var writer = JSONWriter()
    writer.value(value)
    return writer.string
}

private func startTransaction(
    station: Int64, id: String, key: TransactionStartKey, idTagInfo: IdTagInfo = IdTagInfo(status: .accepted)
) -> WorkItem {
    let request = StartTransactionRequest(
        connectorId: Int(key.connectorID), idTag: key.idTag, meterStart: key.meterStart, timestamp: key.startedAt)
    return .call(
        StationCallRow(
            request: .startTransaction(request), stationID: station, receivedAt: Date(), messageID: id,
            prepared: PreparedCall(
                response: .transactionStart(idTagInfo: idTagInfo, key: key), stationTime: key.startedAt)))
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

private func transactionID(_ outcome: IngestOutcome) -> Int64? {
    guard case .integer(let id)? = try? answer(outcome).payload?["transactionId"] else { return nil }
    return id
}

/// What an outcome says: the payload of its CALLRESULT frame, and whether it is a
/// duplicate.
private struct Answer: Equatable {
    var payload: JSONValue?
    var isDuplicate: Bool
}

private func answer(_ outcome: IngestOutcome) throws -> Answer {
    guard let frame = outcome.callResult else { return Answer(payload: nil, isDuplicate: outcome.isDuplicate) }
    guard case .callResult(let result) = try OCPPFrame.decode(frame) else {
        throw NotACallResult()
    }
    return Answer(payload: .object(result.payload), isDuplicate: outcome.isDuplicate)
}

private struct NotACallResult: Error {}

extension WorkItem {
    /// The CALL's row (the tests' items are CALLs unless they say otherwise).
    fileprivate var row: StationCallRow {
        guard case .call(let row) = self else { preconditionFailure("not a CALL") }
        return row
    }
}

private func count(_ client: PostgresClient, _ table: String) async throws -> Int64 {
    try await client.scalar(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), as: Int64.self)
}

/// Backends of the test database waiting for a lock. Errors, and no answer within a
/// few seconds, read as none: right after a backend is terminated, the pool may
/// still hand out its dead connection, and a query on it is never answered.
private func lockWaiters(_ client: PostgresClient) async -> Int64 {
    (try? await DatabaseAttempt.run(timeout: .seconds(3)) {
        try await client.scalar(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
            """, as: Int64.self)
    }) ?? 0
}

/// Polls `condition` until it holds; fails after a generous timeout instead of hanging.
private func eventually(
    _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw EventuallyTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}

private struct EventuallyTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting until \(what)" }
}

private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

/// The error `body` throws, if any.
private func error(_ body: () async throws -> IngestOutcome) async -> (any Error)? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error
    }
}

/// The object of a JSON literal.
private func object(_ value: JSONValue) -> JSONObject {
    guard case .object(let object) = value else { preconditionFailure("not an object: \(value)") }
    return object
}
