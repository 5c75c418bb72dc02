import NIOWebSocket
import OCPP
import Testing

@testable import Gateway

/// Every transition of one station connection, as tables of events and the actions
/// they must give: no socket, no database, no clock but the one each step names.
@Suite struct StationSessionStateMachineTests {
    typealias Machine = StationSessionStateMachine
    typealias Action = Machine.Action

    static let configuration = Machine.Configuration(
        callTimeout: .seconds(30), firstMessageGrace: .seconds(2), messageRate: 0, messageBurst: 1)
    static let start = ContinuousClock.now

    /// One thing that happens to the connection.
    enum Event: Sendable {
        case started(hasSubprotocol: Bool)
        case sessionOpened(draining: Bool)
        case sessionFailed
        /// A text message, read `at` seconds after the start.
        case text(String, at: Double = 0)
        case binary
        case call(String, OCPPAction)
        case refused(CallError?)
        case committed([UInt8], RegistrationStatus?)
        case notAnswered(CallError)
        case result(String)
        case error(String)
        case wake
        case claimed(Machine.ServerCall)
        case unfit
        case nothingDue(Duration?)
        case claimFailed
        case outcomeRecorded
        case timer(Machine.Timer, at: Double = 0)
        case close(Machine.CloseRequest)
        case socketClosed

        func apply(to machine: inout Machine) -> [Action] {
            switch self {
            case .started(let hasSubprotocol): machine.started(hasSubprotocol: hasSubprotocol)
            case .sessionOpened(let draining): machine.sessionOpened(draining: draining)
            case .sessionFailed: machine.sessionFailed()
            case .text(let text, let at):
                machine.messageReceived(.text(text), now: StationSessionStateMachineTests.at(at))
            case .binary: machine.messageReceived(.binary, now: StationSessionStateMachineTests.start)
            case .call(let id, let action): machine.callReceived(messageID: id, action: action)
            case .refused(let reply): machine.messageRefused(reply)
            case .committed(let answer, let registration):
                machine.callCommitted(answer: answer, registration: registration)
            case .notAnswered(let reply): machine.callNotAnswered(reply)
            case .result(let id): machine.callResultReceived(CallResult(messageID: id, payload: JSONObject()))
            case .error(let id): machine.callErrorReceived(CallError(messageID: id, errorCode: .notSupported))
            case .wake: machine.wake()
            case .claimed(let call): machine.commandClaimed(call, frame: Array(call.messageID.utf8))
            case .unfit: machine.commandUnfit()
            case .nothingDue(let nextDueIn): machine.nothingDue(nextDueIn: nextDueIn)
            case .claimFailed: machine.claimFailed()
            case .outcomeRecorded: machine.outcomeRecorded()
            case .timer(let timer, let at): machine.timerFired(timer, now: StationSessionStateMachineTests.at(at))
            case .close(let request): machine.closeRequested(request)
            case .socketClosed: machine.socketClosed()
            }
        }
    }

    struct Scenario: CustomTestStringConvertible, Sendable {
        var name: String
        var registration: RegistrationStatus = .accepted
        var messageRate = 0
        /// After the connection is open (unless `opens` is false): each event and
        /// exactly the actions it must give.
        var steps: [(Event, [Action])]
        var opens = true
        var testDescription: String { name }
    }

