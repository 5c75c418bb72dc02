import CoreMetrics
import Foundation
import Logging
import NIOCore
import OCPP
import Shared

/// The database step of a station's CALL: prepare the answer (``CallHandler``),
/// make the work row durable (``IngestWriter``), and hand back the CALLRESULT to
/// send, which may go out only now (invariant 1: acknowledge after commit).
struct CallDispatch: Sendable {
    let station: StationContext
    let sessionID: UUID
    let dependencies: ConnectionDependencies
    /// How this station's payloads are read: its own validation mode, else the gateway's.
    let decodingOptions: DecodingOptions
    let logger: Logger

    var clockOffsets: ClockOffsetLog { dependencies.clockOffsets }

    enum Outcome: Sendable {
        /// Committed: the CALLRESULT frame, the registration a BootNotification
        /// gave, and the message's own timestamp.
        case answered([UInt8], registration: RegistrationStatus?, stationTime: Date?)
        /// Not acknowledged: the CALLERROR to answer instead.
        case refused(CallError)
    }

    /// Answers `call` without a task when its answer needs no database read:
    /// `completion` gets the outcome on `eventLoop` once the row is committed (or at
    /// once, for a payload that cannot be stored). False when the answer needs a
    /// read; then the caller uses ``answer(_:request:receivedAt:)``.
    func answerAtOnce(
        _ call: Call, request: StationRequest, receivedAt: Date, on eventLoop: any EventLoop,
        completion: @escaping @Sendable (Outcome) -> Void
    ) -> Bool {
        let prepared: PreparedCall
        do {
            guard let answer = try dependencies.calls.prepareAtOnce(request, station: station, receivedAt: receivedAt)
            else { return false }
            prepared = answer
        } catch {
            completion(notStored(call, action: request.action, error))
            return true
        }
        do {
            let row = try row(of: call, request: request, receivedAt: receivedAt, prepared: prepared)
            dependencies.ingest.submit(.call(row), on: eventLoop) { [self] result in
                completion(outcome(of: call, action: request.action, prepared: prepared, result: result))
            }
        } catch {
            completion(.refused(error.reply))
        }
        return true
    }

    func answer(_ call: Call, request: StationRequest, receivedAt: Date) async -> Outcome {
        let prepared: PreparedCall
        do {
            prepared = try await dependencies.calls.prepare(request, station: station, receivedAt: receivedAt)
        } catch {
            return notStored(call, action: request.action, error)
        }
        let row: StationCallRow
        do {
            row = try self.row(of: call, request: request, receivedAt: receivedAt, prepared: prepared)
        } catch {
            return .refused(error.reply)
        }
        let result: Result<IngestOutcome, any Error>
        do {
            result = .success(try await dependencies.ingest.submit(.call(row)))
        } catch {
            result = .failure(error)
        }
        return outcome(of: call, action: request.action, prepared: prepared, result: result)
    }

    /// The journal row of `call`, or the CALLERROR for a payload that cannot be stored.
    private func row(
        of call: Call, request: StationRequest, receivedAt: Date, prepared: PreparedCall
    ) throws(UnstorablePayload) -> StationCallRow {
        // The request is journaled as read (canonical JSON: UTC date-times, quirks
        // normalized), so that the worker can apply whatever was acknowledged.
        let row = StationCallRow(
            request: request, stationID: station.stationID, receivedAt: receivedAt, messageID: call.messageID,
            prepared: prepared)
        // Valid JSON, but PostgreSQL's JSON types cannot hold it: a retry would
        // fail the same way, so this is the station's error, not ours.
        guard !row.payloadHoldsNUL else {
            dependencies.metrics.message(request.action.rawValue, outcome: "error")
            throw UnstorablePayload(
                reply: CallError(
                    messageID: call.messageID, errorCode: .propertyConstraintViolation,
                    errorDescription: "a string in the payload holds U+0000, which cannot be stored"))
        }
        return row
    }

    /// A payload PostgreSQL cannot hold, and the CALLERROR it is answered with.
    private struct UnstorablePayload: Error {
        var reply: CallError
    }

    /// What the station is sent once the ingest writer has answered.
    private func outcome(
        of call: Call, action: OCPPAction, prepared: PreparedCall, result: Result<IngestOutcome, any Error>
    ) -> Outcome {
        let outcome: IngestOutcome
        switch result {
        case .success(let committed): outcome = committed
        case .failure(let error): return notStored(call, action: action, error)
        }
        // The frame around the bytes the row was written with (or, for a
        // retransmission, the stored answer): nothing is encoded again here.
        guard let callResult = outcome.callResult else {
            return notStored(call, action: action, IngestStatementError(reason: "no CALLRESULT"))
        }
        dependencies.metrics.message(action.rawValue, outcome: outcome.isDuplicate ? "duplicate" : "accepted")
        return .answered(
            callResult, registration: outcome.isDuplicate ? nil : prepared.registrationStatus,
            stationTime: prepared.stationTime)
    }

    /// Nothing was acknowledged: the station retries (OCPP 1.6 section 3.7).
    private func notStored(_ call: Call, action: OCPPAction, _ error: any Error) -> Outcome {
        logger.error("\(action.rawValue) not stored: \(String(reflecting: error))")
        dependencies.metrics.message(action.rawValue, outcome: "error")
        return .refused(
            CallError(
                messageID: call.messageID, errorCode: .internalError,
                errorDescription: "the message could not be stored; retry later"))
    }
}
