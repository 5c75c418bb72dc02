import NIOWebSocket
import OCPP

/// Every rule of one station's connection, as a value: the boot gate, one message of
/// the station handled at a time, one server CALL outstanding at a time with its
/// timeout, queued commands delivered only to an accepted station, the close that
/// waits for the message in hand, and the end of the session.
///
/// The machine does no IO and reads no clock. Its owner (``StationSessionHandler``,
/// on the channel's event loop) feeds it events — a message read, a database step
/// finished, a timer fired, a close asked for — and carries out the actions it
/// returns, in order: write bytes, start database work, start or cancel a timer,
/// read on, close. The same events in the same order always give the same actions,
/// which is what the table-driven tests check.
///
/// A station and the central system each have at most one CALL outstanding
/// (OCPP-J 1.6 section 4.1.1); the station's is held back by not reading the socket
/// while one is being handled, the server's by claiming the next queued command only
/// once the previous one is answered, has timed out, or its outcome is recorded.
struct StationSessionStateMachine {
    struct Configuration: Sendable {
        /// How long a server CALL waits for its answer.
        var callTimeout: Duration
        /// How long a newly connected, already accepted station may stay silent
        /// before its queue is looked at anyway; normally its first message comes
        /// sooner and the queue follows that message's answer.
        var firstMessageGrace: Duration
        /// The station's messages a second, and the burst allowed above it (0: no limit).
        var messageRate: Int
        var messageBurst: Int
    }

    /// Why and how the connection is to be closed.
    struct CloseRequest: Sendable, Equatable {
        var code: WebSocketErrorCode
        var reason: String
    }

    /// The server CALL on the wire, waiting for the station's answer.
    struct ServerCall: Sendable, Equatable {
        var messageID: String
        var action: OCPPAction
    }

    /// How a server CALL ended, to be written to its queue row.
    enum CommandOutcome: Sendable, Equatable {
        /// The station answered with a CALLRESULT (whose payload the handler checks
        /// against the action's response schema before recording it).
        case answered(CallResult)
        case failed(CallError)
        case timedOut
        /// The connection ended before an answer came: never sent again (a Reset
        /// must not happen twice), recorded as timed out.
        case connectionEnded
    }

    enum Timer: Sendable, Hashable {
        /// The first-message grace (``Configuration/firstMessageGrace``).
        case firstMessageGrace
        /// The outstanding server CALL's timeout.
        case callTimeout
        /// The next command queued for later becomes due.
        case nextCommandDue
        /// A message beyond the station's rate waits this long before it is handled.
        case rateLimit
    }

    enum Action: Sendable, Equatable {
        /// Record the session (row, registry, connect work row); answer with
        /// ``sessionOpened(draining:)`` or ``sessionFailed``.
        case openSession
        /// Read the socket's next message.
        case readNextMessage
        /// Handle a text message: decode its frame and tell the machine what it is.
        case handleMessage(String)
        /// Prepare the answer to the CALL just reported and make its work row
        /// durable; answer with ``callCommitted(answer:registration:)`` or
        /// ``callNotAnswered(_:)``.
        case dispatchCall
        /// Write a frame already encoded (a CALLRESULT made by the ingest path).
        case send([UInt8])
        /// Write a CALLERROR.
        case sendCallError(CallError)
        /// Claim the station's oldest due queued command; answer with
        /// ``commandClaimed(_:frame:)``, ``commandUnfit()``,
        /// ``nothingDue(nextDueIn:)`` or ``claimFailed``.
        case claimNextCommand
        /// Write a server CALL.
        case sendCommand(frame: [UInt8])
        /// Put a claimed command back in the queue: the connection is closing.
        case releaseCommand(messageID: String)
        /// Record how a server CALL ended; answer with ``outcomeRecorded``.
        case recordOutcome(ServerCall, CommandOutcome)
        case startTimer(Timer, Duration)
        case cancelTimer(Timer)
        /// Start the close handshake.
        case close(CloseRequest)
        /// The session is over: leave the registry, close its row, journal the
        /// disconnect.
        case endSession
        /// A message waits for the station's rate (counted); `firstTime`: the first
        /// on this connection, which the handler logs.
        case reportRateLimited(firstTime: Bool)
    }