    static func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int(seconds * 1000)) }

    // MARK: Shared values

    static let reset = Machine.ServerCall(messageID: "cmd-1", action: .reset)
    static let unlock = Machine.ServerCall(messageID: "cmd-2", action: .unlockConnector)
    static let answer: [UInt8] = Array(#"[3,"m1",{}]"#.utf8)
    static let takeover = Machine.CloseRequest(code: .normalClosure, reason: "replaced by a new connection")
    static let shutdown = Machine.shutdownClose
    static let endActions: [Action] = [
        .cancelTimer(.firstMessageGrace), .cancelTimer(.nextCommandDue), .cancelTimer(.rateLimit), .endSession,
    ]
    static let notAccepted = CallError(
        messageID: "m1", errorCode: .securityError,
        errorDescription: "the charge point is not accepted: send BootNotification first")

    static let scenarios: [Scenario] = [
        // Start and the session row.
        Scenario(
            name: "without the ocpp1.6 subprotocol the connection is closed",
            steps: [
                (
                    .started(hasSubprotocol: false),
                    [.close(.init(code: .protocolError, reason: "the ocpp1.6 subprotocol is required"))]
                )
            ], opens: false),
        Scenario(
            name: "a session that cannot be recorded closes with 1011",
            steps: [
                (.started(hasSubprotocol: true), [.openSession]),
                (.sessionFailed, [.close(.init(code: .unexpectedServerError, reason: "try again later"))]),
                (.text("[2]"), []),
            ], opens: false),
        Scenario(
            name: "a socket that closes while the session is recorded ends the session once it is",
            steps: [
                (.started(hasSubprotocol: true), [.openSession]),
                (.socketClosed, []),
                (.sessionOpened(draining: false), [.endSession]),
                (.socketClosed, []),
            ], opens: false),
        Scenario(
            name: "a session opened during the drain at shutdown closes at once",
            steps: [
                (.started(hasSubprotocol: true), [.openSession]),
                (.sessionOpened(draining: true), [.startTimer(.firstMessageGrace, .seconds(2)), .close(shutdown)]),
            ], opens: false),
        Scenario(
            name: "a takeover during the start closes once the session is recorded",
            steps: [
                (.started(hasSubprotocol: true), [.openSession]),
                (.close(takeover), []),
                (.sessionOpened(draining: false), [.startTimer(.firstMessageGrace, .seconds(2)), .close(takeover)]),
            ], opens: false),

        // The boot gate.
        Scenario(
            name: "a CALL before boot is refused with SecurityError",
            registration: .pending,
            steps: [
                (.text("heartbeat"), [.handleMessage("heartbeat")]),
                (.call("m1", .heartbeat), [.sendCallError(notAccepted), .readNextMessage]),
            ]),
        Scenario(
            name: "a rejected station is refused too, and a second boot that accepts it opens the queue",
            registration: .rejected,
            steps: [
                (.text("boot"), [.handleMessage("boot")]),
                (.call("b1", .bootNotification), [.dispatchCall]),
                (.committed(answer, .rejected), [.send(answer), .readNextMessage]),
                (.text("status"), [.handleMessage("status")]),
                (
                    .call("m1", .statusNotification),
                    [
                        .sendCallError(
                            CallError(
                                messageID: "m1", errorCode: .securityError,
                                errorDescription: "the charge point is not accepted: send BootNotification first")),
                        .readNextMessage,
                    ]
                ),
                (.wake, []),
                (.text("boot"), [.handleMessage("boot")]),
                (.call("b2", .bootNotification), [.dispatchCall]),
                (.committed(answer, .accepted), [.send(answer), .claimNextCommand, .readNextMessage]),
            ]),
        Scenario(
            name: "the queue is looked at only after the answer that accepts the station",
            registration: .pending,
            steps: [
                (.timer(.firstMessageGrace, at: 2), []),
                (.text("boot"), [.handleMessage("boot")]),
                (.call("b1", .bootNotification), [.dispatchCall]),
                (.wake, []),
                (.committed(answer, .accepted), [.send(answer), .claimNextCommand, .readNextMessage]),
            ]),

        // The station's CALLs.
        Scenario(
            name: "an accepted station's CALL is answered after commit, and the first answer opens the queue",
            steps: [
                (.text("meter"), [.handleMessage("meter")]),
                (.call("m1", .meterValues), [.dispatchCall]),
                (.text("too early"), []),
                (.committed(answer, nil), [.send(answer), .claimNextCommand, .readNextMessage]),
                (.nothingDue(nil), []),
                (.text("meter"), [.handleMessage("meter")]),
                (.call("m2", .meterValues), [.dispatchCall]),
                (.committed(answer, nil), [.send(answer), .readNextMessage]),
            ]),
        Scenario(
            name: "a CALL that is not stored gets the error it was refused with",
            steps: [
                (.text("meter"), [.handleMessage("meter")]),
                (.call("m1", .meterValues), [.dispatchCall]),
                (
                    .notAnswered(CallError(messageID: "m1", errorCode: .internalError)),
                    [.sendCallError(CallError(messageID: "m1", errorCode: .internalError)), .readNextMessage]
                ),
            ]),
        Scenario(
            name: "a malformed frame is answered or not, and reading goes on",
            steps: [
                (.text("[2,"), [.handleMessage("[2,")]),
                (.refused(nil), [.readNextMessage]),
                (.text("[2,\"x\"]"), [.handleMessage("[2,\"x\"]")]),
                (
                    .refused(CallError(messageID: "x", errorCode: .formationViolation)),
                    [.sendCallError(CallError(messageID: "x", errorCode: .formationViolation)), .readNextMessage]
                ),
            ]),
        Scenario(
            name: "a binary message closes with 1003",
            steps: [(.binary, [.close(.init(code: .unacceptableData, reason: "binary frames are not OCPP-J"))])]),
        Scenario(
            name: "messages beyond the rate wait their turn",
            messageRate: 1,
            steps: [
                (.text("a", at: 0), [.handleMessage("a")]),
                (.refused(nil), [.readNextMessage]),
                (.text("b", at: 0), [.reportRateLimited(firstTime: true), .startTimer(.rateLimit, .seconds(1))]),
                (.timer(.rateLimit, at: 1), [.handleMessage("b")]),
                (.refused(nil), [.readNextMessage]),
                (.text("c", at: 1), [.reportRateLimited(firstTime: false), .startTimer(.rateLimit, .seconds(1))]),
                (.close(takeover), [.cancelTimer(.rateLimit), .close(takeover)]),
                (.timer(.rateLimit, at: 2), []),
            ]),

        // Server CALLs: one at a time.
        Scenario(
            name: "a second server CALL waits while one is outstanding",
            steps: [
                (.wake, [.claimNextCommand]),
                (.wake, []),
                (.claimed(reset), [.sendCommand(frame: Array("cmd-1".utf8)), .startTimer(.callTimeout, .seconds(30))]),
                (.wake, []),
                (.timer(.firstMessageGrace, at: 2), []),
                (.text("result"), [.handleMessage("result")]),
                (
                    .result("cmd-1"),
                    [
                        .cancelTimer(.callTimeout),
                        .recordOutcome(reset, .answered(.init(messageID: "cmd-1", payload: JSONObject()))),
                        .readNextMessage,
                    ]
                ),
                (.wake, []),
                (.outcomeRecorded, [.claimNextCommand]),
                (
                    .claimed(unlock),
                    [.sendCommand(frame: Array("cmd-2".utf8)), .startTimer(.callTimeout, .seconds(30))]
                ),
                (.text("error"), [.handleMessage("error")]),
                (
                    .error("cmd-2"),
                    [
                        .cancelTimer(.callTimeout),
                        .recordOutcome(unlock, .failed(.init(messageID: "cmd-2", errorCode: .notSupported))),
                        .readNextMessage,
                    ]
                ),
                (.outcomeRecorded, [.claimNextCommand]),
                (.nothingDue(nil), []),
            ]),
        Scenario(
            name: "a call timeout is recorded, and an answer after it is ignored",
            steps: [
                (.wake, [.claimNextCommand]),
                (.claimed(reset), [.sendCommand(frame: Array("cmd-1".utf8)), .startTimer(.callTimeout, .seconds(30))]),
                (.timer(.callTimeout, at: 30), [.recordOutcome(reset, .timedOut)]),
                (.text("late"), [.handleMessage("late")]),
                (.result("cmd-1"), [.readNextMessage]),
                (.outcomeRecorded, [.claimNextCommand]),
                (.nothingDue(nil), []),
                (.text("late"), [.handleMessage("late")]),
                (.result("cmd-1"), [.readNextMessage]),
            ]),
        Scenario(
            name: "an answer to a message never sent is ignored",
            steps: [
                (.text("stray"), [.handleMessage("stray")]),
                (.result("nobody"), [.readNextMessage]),
                (.text("stray"), [.handleMessage("stray")]),
                (.error("nobody"), [.readNextMessage]),
            ]),
        Scenario(
            name: "a wake-up during a claim looks again; a command for later sets its timer",
            steps: [
                (.wake, [.claimNextCommand]),
                (.wake, []),
                (.nothingDue(.seconds(5)), [.claimNextCommand]),
                (.nothingDue(.seconds(5)), [.startTimer(.nextCommandDue, .seconds(5))]),
                (.timer(.nextCommandDue, at: 5), [.claimNextCommand]),
                (.unfit, [.claimNextCommand]),
                (.claimFailed, []),
                (.timer(.firstMessageGrace, at: 5), []),
            ]),
        Scenario(
            name: "a silent accepted station gets its queue after the first-message grace",
            steps: [
                (.timer(.firstMessageGrace, at: 2), [.claimNextCommand]),
                (.nothingDue(nil), []),
            ]),
        Scenario(
            name: "a wake-up while an outcome is written looks after it",
            steps: [
                (.wake, [.claimNextCommand]),
                (.claimed(reset), [.sendCommand(frame: Array("cmd-1".utf8)), .startTimer(.callTimeout, .seconds(30))]),
                (.timer(.callTimeout, at: 30), [.recordOutcome(reset, .timedOut)]),
                (.wake, []),
                (.outcomeRecorded, [.claimNextCommand]),
            ]),

        // Closing.
        Scenario(
            name: "a takeover while the station's CALL is handled closes after its answer",
            steps: [
                (.text("meter"), [.handleMessage("meter")]),
                (.call("m1", .meterValues), [.dispatchCall]),
                (.close(takeover), []),
                (.close(shutdown), []),
                (.committed(answer, nil), [.send(answer), .claimNextCommand, .close(takeover)]),
                (.claimed(reset), [.releaseCommand(messageID: "cmd-1")]),
                (.socketClosed, endActions),
            ]),
        Scenario(
            name: "a takeover while a server CALL is outstanding: it times out at the close, never resent",
            steps: [
                (.wake, [.claimNextCommand]),
                (.claimed(reset), [.sendCommand(frame: Array("cmd-1".utf8)), .startTimer(.callTimeout, .seconds(30))]),
                (.close(takeover), [.close(takeover)]),
                (.wake, []),
                (
                    .socketClosed,
                    [
                        .cancelTimer(.firstMessageGrace), .cancelTimer(.nextCommandDue), .cancelTimer(.rateLimit),
                        .cancelTimer(.callTimeout), .recordOutcome(reset, .connectionEnded), .endSession,
                    ]
                ),
                (.outcomeRecorded, []),
                (.timer(.callTimeout, at: 30), []),
            ]),
        Scenario(
            name: "the drain at shutdown closes an idle connection with 1001",
            steps: [
                (.close(shutdown), [.close(shutdown)]),
                (.text("after"), []),
                (.wake, []),
                (.close(takeover), []),
                (.socketClosed, endActions),
                (.socketClosed, []),
            ]),
        Scenario(
            name: "a claim that returns while closing puts the command back",
            steps: [
                (.wake, [.claimNextCommand]),
                (.close(shutdown), [.close(shutdown)]),
                (.claimed(reset), [.releaseCommand(messageID: "cmd-1")]),
            ]),
        Scenario(
            name: "the station closing mid-CALL ends the session; the late commit sends nothing",
            steps: [
                (.text("meter"), [.handleMessage("meter")]),
                (.call("m1", .meterValues), [.dispatchCall]),
                (.socketClosed, endActions),
                (.committed(answer, nil), []),
            ]),
    ]

    @Test(arguments: scenarios)
    func transitions(_ scenario: Scenario) {
        var machine = Machine(
            registration: scenario.registration,
            configuration: .init(
                callTimeout: Self.configuration.callTimeout, firstMessageGrace: Self.configuration.firstMessageGrace,
                messageRate: scenario.messageRate, messageBurst: 1),
            now: Self.start)
        if scenario.opens {
            #expect(machine.started(hasSubprotocol: true) == [.openSession])
            #expect(
                machine.sessionOpened(draining: false) == [
                    .startTimer(.firstMessageGrace, .seconds(2)), .readNextMessage,
                ])
        }
        for (index, (event, expected)) in scenario.steps.enumerated() {
            let actions = event.apply(to: &machine)
            #expect(actions == expected, "step \(index + 1): \(event)")
        }
    }
}
