import CoreMetrics
import Foundation
import Logging
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

    func answer(_ call: Call, request: StationRequest, receivedAt: Date) async -> Outcome {
        let action = request.action
        do {
            let prepared = try await dependencies.calls.prepare(request, station: station, receivedAt: receivedAt)
            // The request is journaled as read (canonical JSON: UTC date-times, quirks
            // normalized), so that the worker can apply whatever was acknowledged.
            let row = StationCallRow(
                request: request, stationID: station.stationID, receivedAt: receivedAt,
                messageID: call.messageID, prepared: prepared)
            // Valid JSON, but PostgreSQL's JSON types cannot hold it: a retry would
            // fail the same way, so this is the station's error, not ours.
            guard !row.payloadHoldsNUL else {
                dependencies.metrics.message(action.rawValue, outcome: "error")
                return .refused(
                    CallError(
                        messageID: call.messageID, errorCode: .propertyConstraintViolation,
                        errorDescription: "a string in the payload holds U+0000, which cannot be stored"))
            }
            let outcome = try await dependencies.ingest.submit(.call(row))
            // The frame around the bytes the row was written with (or, for a
            // retransmission, the stored answer): nothing is encoded again here.
            guard let callResult = outcome.callResult else { throw IngestStatementError(reason: "no CALLRESULT") }
            dependencies.metrics.message(action.rawValue, outcome: outcome.isDuplicate ? "duplicate" : "accepted")
            return .answered(
                callResult,
                registration: outcome.isDuplicate ? nil : prepared.registrationStatus,
                stationTime: prepared.stationTime)
        } catch {
            // Nothing was acknowledged: the station retries (OCPP 1.6 section 3.7).
            logger.error("\(action.rawValue) not stored: \(String(reflecting: error))")
            dependencies.metrics.message(action.rawValue, outcome: "error")
            return .refused(
                CallError(
                    messageID: call.messageID, errorCode: .internalError,
                    errorDescription: "the message could not be stored; retry later"))
        }
    }
}
