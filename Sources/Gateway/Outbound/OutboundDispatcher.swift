import CoreMetrics
import Foundation
import Logging
import OCPP
import Shared
import Synchronization

/// Delivers one connection's queued commands (invariant 7), one at a time: a server
/// CALL is sent only when the previous one was answered or timed out (invariant 6,
/// OCPP-J 4.1.1).
///
/// Everything that moves the queue (a wake-up, a registration change, an answer, a
/// timeout, the end of the connection) is an event, handled in order. Events are
/// handled by a task that exists only while there are some: an idle connection's
/// dispatcher holds no task (and no task's stack), which matters with tens of
/// thousands of connections. The outstanding CALL is state only that task touches,
/// and the frame loop never waits for the database on the dispatcher's behalf.
final class OutboundDispatcher: Sendable {
    enum Event: Sendable {
        /// Look for a due command (connect, NOTIFY, LISTEN reconnect).
        case wake
        /// The station has been connected for a moment: look for its commands,
        /// unless that was done already (after the answer to its first message).
        case graceElapsed
        case registration(RegistrationStatus)
        case result(CallResult)
        case error(CallError)
        case timeout(messageID: String)
        case closed
    }

    /// Writes a server CALL; false when the connection is closing and nothing was
    /// written, so that the command can wait for the next connection.
    typealias Send = @Sendable (String) async -> Bool

    /// The server CALL on the wire, waiting for its answer.
    private struct Outstanding {
        var messageID: String
        var action: OCPPAction
        var timer: Task<Void, Never>
    }

    private struct State {
        /// Events not yet handled, oldest first.
        var events: [Event] = []
        /// A task is handling events.
        var isHandling = false
        var isClosed = false
        var accepted: Bool
        /// Commands were looked for on this connection.
        var hasLooked = false
        var outstanding: Outstanding?
        /// Wakes the dispatcher when a command queued with a later `not_before` is due.
        var dueTimer: Task<Void, Never>?
    }

    private let stationID: Int64
    private let gatewayID: String
    private let store: any OutboundStore
    private let callTimeout: Duration
    private let send: Send
    private let logger: Logger
    /// `ocpp_gateway_commands_total` by action and outcome.
    private let outcomes: LabeledCounters
    private let state: Mutex<State>

    init(
        stationID: Int64, gatewayID: String, store: any OutboundStore, callTimeout: Duration,
        registration: RegistrationStatus, outcomes: LabeledCounters, logger: Logger, send: @escaping Send
    ) {
        self.outcomes = outcomes
        self.stationID = stationID
        self.gatewayID = gatewayID
        self.store = store
        self.callTimeout = callTimeout
        self.send = send
        self.logger = logger
        state = Mutex(State(accepted: registration == .accepted))
    }

    /// Queues an event; returns at once.
    func post(_ event: Event) {
        let startHandling = state.withLock { state in
            guard !state.isClosed else { return false }
            state.events.append(event)
            if case .closed = event { state.isClosed = true }
            guard !state.isHandling else { return false }
            state.isHandling = true
            return true
        }
        if startHandling {
            Task { await self.handleEvents() }
        }
    }

    /// Handles events until none is left; the task then ends. Events that arrive
    /// together (an answer and a registration change, a wake-up and a NOTIFY) share
    /// one look for a due command.
    private func handleEvents() async {
        var shouldLook = false
        while true {
            if let event = takeEvent() {
                shouldLook = await handle(event) || shouldLook
            } else if shouldLook {
                shouldLook = false
                if state.withLock({ $0.accepted && $0.outstanding == nil && !$0.isClosed }) { await sendNext() }
            } else if finishUnlessEventsArrived() {
                return
            }
        }
    }

    private func takeEvent() -> Event? {
        state.withLock { $0.events.isEmpty ? nil : $0.events.removeFirst() }
    }

    /// Ends the handling task, unless an event came in since the last look.
    private func finishUnlessEventsArrived() -> Bool {
        state.withLock { state in
            guard state.events.isEmpty else { return false }
            state.isHandling = false
            return true
        }
    }

    /// Handles one event; returns whether a due command should be looked for.
    private func handle(_ event: Event) async -> Bool {
        switch event {
        case .wake:
            return true
        case .graceElapsed:
            return !state.withLock { $0.hasLooked }
        case .registration(let status):
            state.withLock { $0.accepted = status == .accepted }
            return true
        case .result(let result):
            guard let call = take(answering: result.messageID) else { return false }
            await record(result, of: call)
            return true
        case .error(let error):
            guard let call = take(answering: error.messageID) else { return false }
            logger.notice("\(call.action.rawValue) answered with \(error.errorCode.rawValue)")
            outcomes(call.action.rawValue, "failed").increment()
            await write("CALLERROR") {
                try await store.failed(
                    messageID: call.messageID, code: error.errorCode.rawValue, description: error.errorDescription)
            }
            return true
        case .timeout(let messageID):
            // An answer may have come first: then the timer's event finds nothing.
            guard let call = takeOutstanding(messageID) else { return false }
            logger.notice("\(call.action.rawValue) \(messageID) timed out")
            outcomes(call.action.rawValue, "timed_out").increment()
            await write("timeout") { try await store.timedOut(messageID: messageID) }
            return true
        case .closed:
            // The answer can no longer arrive; the CALL is never sent again (a Reset
            // must not happen twice). The rest of the queue stays pending.
            let (call, dueTimer) = state.withLock { state in
                defer {
                    state.outstanding = nil
                    state.dueTimer = nil
                }
                return (state.outstanding, state.dueTimer)
            }
            dueTimer?.cancel()
            if let call {
                call.timer.cancel()
                outcomes(call.action.rawValue, "timed_out").increment()
                await write("timeout at close") { try await store.timedOut(messageID: call.messageID) }
            }
            return false
        }
    }