    private enum Lifecycle: Equatable {
        /// The session is being recorded; nothing is read yet.
        case starting
        case open
        /// Our close frame is out; the socket has not closed yet.
        case closing
        case closed
    }

    /// The station's side: one message at a time.
    private enum Inbound: Equatable {
        /// Nothing in hand: the socket may read.
        case waiting
        /// A message beyond the rate, waiting for ``Timer/rateLimit``.
        case heldBack(String)
        /// A message being decoded by the handler.
        case decoding
        /// A CALL whose answer is being prepared and journaled.
        case dispatching(messageID: String)

        var isHeldBack: Bool {
            if case .heldBack = self { return true }
            return false
        }
    }

    /// The central system's side: one server CALL at a time, and never two database
    /// steps of the queue at once.
    private enum Outbound: Equatable {
        case idle
        /// A claim is in flight; `lookAgain` when a wake-up came meanwhile.
        case claiming(lookAgain: Bool)
        case awaitingAnswer(ServerCall)
        /// An outcome is being written; the next claim follows it.
        case recording(lookAgain: Bool)
    }

    private let configuration: Configuration
    private var lifecycle = Lifecycle.starting
    private var inbound = Inbound.waiting
    private var outbound = Outbound.idle
    private var registration: RegistrationStatus
    private var limiter: TokenBucket
    private var hasBeenRateLimited = false
    /// Whether the queue has been looked at on this connection.
    private var hasLookedForCommands = false
    /// Whether a CALL of the station has been answered on this connection: the queue
    /// waits for the first, so that a command never overtakes the answer that
    /// accepts the station.
    private var hasAnsweredACall = false
    /// A close asked for while starting or while a message was in hand.
    private var pendingClose: CloseRequest?
    /// The socket closed while the session was being recorded.
    private var socketClosedWhileStarting = false

    init(registration: RegistrationStatus, configuration: Configuration, now: ContinuousClock.Instant) {
        self.registration = registration
        self.configuration = configuration
        limiter = TokenBucket(rate: configuration.messageRate, burst: configuration.messageBurst, now: now)
    }

    // MARK: Start

    /// The WebSocket is up. OCPP-J 1.6 section 3.1.2: without the `ocpp1.6`
    /// subprotocol the handshake completes and the connection is closed.
    mutating func started(hasSubprotocol: Bool) -> [Action] {
        guard hasSubprotocol else {
            lifecycle = .closing
            return [.close(CloseRequest(code: .protocolError, reason: "the ocpp1.6 subprotocol is required"))]
        }
        return [.openSession]
    }

    /// The session is recorded. `draining`: the gateway began shutting down meanwhile.
    mutating func sessionOpened(draining: Bool) -> [Action] {
        guard lifecycle == .starting else { return [] }
        if socketClosedWhileStarting {
            lifecycle = .closed
            return [.endSession]
        }
        lifecycle = .open
        var actions: [Action] = [.startTimer(.firstMessageGrace, configuration.firstMessageGrace)]
        if draining { pendingClose = pendingClose ?? Self.shutdownClose }
        if let close = pendingClose {
            pendingClose = nil
            actions += closeNow(close)
        } else {
            actions.append(.readNextMessage)
        }
        return actions
    }

    /// The session could not be recorded: the station should come back later.
    mutating func sessionFailed() -> [Action] {
        guard lifecycle == .starting else { return [] }
        if socketClosedWhileStarting {
            lifecycle = .closed
            return []
        }
        lifecycle = .closing
        return [.close(CloseRequest(code: .unexpectedServerError, reason: "try again later"))]
    }

    // MARK: The station's messages

    /// A complete message from the socket (which reads nothing more until
    /// ``Action/readNextMessage``).
    mutating func messageReceived(_ message: StationSocketMessage, now: ContinuousClock.Instant) -> [Action] {
        guard lifecycle == .open, inbound == .waiting else { return [] }
        guard case .text(let text) = message else {
            // OCPP-J carries JSON text only.
            return closeNow(CloseRequest(code: .unacceptableData, reason: "binary frames are not OCPP-J"))
        }
        let delay = limiter.delay(at: now)
        guard delay > .zero else {
            inbound = .decoding
            return [.handleMessage(text)]
        }
        inbound = .heldBack(text)
        let firstTime = !hasBeenRateLimited
        hasBeenRateLimited = true
        return [.reportRateLimited(firstTime: firstTime), .startTimer(.rateLimit, delay)]
    }

