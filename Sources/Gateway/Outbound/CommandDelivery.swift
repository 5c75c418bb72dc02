import CoreMetrics
import Logging
import OCPP
import Shared

/// The database steps of delivering one station's queued commands (invariant 7):
/// claim the next, record how each ended, put back one that never left. Which step
/// runs when is decided by the connection's ``StationSessionStateMachine``; each
/// step here runs in a short task of its own and returns what the machine is told.
///
/// Every final state is written only over a row that is still `sent` (see
/// ``OutboundStore``), so a late answer cannot overwrite a timeout.
struct CommandDelivery: Sendable {
    let stationID: Int64
    let gatewayID: String
    let store: any OutboundStore
    /// `ocpp_gateway_commands_total` by action and outcome.
    let outcomes: LabeledCounters
    let logger: Logger
    /// How long one database attempt may take before it is given up and, for a
    /// write, tried again: a claim or a write that never returns would hold this
    /// station's queue for as long as the connection lives (the machine waits for
    /// it in `claiming` or `recording`). See ``DatabaseAttempt``.
    var attemptTimeout = DatabaseAttempt.defaultTimeout

    /// What a claim came to.
    enum Claim: Sendable {
        /// A command fit to send, and its CALL frame.
        case command(StationSessionStateMachine.ServerCall, frame: [UInt8])
        /// The claimed command was not fit to send (it was queued from SQL, which
        /// cannot check the action's schema) and is now marked failed.
        case unfit
        case nothingDue(nextDueIn: Duration?)
        /// The database could not be reached.
        case failed
    }

    /// Claims the station's oldest due command and makes its frame.
    func claimNext() async -> Claim {
        let outcome: ClaimOutcome
        do {
            outcome = try await DatabaseAttempt.run(timeout: attemptTimeout) { [store, stationID, gatewayID] in
                try await store.claimNext(stationID: stationID, gatewayID: gatewayID)
            }
        } catch {
            // The next wake-up (an answer, a NOTIFY, the LISTEN reconnect after an
            // outage) tries again.
            logger.warning("could not claim a queued command: \(String(reflecting: error))")
            return .failed
        }
        switch outcome {
        case .nothingDue(let nextDueIn):
            return .nothingDue(nextDueIn: nextDueIn)
        case .claimed(let claimed):
            do {
                let command = try Self.validate(claimed)
                let frame = OCPPFrame.call(
                    Call(messageID: claimed.messageID, action: command.action.rawValue, payload: command.payload)
                ).bytes
                outcomes(command.action.rawValue, "sent").increment()
                logger.debug("sending \(command.action.rawValue) \(claimed.messageID)")
                return .command(.init(messageID: claimed.messageID, action: command.action), frame: frame)
            } catch {
                logger.warning("queued command \(claimed.messageID) is not fit to send: \(error)")
                outcomes(claimed.action, "rejected").increment()
                await write("rejection") {
                    try await store.reject(
                        messageID: claimed.messageID, code: error.code.rawValue, description: Self.reason(error))
                }
                return .unfit
            }
        }
    }

    /// Puts a claimed command back: the connection closed before it was written.
    func release(messageID: String) async {
        await write("release") { try await store.release(messageID: messageID) }
    }

    /// Records how a server CALL ended.
    func record(
        _ call: StationSessionStateMachine.ServerCall, _ outcome: StationSessionStateMachine.CommandOutcome
    )
        async
    {
        switch outcome {
        case .answered(let result):
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
        case .failed(let error):
            logger.notice("\(call.action.rawValue) answered with \(error.errorCode.rawValue)")
            outcomes(call.action.rawValue, "failed").increment()
            await write("CALLERROR") {
                try await store.failed(
                    messageID: call.messageID, code: error.errorCode.rawValue, description: error.errorDescription)
            }
        case .timedOut:
            logger.notice("\(call.action.rawValue) \(call.messageID) timed out")
            outcomes(call.action.rawValue, "timed_out").increment()
            await write("timeout") { try await store.timedOut(messageID: call.messageID) }
        case .connectionEnded:
            outcomes(call.action.rawValue, "timed_out").increment()
            await write("timeout at close") { try await store.timedOut(messageID: call.messageID) }
        }
    }

    /// The stored command as the gateway will send it.
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
    /// database failover or a pool reconnect. This station's queue waits meanwhile
    /// (nothing else can be claimed without the database either).
    static let writeRetryDelays: [Duration] = [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8)]

    /// Runs a queue update, retried while the database is unreachable. If it still
    /// fails the row stays `sent`; the worker's command-expiry job closes such rows
    /// as timed out after the longest call timeout (sql/0008_abandoned_calls.sql).
    private func write(_ what: String, _ update: @escaping @Sendable () async throws -> Void) async {
        for delay in Self.writeRetryDelays + [nil] {
            do {
                try await DatabaseAttempt.run(timeout: attemptTimeout, update)
                return
            } catch {
                guard let delay, !Task.isCancelled else {
                    logger.error("\(what) not recorded, left to the worker's expiry: \(String(reflecting: error))")
                    return
                }
                logger.warning("\(what) not recorded yet, retrying in \(delay): \(String(reflecting: error))")
                try? await Task.sleep(for: delay)
            }
        }
    }
}
