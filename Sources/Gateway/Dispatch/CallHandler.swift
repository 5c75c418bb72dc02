import Foundation
import Logging
import NIOPosix
import OCPP
import PostgresNIO
import Shared

/// Turns a validated station CALL into the answer to send, before its work row is
/// written (the ingest writer sends the answer once the row is committed).
///
/// Every charge-point-initiated action of OCPP 1.6 and of the security whitepaper is
/// answered here. The handler decides only what the answer says; storing what the
/// station reported (boot details, statuses, meter values, transactions, data
/// transfers, security events, CSRs) is the work row's job, applied downstream by the
/// worker. The only reads are the registration status at boot and, under the strict
/// policy, id tags.
///
/// - Authorize: `idTagInfo` from the ``IdTagAuthorizing``.
/// - BootNotification: the station's stored registration status, read afresh at
///   each boot (an operator may have accepted a Pending station); `interval` is the
///   heartbeat interval when Accepted, else the boot retry interval; `currentTime`
///   the receive time.
/// - DataTransfer: `Accepted`. The central system has no vendor extensions of its
///   own; the message is kept in the inbox journal, where operators' tools read it.
///   Answering `UnknownVendorId` would make some chargers retry or raise alarms, and
///   `Accepted` is what the message's delivery deserves.
/// - Heartbeat: `currentTime` = the receive time.
/// - StartTransaction: `idTagInfo` from the authorizer; the value of `transactionId`
///   is left out of the encoded answer, and the batch statement puts in the id it
///   allocates for the content key (invariant 3; see ``EncodedResponse``).
/// - StopTransaction: `idTagInfo` only when the request carries an `idTag`. A stop
///   for a transaction this system does not know still gets this normal answer: an
///   error would make the charger resend it forever.
/// - SignCertificate: `Accepted` when the CSR passes ``CertificateRequestCheck``
///   (OCPP_CSR_ORGANIZATION set, CN = the identity, O = that organization, an allowed
///   key, a valid signature), else `Rejected`. Journaled either way: the worker checks
///   again, signs with the operator's CA and queues CertificateSigned, or records why
///   not in the station's events. The CA key never reaches the gateway.
/// - MeterValues, StatusNotification, DiagnosticsStatusNotification,
///   FirmwareStatusNotification, LogStatusNotification, SecurityEventNotification,
///   SignedFirmwareStatusNotification: the empty acknowledgement.
///
/// ``PreparedCall/stationTime`` is the message's own timestamp where it has one:
/// StatusNotification's (optional), Start/StopTransaction's, the newest of
/// MeterValues' meter values, SecurityEventNotification's.
struct CallHandler: Sendable {
    /// Seconds; BootNotification.conf's interval when Accepted.
    var heartbeatInterval: Int
    /// Seconds; BootNotification.conf's interval when Pending or Rejected.
    var bootRetryInterval: Int
    let authorizer: any IdTagAuthorizing
    let registrations: any RegistrationLookup
    /// Accepted boots a second across the gateway; nil: no limit.
    var bootBudget: SharedTokenBucket?
    /// How long a boot beyond the budget may wait for its turn, its answer held back.
    var bootMaxWait = Duration.seconds(5)
    /// Seconds; a boot the budget could not take within `bootMaxWait` retries after
    /// this ± 50 %.
    var stormRetryInterval = 10
    /// The checks of SignCertificate CSRs; nil (no OCPP_CSR_ORGANIZATION): signing is
    /// not offered, every request is Rejected.
    var certificateRequests: CertificateRequestCheck?

    init(
        heartbeatInterval: Int, bootRetryInterval: Int, authorizer: any IdTagAuthorizing,
        registrations: any RegistrationLookup
    ) {
        self.heartbeatInterval = heartbeatInterval
        self.bootRetryInterval = bootRetryInterval
        self.authorizer = authorizer
        self.registrations = registrations
    }

    init(settings: GatewaySettings, authorizer: any IdTagAuthorizing, registrations: any RegistrationLookup) {
        self.init(
            heartbeatInterval: settings.heartbeatInterval, bootRetryInterval: settings.bootRetryInterval,
            authorizer: authorizer, registrations: registrations)
        if settings.bootRate > 0 {
            bootBudget = SharedTokenBucket(rate: settings.bootRate, burst: settings.bootRate)
        }
        bootMaxWait = settings.bootMaxWait
        stormRetryInterval = settings.stormRetryInterval
        certificateRequests = settings.csrOrganization.map { CertificateRequestCheck(organization: $0) }
    }