    /// The handler decoded a CALL of `action` (a valid payload).
    mutating func callReceived(messageID: String, action: OCPPAction) -> [Action] {
        guard lifecycle == .open, inbound == .decoding else { return [] }
        // OCPP 1.6 section 4.2.1: until its BootNotification is accepted a station
        // may send nothing else. The answer follows OCPP 2.0.1's rule (B02.FR.09).
        guard registration == .accepted || action == .bootNotification else {
            let refusal = CallError(
                messageID: messageID, errorCode: .securityError,
                errorDescription: "the charge point is not accepted: send BootNotification first")
            return [.sendCallError(refusal)] + messageDone()
        }
        inbound = .dispatching(messageID: messageID)
        return [.dispatchCall]
    }

    /// The handler refused the message: a malformed frame or an invalid CALL, with
    /// the CALLERROR to answer (nil: one that cannot be answered, such as a frame
    /// without a unique id).
    mutating func messageRefused(_ reply: CallError?) -> [Action] {
        guard inbound == .decoding else { return [] }
        var actions: [Action] = []
        if let reply, lifecycle == .open { actions.append(.sendCallError(reply)) }
        return actions + messageDone()
    }

    /// The CALL's work row is committed: `answer` is the CALLRESULT to send,
    /// `registration` the status a BootNotification gave.
    mutating func callCommitted(answer: [UInt8], registration newStatus: RegistrationStatus?) -> [Action] {
        guard case .dispatching = inbound else { return [] }
        var actions: [Action] = []
        if lifecycle == .open { actions.append(.send(answer)) }
        // Looked at after the answer is written, so that a command never overtakes
        // the BootNotification.conf that accepts the station.
        var shouldLook = !hasAnsweredACall
        hasAnsweredACall = true
        if let newStatus {
            shouldLook = shouldLook || newStatus != registration
            registration = newStatus
        }
        if shouldLook { actions += lookForCommands() }
        return actions + messageDone()
    }

    /// The CALL was not answered with a CALLRESULT: nothing was acknowledged and the
    /// station retries (OCPP 1.6 section 3.7), or its payload cannot be stored.
    mutating func callNotAnswered(_ reply: CallError) -> [Action] {
        guard case .dispatching = inbound else { return [] }
        var actions: [Action] = []
        if lifecycle == .open { actions.append(.sendCallError(reply)) }
        return actions + messageDone()
    }

    /// The station answered a server CALL.
    mutating func callResultReceived(_ result: CallResult) -> [Action] {
        guard inbound == .decoding else { return [] }
        return answerReceived(messageID: result.messageID, outcome: .answered(result)) + messageDone()
    }

    mutating func callErrorReceived(_ error: CallError) -> [Action] {
        guard inbound == .decoding else { return [] }
        return answerReceived(messageID: error.messageID, outcome: .failed(error)) + messageDone()
    }

    private mutating func answerReceived(messageID: String, outcome: CommandOutcome) -> [Action] {
        // An answer to something not outstanding (late, after its timeout, or never
        // sent) is ignored.
        guard case .awaitingAnswer(let call) = outbound, call.messageID == messageID else { return [] }
        outbound = .recording(lookAgain: false)
        return [.cancelTimer(.callTimeout), .recordOutcome(call, outcome)]
    }

    /// The message in hand is done: read the next, or carry out the close that
    /// waited for it.
    private mutating func messageDone() -> [Action] {
        inbound = .waiting
        guard lifecycle == .open else { return [] }
        if let close = pendingClose {
            pendingClose = nil
            return closeNow(close)
        }
        return [.readNextMessage]
    }

    // MARK: Queued commands

    /// A command may be due: a NOTIFY came, the LISTEN connection came back, or a
    /// command queued for later became due.
    mutating func wake() -> [Action] {
        lookForCommands()
    }

    private mutating func lookForCommands() -> [Action] {
        guard lifecycle == .open, registration == .accepted else { return [] }
        switch outbound {
        case .idle:
            hasLookedForCommands = true
            outbound = .claiming(lookAgain: false)
            return [.claimNextCommand]
        case .claiming:
            outbound = .claiming(lookAgain: true)
        case .recording:
            outbound = .recording(lookAgain: true)
        case .awaitingAnswer:
            // Its answer or timeout looks next.
            break
        }
        return []
    }

