import CoreMetrics
import Foundation
import Logging
import NIOWebSocket
import OCPP
import Shared
import Synchronization

/// One station's live WebSocket: handles its frames, answers its CALLs after their
/// work rows are committed, and closes on request (takeover, shutdown) without
/// cutting off a CALL in flight.
///
/// An actor, because its frames, a takeover notice and shutdown reach it from
/// different tasks. Frames are handled one at a time (the socket hands over the
/// next only when one is done), as OCPP-J has the station wait for each answer
/// before its next CALL. Queued commands go the other way through its
/// ``OutboundDispatcher``, which gets the station's answers from here.
actor StationConnection {
    let station: StationContext
    let sessionID: UUID
    private var registration: RegistrationStatus
    private let socket: StationSocket
    private let dependencies: ConnectionDependencies
    private let logger: Logger
    private let dispatcher: OutboundDispatcher
    /// How this station's payloads are read: its own validation mode, else the gateway's.
    private let decodingOptions: DecodingOptions

    private var isHandlingFrame = false
    /// A close asked for while a frame was being handled, carried out after it.
    private var pendingClose: (code: WebSocketErrorCode, reason: String)?
    private var isClosed = false
    /// Whether a CALL of the station has been answered on this connection: the
    /// queue waits for the first (``OutboundDispatcher``).
    private var hasAnsweredACall = false
    private var hasReportedClockOffset = false

    /// How long a newly connected, already Accepted station may stay silent before
    /// its queue is sent anyway; normally its first message comes sooner and the
    /// queue follows that message's answer.
    static let firstMessageGrace = Duration.seconds(2)

    init(
        station: StationContext, sessionID: UUID, registration: RegistrationStatus, socket: StationSocket,
        dependencies: ConnectionDependencies, logger: Logger
    ) {
        self.station = station
        self.sessionID = sessionID
        self.registration = registration
        self.socket = socket
        self.dependencies = dependencies
        self.logger = logger
        var decodingOptions = dependencies.decodingOptions
        if let mode = station.validationMode { decodingOptions.mode = mode }
        self.decodingOptions = decodingOptions
        let writer = ServerCallWriter()
        dispatcher = OutboundDispatcher(
            stationID: station.stationID, gatewayID: dependencies.gatewayID, store: dependencies.outbound,
            callTimeout: dependencies.callTimeout, registration: registration,
            outcomes: dependencies.metrics.commands, logger: logger, send: writer.write)
        writer.attach(self)
    }

    // MARK: Frames

    /// Handles one text frame; returns when it is answered (or needs no answer).
    func handle(text: String) async {
        guard !isClosed else { return }
        isHandlingFrame = true
        defer { isHandlingFrame = false }
        let receivedAt = Date()

        let frame: OCPPFrame
        do {
            frame = try OCPPFrame.decode(text.utf8)
        } catch {
            dependencies.metrics.invalidFrames.increment()
            logger.notice("invalid frame: \(error)")
            if let reply = error.reply { await send(callError: reply) }
            await closeIfRequested()
            return
        }
        switch frame {
        case .call(let call):
            await handle(call, receivedAt: receivedAt)
        case .callResult(let result):
            dispatcher.post(.result(result))
        case .callError(let error):
            dispatcher.post(.error(error))
        }
        await closeIfRequested()
    }

    private func handle(_ call: Call, receivedAt: Date) async {
        let request: StationRequest
        do {
            request = try call.decodeStationRequest(options: decodingOptions)
        } catch {
            logger.notice("refused \(OCPPAction(rawValue: call.action)?.rawValue ?? "unknown action"): \(error)")
            dependencies.metrics.message(OCPPAction(rawValue: call.action)?.rawValue ?? "unknown", outcome: "error")
            await send(callError: CallError(messageID: call.messageID, validationError: error))
            return
        }
        let action = request.action
        // OCPP 1.6 section 4.2.1: until its BootNotification is accepted a station
        // may send nothing else. The answer follows OCPP 2.0.1's rule (B02.FR.09).
        guard registration == .accepted || action == .bootNotification else {
            await refuse(
                call, action: action, code: .securityError,
                description: "the charge point is not accepted: send BootNotification first")
            return
        }

        do {
            let prepared = try await dependencies.calls.prepare(request, station: station, receivedAt: receivedAt)
            // The request is journaled as read (canonical JSON: UTC date-times, quirks
            // normalized), so that the worker can apply whatever was acknowledged.
            let row = StationCallRow(
                request: request.request, stationID: station.stationID, receivedAt: receivedAt,
                messageID: call.messageID,
                prepared: prepared)
            // Valid JSON, but PostgreSQL's JSON types cannot hold it: a retry would
            // fail the same way, so this is the station's error, not ours.
            guard !row.payloadHoldsNUL else {
                await refuse(
                    call, action: action, code: .propertyConstraintViolation,
                    description: "a string in the payload holds U+0000, which cannot be stored")
                return
            }
            let outcome = try await dependencies.ingest.submit(.call(row))
            if let status = prepared.registrationStatus, !outcome.isDuplicate { registration = status }
            // The frame around the bytes the row was written with (or, for a
            // retransmission, the stored answer): nothing is encoded again here.
            guard let callResult = outcome.callResult else { throw IngestStatementError(reason: "no CALLRESULT") }
            await send(callResult)
            // Told after the answer is written, so that a command never overtakes the
            // BootNotification.conf that accepts the station.
            if prepared.registrationStatus != nil { dispatcher.post(.registration(registration)) }
            if !hasAnsweredACall {
                hasAnsweredACall = true
                dispatcher.post(.wake)
            }
            dependencies.metrics.message(action.rawValue, outcome: outcome.isDuplicate ? "duplicate" : "accepted")
            if let stationTime = prepared.stationTime { track(stationTime: stationTime, receivedAt: receivedAt) }
        } catch {
            // Nothing was acknowledged: the station retries (OCPP 1.6 section 3.7).
            logger.error("\(action.rawValue) not stored: \(String(reflecting: error))")
            await refuse(
                call, action: action, code: .internalError, description: "the message could not be stored; retry later")
        }
    }

    /// Answers a CALL with a CALLERROR, counted as an error of its action.
    private func refuse(_ call: Call, action: OCPPAction, code: OCPPErrorCode, description: String) async {
        dependencies.metrics.message(action.rawValue, outcome: "error")
        await send(callError: CallError(messageID: call.messageID, errorCode: code, errorDescription: description))
    }

    // MARK: Queued commands

    /// Starts delivering queued commands: after the answer to the station's first
    /// message (see ``handle(text:)``), or after ``firstMessageGrace`` if it says
    /// nothing.
    nonisolated func startOutbound() {
        socket.schedule(after: Self.firstMessageGrace) { [dispatcher] in dispatcher.post(.graceElapsed) }
    }

    /// Asks for the station's due commands to be looked for (a NOTIFY came).
    nonisolated func deliverOutbound() {
        dispatcher.post(.wake)
    }

    /// The socket is gone: a CALL awaiting its answer times out now.
    nonisolated func connectionEnded() {
        dispatcher.post(.closed)
    }

    /// Writes a server CALL; false when the connection is closing and nothing was
    /// written, so the command can wait for the next connection.
    fileprivate func write(serverCall text: String) async -> Bool {
        guard !isClosed, pendingClose == nil else { return false }
        do {
            try await socket.write(text: text)
        } catch {
            // Perhaps written: the CALL stays outstanding and times out, never resent.
            logger.debug("write failed: \(error)")
        }
        return true
    }

    // MARK: Closing

    /// Closes the connection, after the frame being handled (if any) is answered.
    func close(code: WebSocketErrorCode, reason: String) async {
        if isHandlingFrame {
            pendingClose = (code, reason)
        } else {
            await closeNow(code: code, reason: reason)
        }
    }

    private func closeIfRequested() async {
        if let pendingClose {
            self.pendingClose = nil
            await closeNow(code: pendingClose.code, reason: pendingClose.reason)
        }
    }

    private func closeNow(code: WebSocketErrorCode, reason: String) async {
        guard !isClosed else { return }
        isClosed = true
        await socket.close(code: code, reason: reason)
    }

    // MARK: Helpers

    private func send(callError: CallError) async {
        dependencies.metrics.callError(callError.errorCode)
        await send(OCPPFrame.encodeCallError(callError))
    }

    private func send(_ bytes: [UInt8]) async {
        do {
            try await socket.write(utf8: bytes)
        } catch {
            logger.debug("write failed: \(error)")
        }
    }

    /// The station's clock minus ours, as a metric and (written every few seconds by
    /// ``ClockOffsetWriter``) on its session row; logged once per connection when
    /// it is over a minute.
    private func track(stationTime: Date, receivedAt: Date) {
        let offset = stationTime.timeIntervalSince(receivedAt)
        dependencies.metrics.clockOffset.record(offset)
        dependencies.clockOffsets.note(
            stationID: station.stationID, sessionID: sessionID, milliseconds: Int64((offset * 1000).rounded()))
        if abs(offset) > 60, !hasReportedClockOffset {
            hasReportedClockOffset = true
            logger.notice("station clock is off by \(Int(offset)) s")
        }
    }
}

/// Where a connection's dispatcher writes its CALLs: the connection, once both
/// exist, held weakly so that the dispatcher does not keep it alive.
private final class ServerCallWriter: Sendable {
    private struct Target {
        weak var connection: StationConnection?
    }

    private let target = Mutex(Target())

    func attach(_ connection: StationConnection) {
        target.withLock { $0.connection = connection }
    }

    @Sendable func write(_ text: String) async -> Bool {
        guard let connection = target.withLock({ $0.connection }) else { return false }
        return await connection.write(serverCall: text)
    }
}