    /// The production handler: the settings' intervals, an ``IdTagAuthorizer`` with
    /// the settings' policy and cache TTL, and registrations from `ocpp.stations`.
    init(settings: GatewaySettings, client: PostgresClient, logger: Logger) {
        self.init(
            settings: settings, authorizer: IdTagAuthorizer(settings: settings, client: client, logger: logger),
            registrations: PostgresRegistrationLookup(client: client, logger: logger))
    }

    /// The answer to `request`, received from `station` at `receivedAt`: one case per
    /// action a station sends (the decoder refused the others with NotSupported).
    ///
    /// Throws whatever a database read throws (the caller answers InternalError, and
    /// the station retries).
    func prepare(
        _ request: StationRequest, station: StationContext, receivedAt: Date
    ) async throws
        -> PreparedCall
    {
        switch try preparation(of: request, station: station, receivedAt: receivedAt) {
        case .ready(let prepared):
            return prepared
        case .authorize(let request):
            return try await authorize(request, station: station)
        case .bootNotification:
            return try await bootNotification(station: station, receivedAt: receivedAt)
        case .startTransaction(let request):
            return try await startTransaction(request, station: station)
        case .stopTransaction(let request, let idTag):
            return try await stopTransaction(request, idTag: idTag, station: station)
        }
    }

    /// The answer to `request` when it needs no database read, so that the
    /// connection's event loop answers it without a task; nil for Authorize,
    /// BootNotification, StartTransaction and a StopTransaction with an `idTag`, which
    /// read the id tag or the registration (``prepare(_:station:receivedAt:)``).
    func prepareAtOnce(
        _ request: StationRequest, station: StationContext, receivedAt: Date
    ) throws -> PreparedCall? {
        guard case .ready(let prepared) = try preparation(of: request, station: station, receivedAt: receivedAt)
        else { return nil }
        return prepared
    }

    /// What answering a request takes: the answer itself, or the read it waits for.
    private enum Preparation {
        case ready(PreparedCall)
        case authorize(AuthorizeRequest)
        case bootNotification
        case startTransaction(StartTransactionRequest)
        /// A StopTransaction with an `idTag`, whose status is answered.
        case stopTransaction(StopTransactionRequest, idTag: String)
    }

    private func preparation(
        of request: StationRequest, station: StationContext, receivedAt: Date
    ) throws -> Preparation {
        switch request {
        case .authorize(let request):
            return .authorize(request)
        case .bootNotification:
            return .bootNotification
        case .startTransaction(let request):
            return .startTransaction(request)
        case .stopTransaction(let request):
            guard let idTag = request.idTag else {
                return .ready(
                    PreparedCall(response: try Self.payload(StopTransactionResponse()), stationTime: request.timestamp))
            }
            return .stopTransaction(request, idTag: idTag)
        case .dataTransfer:
            return .ready(PreparedCall(response: try Self.payload(DataTransferResponse(status: .accepted))))
        case .heartbeat:
            return .ready(PreparedCall(response: try Self.payload(HeartbeatResponse(currentTime: receivedAt))))
        case .meterValues(let request):
            return .ready(try meterValues(request))
        case .statusNotification(let request):
            return .ready(try statusNotification(request))
        case .diagnosticsStatusNotification:
            return .ready(PreparedCall(response: try Self.payload(DiagnosticsStatusNotificationResponse())))
        case .firmwareStatusNotification:
            return .ready(PreparedCall(response: try Self.payload(FirmwareStatusNotificationResponse())))
        case .logStatusNotification:
            return .ready(PreparedCall(response: try Self.payload(LogStatusNotificationResponse())))
        case .securityEventNotification(let request):
            return .ready(try securityEventNotification(request))
        case .signCertificate(let request):
            return .ready(try signCertificate(request, station: station))
        case .signedFirmwareStatusNotification:
            return .ready(PreparedCall(response: try Self.payload(SignedFirmwareStatusNotificationResponse())))
        }
    }

    // MARK: Core

    private func authorize(_ request: AuthorizeRequest, station: StationContext) async throws -> PreparedCall {
        let idTagInfo = try await authorizer.authorize(request.idTag, station: station, purpose: .authorize)
        return PreparedCall(response: try Self.payload(AuthorizeResponse(idTagInfo: idTagInfo)))
    }