    /// A command was claimed (its row is `sent` by this gateway) and is fit to send.
    mutating func commandClaimed(_ call: ServerCall, frame: [UInt8]) -> [Action] {
        guard case .claiming = outbound else { return [] }
        guard lifecycle == .open, pendingClose == nil else {
            // It never reached the wire: it waits for the next connection.
            outbound = .idle
            return [.releaseCommand(messageID: call.messageID)]
        }
        outbound = .awaitingAnswer(call)
        return [.sendCommand(frame: frame), .startTimer(.callTimeout, configuration.callTimeout)]
    }

    /// The claimed command was not fit to send and is marked failed: claim the next.
    mutating func commandUnfit() -> [Action] {
        guard case .claiming = outbound else { return [] }
        outbound = .idle
        return lookForCommands()
    }

    /// Nothing is due; `nextDueIn`: when the earliest command queued for later is.
    mutating func nothingDue(nextDueIn: Duration?) -> [Action] {
        guard case .claiming(let lookAgain) = outbound else { return [] }
        outbound = .idle
        if lookAgain { return lookForCommands() }
        guard lifecycle == .open, let nextDueIn else { return [] }
        return [.startTimer(.nextCommandDue, max(nextDueIn, .zero))]
    }

    /// The claim failed (database unreachable): the next wake-up tries again.
    mutating func claimFailed() -> [Action] {
        guard case .claiming = outbound else { return [] }
        outbound = .idle
        return []
    }

    /// A server CALL's outcome is written (or given up on): the next may go.
    mutating func outcomeRecorded() -> [Action] {
        guard case .recording = outbound else { return [] }
        outbound = .idle
        return lookForCommands()
    }

    // MARK: Timers

    mutating func timerFired(_ timer: Timer, now: ContinuousClock.Instant) -> [Action] {
        switch timer {
        case .firstMessageGrace:
            return hasLookedForCommands ? [] : lookForCommands()
        case .nextCommandDue:
            return lookForCommands()
        case .rateLimit:
            guard lifecycle == .open, case .heldBack(let text) = inbound else { return [] }
            inbound = .decoding
            return [.handleMessage(text)]
        case .callTimeout:
            guard case .awaitingAnswer(let call) = outbound else { return [] }
            outbound = .recording(lookAgain: false)
            return [.recordOutcome(call, .timedOut)]
        }
    }

    // MARK: Closing

    /// The reason given to each station when the gateway shuts down.
    static let shutdownClose = CloseRequest(code: .goingAway, reason: "the gateway is shutting down")

    /// Close the connection (takeover, idle, shutdown), after the message in hand,
    /// if any, is answered.
    mutating func closeRequested(_ request: CloseRequest) -> [Action] {
        switch lifecycle {
        case .starting:
            pendingClose = pendingClose ?? request
            return []
        case .open:
            guard inbound == .waiting || inbound.isHeldBack else {
                pendingClose = pendingClose ?? request
                return []
            }
            return closeNow(request)
        case .closing, .closed:
            return []
        }
    }

    private mutating func closeNow(_ request: CloseRequest) -> [Action] {
        lifecycle = .closing
        var actions: [Action] = []
        if inbound.isHeldBack {
            inbound = .waiting
            actions.append(.cancelTimer(.rateLimit))
        }
        actions.append(.close(request))
        return actions
    }

    /// The socket is gone: nothing more arrives and nothing can be written.
    mutating func socketClosed() -> [Action] {
        switch lifecycle {
        case .starting:
            socketClosedWhileStarting = true
            return []
        case .closed:
            return []
        case .open, .closing:
            break
        }
        lifecycle = .closed
        var actions: [Action] = [
            .cancelTimer(.firstMessageGrace), .cancelTimer(.nextCommandDue), .cancelTimer(.rateLimit),
        ]
        if case .awaitingAnswer(let call) = outbound {
            // The answer can no longer arrive.
            outbound = .recording(lookAgain: false)
            actions += [.cancelTimer(.callTimeout), .recordOutcome(call, .connectionEnded)]
        }
        inbound = .waiting
        actions.append(.endSession)
        return actions
    }
}
