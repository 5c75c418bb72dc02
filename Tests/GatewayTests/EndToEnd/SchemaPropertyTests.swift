import Foundation
import OCPP
import PostgresNIO
import Shared
import TestSupport
import Testing

/// The settings of the schema property test, from the environment.
enum SchemaFuzz {
    /// The folder with the official OCPP 1.6 JSON schemas (`<Action>.json`). Not in the
    /// repository: scripts/test downloads the PyPI package `ocpp` (which ships them) into
    /// a temporary folder and sets this. A plain `swift test` leaves it unset, and the
    /// suite is skipped.
    static let schemaDirectory: URL? = ProcessInfo.processInfo.environment["OCPP_SCHEMA_DIR"].map {
        URL(fileURLWithPath: $0, isDirectory: true)
    }

    /// Generated CALLs per station-initiated action (`OCPP_SCHEMA_FUZZ_ITERATIONS`).
    static let iterations: Int =
        ProcessInfo.processInfo.environment["OCPP_SCHEMA_FUZZ_ITERATIONS"]
        .flatMap { Int($0) } ?? 40

    /// The seed of every payload (`OCPP_SCHEMA_FUZZ_SEED`, decimal or 0x-hex); fixed by
    /// default so that the test command is reproducible.
    static let seed: UInt64 = {
        guard let text = ProcessInfo.processInfo.environment["OCPP_SCHEMA_FUZZ_SEED"] else { return 20_261_125 }
        if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) ?? 20_261_125 }
        return UInt64(text) ?? 20_261_125
    }()

    /// `OCPP_SCHEMA_FUZZ_TRACE=1` prints every frame before it is sent: when the gateway
    /// traps, the test process dies with it, and the last frames printed are the culprits.
    static let trace = ProcessInfo.processInfo.environment["OCPP_SCHEMA_FUZZ_TRACE"] == "1"

    /// `OCPP_SCHEMA_FUZZ_INT32_ONLY=connectorId,StartTransaction.transactionId` (or `*`)
    /// keeps the integers of those properties (of every action, or of one) within Int32.
    /// Only for working on the gateway while it still traps on larger ones: the test
    /// command never sets it.
    static let int32Only: Set<String> = Set(
        (ProcessInfo.processInfo.environment["OCPP_SCHEMA_FUZZ_INT32_ONLY"] ?? "").split(separator: ",").map {
            String($0.trimmingCharacters(in: .whitespaces))
        })

    /// The property names of `int32Only` that apply to `action`.
    static func int32Only(for action: OCPPAction) -> Set<String> {
        Set(
            int32Only.compactMap { entry in
                let parts = entry.split(separator: ".", maxSplits: 1).map(String.init)
                if parts.count == 1 { return parts[0] }
                return parts[0] == action.rawValue ? parts[1] : nil
            })
    }

    /// Generous for long runs: the per-connection rate limit (50 messages a second
    /// after a burst of 200) bounds each action's station.
    static let timeLimitMinutes = max(2, iterations / 1_000 + 2)

    static let stationActions = OCPPAction.allCases.filter { $0.directions.contains(.chargePointToCentralSystem) }

    /// A distinct seed per action, so that an action's payloads do not depend on the others.
    static func seed(for action: OCPPAction) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in action.rawValue.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return seed ^ hash
    }
}

/// Issue R2 1/5, point 7(a): payloads generated from the official OCPP 1.6 JSON schemas
/// for every station-initiated action, the schemas' edge cases drawn often (integers
/// beyond 32 and 64 bits, extreme dates and offsets, empty, maximal and non-ASCII
/// strings) and some schema-invalid mutations, sent through a real gateway to a real
/// worker. Nothing a station sends may crash the gateway, get anything but a valid
/// CALLRESULT or a 1.6 CALLERROR, or be acknowledged and then lost or set aside.
///
/// The schemas come from the PyPI package `ocpp`, downloaded by scripts/test (which
/// sets OCPP_SCHEMA_DIR); without them (a plain `swift test`) the suite is skipped.
@Suite(
    "Schema property test: generated payloads through gateway and worker", .serialized,
    .enabled(if: SchemaFuzz.schemaDirectory != nil, "OCPP_SCHEMA_DIR is set by scripts/test"),
    .timeLimit(.minutes(SchemaFuzz.timeLimitMinutes)))