    private func bootNotification(station: StationContext, receivedAt: Date) async throws -> PreparedCall {
        var status = try await registrations.registrationStatus(of: station.stationID)
        var interval = status == .accepted ? heartbeatInterval : bootRetryInterval
        if status == .accepted, let bootBudget {
            // A reconnect storm. A boot waits for its turn, as long as the station
            // would hardly notice: answered a moment later it is Accepted, where a
            // Pending would keep it away for seconds while the gateway had room.
            if let turn = bootBudget.reserve(maximumWait: bootMaxWait) {
                if turn > .zero { try await NIOSingletons.posixEventLoopGroup.any().sleep(for: turn) }
            } else {
                // Far over the budget: come back soon, at a time of your own, so the
                // retries do not arrive together again.
                status = .pending
                interval = Int.random(in: max(1, stormRetryInterval / 2)...(stormRetryInterval * 3 / 2))
            }
        }
        let response = BootNotificationResponse(currentTime: receivedAt, interval: interval, status: status)
        return PreparedCall(response: try Self.payload(response), registrationStatus: status)
    }

    private func statusNotification(_ request: StatusNotificationRequest) throws -> PreparedCall {
        PreparedCall(response: try Self.payload(StatusNotificationResponse()), stationTime: request.timestamp)
    }

    private func meterValues(_ request: MeterValuesRequest) throws -> PreparedCall {
        // Meter values need not come in time order; the newest is the message's time.
        PreparedCall(
            response: try Self.payload(MeterValuesResponse()), stationTime: request.meterValue.map(\.timestamp).max())
    }

    private func startTransaction(
        _ request: StartTransactionRequest, station: StationContext
    ) async throws
        -> PreparedCall
    {
        let idTagInfo = try await authorizer.authorize(
            request.idTag, station: station, purpose: .startTransaction(connectorID: request.connectorId))
        // The decoder has bounded the connector id to 32 bits; checked again rather
        // than converted with a trapping initializer.
        guard let connectorID = Int32(exactly: request.connectorId) else {
            throw CallHandlerError.outOfRange(.startTransaction, "connectorId")
        }
        let key = TransactionStartKey(
            connectorID: connectorID, idTag: request.idTag, startedAt: request.timestamp,
            meterStart: request.meterStart)
        return PreparedCall(
            response: .transactionStart(idTagInfo: idTagInfo, key: key), stationTime: request.timestamp)
    }

    /// The `idTagInfo` of the StopTransaction's `idTag` (one without an idTag is
    /// answered at once, with the empty answer).
    private func stopTransaction(
        _ request: StopTransactionRequest, idTag: String, station: StationContext
    ) async throws
        -> PreparedCall
    {
        var response = StopTransactionResponse()
        response.idTagInfo = try await authorizer.authorize(idTag, station: station, purpose: .stopTransaction)
        return PreparedCall(response: try Self.payload(response), stationTime: request.timestamp)
    }

    // MARK: Security whitepaper

    private func signCertificate(_ request: SignCertificateRequest, station: StationContext) throws -> PreparedCall {
        var status = GenericStatus.rejected
        if let certificateRequests, case .success = certificateRequests.check(request.csr, identity: station.identity) {
            status = .accepted
        }
        return PreparedCall(response: try Self.payload(SignCertificateResponse(status: status)))
    }

    private func securityEventNotification(_ request: SecurityEventNotificationRequest) throws -> PreparedCall {
        PreparedCall(response: try Self.payload(SecurityEventNotificationResponse()), stationTime: request.timestamp)
    }

    // MARK: Helpers

    /// A typed response encoded once, as the CALLRESULT payload that is journaled
    /// and sent. The bytes go into the frame without being parsed again, so they are
    /// checked to be an object; throws (the station then gets InternalError and
    /// retries) where a trap would stop the gateway, though it cannot happen: a
    /// response always encodes as an object.
    static func payload(_ response: some OCPPResponse) throws -> EncodedResponse {
        let bytes = response.jsonBytes
        guard bytes.first == UInt8(ascii: "{") else {
            throw CallHandlerError.notAnObject(String(describing: type(of: response)))
        }
        return .complete(bytes)
    }
}

/// A request the handler cannot answer: a mistake of the caller, never of the
/// station.
enum CallHandlerError: Error, Equatable, CustomStringConvertible {
    /// A field outside the range its decoder checks.
    case outOfRange(OCPPAction, String)
    /// A response type that did not encode as a JSON object.
    case notAnObject(String)

    var description: String {
        switch self {
        case .outOfRange(let action, let field):
            "\(action.rawValue) \(field) is outside the range its decoder checks"
        case .notAnObject(let type):
            "\(type) did not encode as a JSON object"
        }
    }
}
