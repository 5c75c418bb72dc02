import CoreMetrics
import Foundation
import Logging
import Shared

/// Delivers one connection's queued commands (invariant 7), one at a time: a server
/// CALL is sent only when the previous one was answered or timed out (invariant 6,
/// OCPP-J 4.1.1).
///
/// Everything that moves the queue (a wake-up, a registration change, an answer, a
/// timeout, the end of the connection) is an event handled in order by ``run(send:)``,
/// so the outstanding CALL is plain local state and the frame loop never waits for
/// the database on the dispatcher's behalf.
final class OutboundDispatcher: Sendable {
    enum Event: Sendable {
        /// Look for a due command (connect, NOTIFY, LISTEN reconnect).
        case wake
        case registration(RegistrationStatus)
        case result(CallResult)
        case error(CallError)
        case timeout(messageID: String)
        case closed
    }

    /// The server CALL on the wire, waiting for its answer.
    private struct Outstanding {
        var messageID: String
        var action: OCPPAction
        var timer: Task<Void, Never>
    }

    private let stationID: Int64
    private let gatewayID: String
    private let store: any OutboundStore
    private let callTimeout: Duration
    private let initialRegistration: RegistrationStatus
    /// How long a newly connected, already Accepted station may stay silent before
    /// its queue is sent anyway; normally its first message comes sooner and the
    /// queue follows that message's answer (see ``StationConnection``).
    private let firstMessageGrace: Duration
    private let logger: Logger
    /// `ocpp_gateway_commands_total` by action and outcome.
    private let outcomes: LabeledCounters
    private let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    init(
        stationID: Int64, gatewayID: String, store: any OutboundStore, callTimeout: Duration,
        registration: RegistrationStatus, outcomes: LabeledCounters, firstMessageGrace: Duration = .seconds(2),
        logger: Logger
    ) {
        self.firstMessageGrace = firstMessageGrace
        self.outcomes = outcomes
        self.stationID = stationID
        self.gatewayID = gatewayID
        self.store = store
        self.callTimeout = callTimeout
        self.initialRegistration = registration
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream()
    }

    /// Queues an event; returns at once.
    func post(_ event: Event) {
        continuation.yield(event)
        if case .closed = event { continuation.finish() }
    }

    /// Handles events until the connection closes. `send` writes a frame and returns
    /// false when the connection is closing and nothing was written.
    func run(send: @Sendable (String) async -> Bool) async {
        var accepted = initialRegistration == .accepted
        var outstanding: Outstanding?
        // Wakes the loop when a command queued with a later `not_before` is due.
        var dueTimer: Task<Void, Never>?
        defer { dueTimer?.cancel() }
        // A station that has just connected first boots or reports; a command in the
        // middle of that (a Reset before BootNotification.conf) helps nobody.
        let graceWake = Task { [firstMessageGrace] in
            try? await Task.sleep(for: firstMessageGrace)
            if !Task.isCancelled { self.post(.wake) }
        }
        defer { graceWake.cancel() }
        for await event in events {
            switch event {
            case .wake:
                break
            case .registration(let status):
                accepted = status == .accepted
            case .result(let result):
                guard let call = take(&outstanding, answering: result.messageID) else { continue }
                await record(result, of: call)
            case .error(let error):
                guard let call = take(&outstanding, answering: error.messageID) else { continue }
                logger.notice("\(call.action.rawValue) answered with \(error.errorCode.rawValue)")
                outcomes(call.action.rawValue, "failed").increment()
                await write("CALLERROR") {
                    try await store.failed(
                        messageID: call.messageID, code: error.errorCode.rawValue,
                        description: error.errorDescription)
                }
            case .timeout(let messageID):
                guard outstanding?.messageID == messageID, let call = outstanding else { continue }
                outstanding = nil
                logger.notice("\(call.action.rawValue) \(messageID) timed out")
                outcomes(call.action.rawValue, "timed_out").increment()
                await write("timeout") { try await store.timedOut(messageID: messageID) }
            case .closed:
                // The answer can no longer arrive; the CALL is never sent again (a
                // Reset must not happen twice). The rest of the queue stays pending.
                if let call = outstanding {
                    call.timer.cancel()
                    outcomes(call.action.rawValue, "timed_out").increment()
                    await write("timeout at close") { try await store.timedOut(messageID: call.messageID) }
                }
                return
            }
            guard accepted, outstanding == nil else { continue }
            outstanding = await sendNext(send: send)
            if outstanding == nil {
                dueTimer?.cancel()
                dueTimer = await wakeWhenDue()
            }
        }
    }

    /// The outstanding CALL if `messageID` answers it, now no longer outstanding.
    private func take(_ outstanding: inout Outstanding?, answering messageID: String) -> Outstanding? {
        guard let call = outstanding, call.messageID == messageID else {
            logger.notice("answer to unknown message \(messageID) ignored")
            return nil
        }
        call.timer.cancel()
        outstanding = nil
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
    /// failed and skipped. Nil when nothing was sent.
    private func sendNext(send: @Sendable (String) async -> Bool) async -> Outstanding? {
        while true {
            let claimed: ClaimedCommand?
            do {
                claimed = try await store.claimNext(stationID: stationID, gatewayID: gatewayID)
            } catch {
                // The next wake-up (an answer, a NOTIFY, the LISTEN reconnect after an
                // outage) tries again.
                logger.warning("could not claim a queued command: \(String(reflecting: error))")
                return nil
            }
            guard let claimed else { return nil }
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
                return nil
            }
            let timer = Task { [continuation, callTimeout] in
                guard (try? await Task.sleep(for: callTimeout)) != nil else { return }
                continuation.yield(.timeout(messageID: claimed.messageID))
            }
            logger.debug("sent \(command.action.rawValue) \(claimed.messageID)")
            outcomes(command.action.rawValue, "sent").increment()
            return Outstanding(messageID: claimed.messageID, action: command.action, timer: timer)
        }
    }

    /// A timer that wakes the loop when the next command queued for later is due.
    private func wakeWhenDue() async -> Task<Void, Never>? {
        let delay: Duration?
        do {
            delay = try await store.nextDue(stationID: stationID)
        } catch {
            logger.warning("could not read when the next command is due: \(String(reflecting: error))")
            return nil
        }
        guard let delay else { return nil }
        return Task { [continuation] in
            guard (try? await Task.sleep(for: max(delay, .zero))) != nil else { return }
            continuation.yield(.wake)
        }
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