struct SchemaPropertyTests {
    /// What one station sent and got back.
    struct Exchange: Sendable {
        var action: OCPPAction
        var messageID: String
        var payload: GeneratedPayload
        var reply: String?
        /// Why the reply is not acceptable; nil when it is.
        var problem: String?
        var acknowledged: Bool
        var errorCode: String?

        var frame: String { "[2,\"\(messageID)\",\"\(action.rawValue)\",\(payload.text)]" }
    }

    /// Failures recorded one by one per action or per kind of set-aside row; a long
    /// run would otherwise record thousands of the same.
    static let issuesPerGroup = 5

    /// An error message without its quoted values and figures, to group alike ones.
    static func shape(of error: String) -> String {
        var shape = ""
        var quoted = false
        for character in error {
            if character == "\"" {
                quoted.toggle()
                shape += quoted ? "\"…" : "\""
            } else if !quoted {
                shape += character.isNumber ? "#" : String(character)
            }
        }
        return shape
    }

    /// Long generated strings make unreadable failure messages; the seed (or
    /// OCPP_SCHEMA_FUZZ_TRACE=1) gives the whole frame.
    static func abbreviated(_ text: String, limit: Int = 1_500) -> String {
        guard text.unicodeScalars.count > limit else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(limit))
        return String(scalars) + "… (\(text.unicodeScalars.count - limit) more characters)"
    }

    struct StationRun: Sendable {
        var action: OCPPAction
        var exchanges: [Exchange] = []
        /// Failures outside an exchange (connect, boot, stray messages).
        var problems: [String] = []
    }

    @Test func generatedPayloadsAreAnsweredAndApplied() async throws {
        let directory = try #require(SchemaFuzz.schemaDirectory)
        let schemas: [(OCPPAction, SchemaNode)] = try SchemaFuzz.stationActions.map { action in
            (action, try SchemaNode.load(contentsOf: directory.appendingPathComponent("\(action.rawValue).json")))
        }
        #expect(schemas.count == 14)
        let seed = SchemaFuzz.seed
        let iterations = SchemaFuzz.iterations
        print("schema property test: seed \(seed), \(iterations) CALLs per action, \(schemas.count) actions")
        let context =
            "(seed \(seed): rerun with OCPP_SCHEMA_FUZZ_SEED=\(seed) OCPP_SCHEMA_FUZZ_ITERATIONS=\(iterations))"

        try await withGatewayAndWorker { client, gateway in
            try await run(
                schemas: schemas, iterations: iterations, context: context, client: client, gateway: gateway)
        }
    }

    private func run(
        schemas: [(OCPPAction, SchemaNode)], iterations: Int, context: String, client: PostgresClient,
        gateway: GatewayHarness
    ) async throws {
        let port = gateway.port
        // One station per action, all at once: each stays within the message burst.
        let runs = await withTaskGroup(of: StationRun.self) { group in
            for (index, (action, schema)) in schemas.enumerated() {
                group.addTask {
                    await Self.play(
                        action: action, schema: schema, identity: "FUZZ-\(index)-\(action.rawValue)",
                        bootID: "boot-\(index)", iterations: iterations, port: port)
                }
            }
            var runs: [StationRun] = []
            for await run in group { runs.append(run) }
            return runs.sorted { $0.action.rawValue < $1.action.rawValue }
        }

        // The summary: per action, valid and mutated payloads, and how they were answered.
        for run in runs {
            var counts: [String: Int] = [:]
            for exchange in run.exchanges {
                let kind = exchange.payload.mutation == nil ? "valid" : "mutated"
                let answer = exchange.acknowledged ? "CALLRESULT" : exchange.errorCode ?? "no answer"
                counts["\(kind) \(answer)", default: 0] += 1
            }
            let line = counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            print("schema property test: \(run.action.rawValue): \(line)")
            // For information: schema-valid payloads refused, schema-invalid ones acknowledged.
            let refused = run.exchanges.filter { $0.payload.mutation == nil && $0.errorCode != nil }
            let acknowledged = run.exchanges.filter { $0.payload.mutation != nil && $0.acknowledged }
            for exchange in refused.prefix(3) {
                let payload = Self.abbreviated(exchange.payload.text, limit: 300)
                print("  schema-valid, refused: \(payload)\n    -> \(exchange.reply ?? "")")
            }
            for exchange in acknowledged.prefix(3) {
                let payload = Self.abbreviated(exchange.payload.text, limit: 300)
                print("  schema-invalid (\(exchange.payload.mutation ?? "")), acknowledged: \(payload)")
            }
        }

        for run in runs {
            for problem in run.problems { Issue.record("\(run.action.rawValue): \(problem) \(context)") }
            let failed = run.exchanges.filter { $0.problem != nil }
            if failed.count > Self.issuesPerGroup {
                let count = "\(failed.count) CALLs answered wrongly, the first \(Self.issuesPerGroup) follow"
                Issue.record("\(run.action.rawValue): \(count) \(context)")
            }
            for exchange in failed.prefix(Self.issuesPerGroup) {
                let problem = exchange.problem ?? ""
                Issue.record(
                    """
                    \(exchange.action.rawValue): \(problem) \(context)
                      sent:  \(Self.abbreviated(exchange.frame))
                      (\(exchange.payload.mutation.map { "schema-invalid: \($0)" } ?? "schema-valid"))
                      reply: \(Self.abbreviated(exchange.reply ?? "none"))
                    """)
            }
        }

        // The gateway is still up: a new station boots and gets its Heartbeat answered.
        let alive = try await TestStation.connect(port: port, identity: "FUZZ-ALIVE")
        let boot = try await alive.callResult("BootNotification", Self.boot, id: "alive-boot")
        #expect(boot["status"] == "Accepted")
        let heartbeat = try await alive.callResult("Heartbeat", [:], id: "alive-heartbeat")
        #expect(heartbeat["currentTime"] != nil)
        await alive.close()

        // Everything acknowledged is applied, nothing set aside. Every session has
        // ended (its disconnect is journaled after the socket closes) before counting.
        try await eventually("the worker applies every work row", timeout: .seconds(60)) {
            let rows = try await client.query(
                """
                SELECT (SELECT count(*) FROM ocpp.inbox_pending),
                       count(*) FILTER (WHERE kind = 'connected'), count(*) FILTER (WHERE kind = 'disconnected')
                FROM ocpp.inbox
                """, logger: TestDatabase.logger
            ).collect()
            let (unprocessed, connected, disconnected) = try rows[0].decode((Int, Int, Int).self)
            return unprocessed == 0 && connected == disconnected
        }
        let setAside = try await client.query(
            """
            SELECT coalesce(i.action, i.kind), r.error, coalesce(i.payload::text, '')
            FROM ocpp.inbox_refusals AS r JOIN ocpp.inbox AS i ON i.id = r.inbox_id ORDER BY i.id
            """, logger: TestDatabase.logger
        ).collect().map { try $0.decode((String, String, String).self) }
        // The count only: the rows themselves follow, grouped (an array here would print them all).
        let setAsideCount = setAside.count
        #expect(setAsideCount == 0, "work rows set aside \(context)")
        // Grouped by action and error (its figures and quoted values left out), the
        // first few rows of each group in full.
        var groups: [String: [(String, String, String)]] = [:]
        var order: [String] = []
        for row in setAside {
            let key = row.0 + ": " + Self.shape(of: row.1)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row)
        }
        for key in order {
            let rows = groups[key] ?? []
            print("schema property test: set aside \(rows.count)x \(key)")
            for (action, error, payload) in rows.prefix(Self.issuesPerGroup) {
                Issue.record("set aside: \(action): \(error)\n  payload: \(Self.abbreviated(payload)) \(context)")
            }
        }

        try await expectAcknowledgedRows(runs: runs, client: client, context: context)
    }

    /// Every acknowledged CALL has its work row. StartTransaction, StopTransaction and
    /// MeterValues may be deduplicated by content: for those, each distinct payload
    /// (equal as JSON) needs a row with the id of one of its messages, or a row of
    /// the action with an equal payload.
    private func expectAcknowledgedRows(runs: [StationRun], client: PostgresClient, context: String) async throws {
        var rowsByMessage: [String: [String]] = [:]
        for row in try await client.query(
            "SELECT message_id, action FROM ocpp.inbox WHERE kind = 'call'", logger: TestDatabase.logger
        ).collect() {
            let (messageID, action) = try row.decode((String, String).self)
            rowsByMessage[messageID, default: []].append(action)
        }
        let contentDeduplicated: Set<OCPPAction> = [.startTransaction, .stopTransaction, .meterValues]
        for run in runs {
            let acknowledged = run.exchanges.filter(\.acknowledged)
            var missing = 0
            defer {
                if missing > Self.issuesPerGroup {
                    Issue.record(
                        "\(run.action.rawValue): \(missing) acknowledged CALLs without their work row \(context)")
                }
            }
            if !contentDeduplicated.contains(run.action) {
                for exchange in acknowledged {
                    let rows = rowsByMessage[exchange.messageID, default: []].filter { $0 == run.action.rawValue }
                    if rows.count != 1 {
                        missing += 1
                        guard missing <= Self.issuesPerGroup else { continue }
                        Issue.record(
                            """
                            \(run.action.rawValue): acknowledged, but \(rows.count) work rows \(context)
                              sent: \(Self.abbreviated(exchange.frame))
                            """)
                    }
                }
                continue
            }
            var groups: [JSONValue: [Exchange]] = [:]
            for exchange in acknowledged {
                let content = (try? JSONParser.parse(exchange.payload.text)) ?? .string(exchange.payload.text)
                groups[content, default: []].append(exchange)
            }
            for group in groups.values {
                if group.contains(where: { rowsByMessage[$0.messageID]?.contains(run.action.rawValue) == true }) {
                    continue
                }
                let first = group[0]
                let equalRows = try? await client.scalar(
                    """
                    SELECT count(*) FROM ocpp.inbox
                    WHERE kind = 'call' AND action = \(run.action.rawValue)
                      AND payload::jsonb = \(first.payload.text)::jsonb
                    """, as: Int.self)
                if (equalRows ?? 0) == 0 {
                    missing += 1
                    guard missing <= Self.issuesPerGroup else { continue }
                    Issue.record(
                        """
                        \(run.action.rawValue): acknowledged \(group.count) time(s), but no work row \(context)
                          sent: \(Self.abbreviated(first.frame))
                        """)
                }
            }
        }
    }

    static let boot: JSONValue = ["chargePointVendor": "SchemaFuzz", "chargePointModel": "Generated"]

    /// One station: connects, boots, sends the generated CALLs one at a time and checks
    /// each answer. Reconnects (and boots again) when the gateway closes the connection,
    /// which is recorded as a problem.
    static func play(
        action: OCPPAction, schema: SchemaNode, identity: String, bootID: String, iterations: Int, port: Int
    ) async -> StationRun {
        var run = StationRun(action: action)
        var generator = SchemaPayloadGenerator(schema: schema, seed: SchemaFuzz.seed(for: action))
        generator.int32Only = SchemaFuzz.int32Only(for: action)
        if !generator.int32Only.isEmpty {
            run.problems.append(
                "OCPP_SCHEMA_FUZZ_INT32_ONLY is set: no integers beyond Int32 for \(generator.int32Only.sorted())")
        }
        var station: TestStation
        do {
            station = try await connectAndBoot(identity: identity, port: port, bootID: bootID)
        } catch {
            run.problems.append("could not connect and boot: \(error)")
            return run
        }
        for iteration in 0..<iterations {
            let payload = generator.next()
            let messageID = "\(action.rawValue.prefix(12))-\(iteration)"
            var exchange = Exchange(
                action: action, messageID: messageID, payload: payload, reply: nil, problem: nil, acknowledged: false)
            let frame = exchange.frame
            if SchemaFuzz.trace { print("schema property test: send \(frame)") }
            do {
                try await station.send(frame)
                let reply = try await station.nextReply(timeout: .seconds(20))
                exchange.reply = reply
                if let reply {
                    check(reply, of: &exchange)
                } else {
                    exchange.problem = "the gateway closed the connection instead of answering"
                }
            } catch {
                exchange.problem = "no answer: \(error)"
            }
            let lostConnection = exchange.reply == nil
            run.exchanges.append(exchange)
            if lostConnection {
                await station.close(timeout: .seconds(1))
                do {
                    station = try await connectAndBoot(
                        identity: identity, port: port, bootID: "\(bootID)-\(iteration)")
                    run.problems.append("reconnected after \(messageID)")
                } catch {
                    run.problems.append("could not reconnect after \(messageID): \(error); stopped")
                    return run
                }
            }
        }
        // Exactly one reply per CALL: nothing more may arrive.
        if let stray = try? await station.nextReply(timeout: .milliseconds(300)) {
            run.problems.append("a message after the last answer: \(stray)")
        }
        await station.close()
        return run
    }

    private static func connectAndBoot(identity: String, port: Int, bootID: String) async throws -> TestStation {
        let station = try await TestStation.connect(port: port, identity: identity)
        do {
            let boot = try await station.callResult("BootNotification", Self.boot, id: bootID)
            guard boot["status"] == "Accepted" else {
                throw TestStationError.unexpected(.callResult(CallResult(messageID: bootID, payload: boot)))
            }
        } catch {
            await station.close()
            throw error
        }
        return station
    }

    /// A CALLRESULT whose payload is a valid response of the action, or a CALLERROR
    /// with a 1.6 error code, both echoing the CALL's id.
    static func check(_ reply: String, of exchange: inout Exchange) {
        let frame: OCPPFrame
        do {
            frame = try OCPPFrame.decode(reply)
        } catch {
            exchange.problem = "the reply is not a valid OCPP-J frame: \(error)"
            return
        }
        guard frame.messageID == exchange.messageID else {
            exchange.problem = "the reply's id is not the CALL's (\(frame.messageID))"
            return
        }
        switch frame {
        case .callResult(let result):
            exchange.acknowledged = true
            do {
                _ = try exchange.action.decodeResponse(.object(result.payload))
            } catch {
                exchange.problem = "the CALLRESULT is not a valid \(exchange.action.rawValue) response: \(error)"
            }
        case .callError:
            // The decoder reads an unknown code as GenericError; the code as written must be 1.6's.
            guard case .array(let elements)? = try? JSONParser.parse(reply), elements.count == 5,
                case .string(let code) = elements[2]
            else {
                exchange.problem = "the CALLERROR is not [4, id, code, description, details]"
                return
            }
            exchange.errorCode = code
            if OCPPErrorCode(rawValue: code) == nil {
                exchange.problem = "the CALLERROR's code \(code) is not an OCPP 1.6 error code"
            }
        case .call:
            exchange.problem = "a CALL instead of an answer"
        }
    }
}