    /// The outstanding CALL if it is `messageID`, now no longer outstanding.
    private func takeOutstanding(_ messageID: String) -> Outstanding? {
        state.withLock { state in
            guard let call = state.outstanding, call.messageID == messageID else { return nil }
            state.outstanding = nil
            return call
        }
    }

    /// The outstanding CALL if `messageID` answers it, now no longer outstanding, its
    /// timer stopped.
    private func take(answering messageID: String) -> Outstanding? {
        guard let call = takeOutstanding(messageID) else {
            logger.notice("answer to unknown message \(messageID) ignored")
            return nil
        }
        call.timer.cancel()
        return call
    }

    private func record(_ result: CallResult, of call: Outstanding) async {
        do {
            _ = try call.action.decodeResponse(.object(result.payload))
        } catch {
            logger.notice("invalid \(call.action.rawValue) response: \(error)")
            outcomes(call.action.rawValue, "invalid_response").increment()
            await write("invalid response") {
                try await store.failed(
                    messageID: call.messageID, code: error.code.rawValue, description: Self.reason(error))
            }
            return
        }
        outcomes(call.action.rawValue, "answered").increment()
        await write("CALLRESULT") { try await store.answered(messageID: call.messageID, response: result.payload) }
    }

    /// Claims the oldest due command and sends it; commands unfit to send are marked
    /// failed and skipped. When nothing is due, sets a timer for the next that will be.
    private func sendNext() async {
        state.withLock { $0.hasLooked = true }
        while true {
            let outcome: ClaimOutcome
            do {
                outcome = try await store.claimNext(stationID: stationID, gatewayID: gatewayID)
            } catch {
                // The next wake-up (an answer, a NOTIFY, the LISTEN reconnect after an
                // outage) tries again.
                logger.warning("could not claim a queued command: \(String(reflecting: error))")
                return
            }
            let claimed: ClaimedCommand
            switch outcome {
            case .claimed(let command):
                claimed = command
            case .nothingDue(let nextDueIn):
                wake(after: nextDueIn)
                return
            }
            let command: OutboundCommand
            do {
                command = try Self.validate(claimed)
            } catch {
                logger.warning("queued command \(claimed.messageID) is not fit to send: \(error)")
                outcomes(claimed.action, "rejected").increment()
                await write("rejection") {
                    try await store.reject(
                        messageID: claimed.messageID, code: error.code.rawValue, description: Self.reason(error))
                }
                continue
            }
            var frame = JSONWriter()
            frame.value([2, .string(claimed.messageID), .string(command.action.rawValue), .object(command.payload)])
            guard await send(frame.string) else {
                await write("release") { try await store.release(messageID: claimed.messageID) }
                return
            }
            let timer = Task { [callTimeout] in
                guard (try? await Task.sleep(for: callTimeout)) != nil else { return }
                self.post(.timeout(messageID: claimed.messageID))
            }
            logger.debug("sent \(command.action.rawValue) \(claimed.messageID)")
            outcomes(command.action.rawValue, "sent").increment()
            state.withLock {
                $0.outstanding = Outstanding(messageID: claimed.messageID, action: command.action, timer: timer)
            }
            return
        }
    }

    /// Replaces the timer that wakes the dispatcher when the next command queued for
    /// later is due (nil: there is none).
    private func wake(after delay: Duration?) {
        let timer = delay.map { delay in
            Task {
                guard (try? await Task.sleep(for: max(delay, .zero))) != nil else { return }
                self.post(.wake)
            }
        }
        let previous = state.withLock { state in
            defer { state.dueTimer = timer }
            return state.dueTimer
        }
        previous?.cancel()
    }

    /// The stored command as the gateway will send it: it may have been queued from
    /// SQL, which cannot check the action's schema.
    private static func validate(_ claimed: ClaimedCommand) throws(ValidationError) -> OutboundCommand {
        guard case .object(let payload)? = try? JSONParser.parse(claimed.payload) else {
            throw ValidationError(.formationViolation, "the payload is not a JSON object")
        }
        do {
            return try OutboundCommand(action: claimed.action, payload: payload)
        } catch {
            switch error {
            case .invalidPayload(let invalid): throw invalid
            case .unknownAction, .notACommand: throw ValidationError(.notSupported, error.description)
            }
        }
    }

    /// The error without its code, which has a column of its own.
    private static func reason(_ error: ValidationError) -> String {
        error.path.isRoot ? error.reason : "\(error.path): \(error.reason)"
    }

    /// Waits between attempts to record an outcome: about 15 s in all, enough for a
    /// database failover or a pool reconnect. The queue of this station waits
    /// meanwhile (nothing else can be claimed without the database either).
    static let writeRetryDelays: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8)]

    /// Runs a queue update, retried while the database is unreachable. If it still
    /// fails the row stays `sent`; the worker's command-expiry job closes such rows
    /// as timed out after the longest call timeout (sql/0008_abandoned_calls.sql).
    private func write(_ what: String, _ update: () async throws -> Void) async {
        for delay in Self.writeRetryDelays + [nil] {
            do {
                try await update()
                return
            } catch {
                guard let delay else {
                    logger.error("\(what) not recorded, left to the worker's expiry: \(String(reflecting: error))")
                    return
                }
                logger.warning("\(what) not recorded yet, retrying in \(delay): \(String(reflecting: error))")
                try? await Task.sleep(for: delay)
            }
        }
    }
}
