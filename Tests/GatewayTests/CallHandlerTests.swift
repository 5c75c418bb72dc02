import Foundation
import OCPP
import PostgresNIO
import Shared
import Synchronization
import TestSupport
import Testing

@testable import Gateway

/// The answers to every station-initiated CALL, with fakes for the database reads.
@Suite struct CallHandlerTests {
    static let station = StationContext(stationID: 42, identity: "CP-42")
    /// Whole milliseconds, as the wire carries them.
    static let receivedAt = Date(timeIntervalSince1970: 1_714_557_600)
    static let stationTime = Date(timeIntervalSince1970: 1_714_557_000)
    static let acceptedTag = IdTagInfo(
        status: .accepted, expiryDate: Date(timeIntervalSince1970: 1_800_000_000), parentIdTag: "FLEET-1")

    static let chargePointActions = OCPPAction.allCases.filter {
        $0.directions.contains(.chargePointToCentralSystem)
    }

    /// A valid request of `action` and the station time it carries.
    static func sample(_ action: OCPPAction) -> (request: any OCPPRequest, stationTime: Date?) {
        let meterValue = { (offset: TimeInterval) in
            MeterValue(
                timestamp: stationTime.addingTimeInterval(offset),
                sampledValue: [SampledValue(value: "1234", measurand: .energyActiveImportRegister, unit: .wh)])
        }
        switch action {
        case .authorize:
            return (AuthorizeRequest(idTag: "TAG-1"), nil)
        case .bootNotification:
            return (BootNotificationRequest(chargePointVendor: "Acme", chargePointModel: "Fast-50"), nil)
        case .dataTransfer:
            return (DataTransferRequest(vendorId: "com.acme", messageId: "Diag", data: "{\"a\":1}"), nil)
        case .heartbeat:
            return (HeartbeatRequest(), nil)
        case .meterValues:
            // The newest value in the middle: the station time is the newest, not the last.
            return (
                MeterValuesRequest(
                    connectorId: 1, meterValue: [meterValue(-60), meterValue(0), meterValue(-30)], transactionId: 7),
                stationTime
            )
        case .startTransaction:
            return (
                StartTransactionRequest(connectorId: 2, idTag: "TAG-1", meterStart: 1000, timestamp: stationTime),
                stationTime
            )
        case .statusNotification:
            return (
                StatusNotificationRequest(
                    connectorId: 1, errorCode: .noError, status: .charging, timestamp: stationTime),
                stationTime
            )
        case .stopTransaction:
            return (
                StopTransactionRequest(
                    transactionId: 7, meterStop: 5000, timestamp: stationTime, idTag: "TAG-1", reason: .local,
                    transactionData: [meterValue(-10)]),
                stationTime
            )
        case .diagnosticsStatusNotification:
            return (DiagnosticsStatusNotificationRequest(status: .uploaded), nil)
        case .firmwareStatusNotification:
            return (FirmwareStatusNotificationRequest(status: .installed), nil)
        case .logStatusNotification:
            return (LogStatusNotificationRequest(status: .uploaded, requestId: 3), nil)
        case .securityEventNotification:
            return (
                SecurityEventNotificationRequest(type: "FirmwareUpdated", timestamp: stationTime, techInfo: "v2"),
                stationTime
            )
        case .signCertificate:
            return (
                SignCertificateRequest(
                    csr: "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----"), nil
            )
        case .signedFirmwareStatusNotification:
            return (SignedFirmwareStatusNotificationRequest(status: .signatureVerified, requestId: 9), nil)
        default:
            fatalError("\(action.rawValue) is not sent by charge points")
        }
    }

    private static func makeHandler(
        registration: RegistrationStatus = .accepted, idTagInfo: IdTagInfo = acceptedTag
    ) -> (CallHandler, FakeAuthorizer, FakeRegistrations) {
        let authorizer = FakeAuthorizer(answer: idTagInfo)
        let registrations = FakeRegistrations(status: registration)
        let handler = CallHandler(
            heartbeatInterval: 300, bootRetryInterval: 60, authorizer: authorizer, registrations: registrations)
        return (handler, authorizer, registrations)
    }

    @Test func theSamplesCoverEveryChargePointAction() {
        #expect(Self.chargePointActions.count == 14)
        for action in Self.chargePointActions {
            #expect(type(of: Self.sample(action).request).action == action)
        }
    }

    @Test(arguments: chargePointActions)
    func everyActionGetsAStrictlyValidResponse(_ action: OCPPAction) async throws {
        let (handler, _, _) = Self.makeHandler()
        let (request, stationTime) = Self.sample(action)
        let prepared = try await handler.prepare(request, station: Self.station, receivedAt: Self.receivedAt)

        let response = try action.decodeResponse(prepared.response.json(), options: .strict)
        #expect(ObjectIdentifier(type(of: response)) == ObjectIdentifier(responseType(of: action.requestType)))
        // Framed as is, without parsing, the answer is the frame a typed encoding gives.
        let payload = try #require(prepared.response.payload(transactionID: 1))
        #expect(
            OCPPFrame.encodeCallResult(messageID: "m-1", payloadJSON: payload)
                == OCPPFrame.encodeCallResult(messageID: "m-1", payload: response))
        #expect(prepared.stationTime == stationTime)
        #expect((prepared.response.transactionStart != nil) == (action == .startTransaction))
        #expect((prepared.registrationStatus != nil) == (action == .bootNotification))
    }

    /// The event loop answers at once exactly the CALLs that need no read, and
    /// answers them as the step with reads would.
    @Test(arguments: chargePointActions)
    func onlyActionsWithoutAReadAreAnsweredAtOnce(_ action: OCPPAction) async throws {
        let (handler, authorizer, _) = Self.makeHandler()
        let request = try StationRequest(sending: Self.sample(action).request)
        let atOnce = try handler.prepareAtOnce(request, station: Self.station, receivedAt: Self.receivedAt)
        // The sample StopTransaction carries an idTag, whose status is read.
        let reads: Set<OCPPAction> = [.authorize, .bootNotification, .startTransaction, .stopTransaction]
        #expect((atOnce == nil) == reads.contains(action))
        #expect(authorizer.calls.isEmpty)
        guard let atOnce else { return }
        let prepared = try await handler.prepare(request, station: Self.station, receivedAt: Self.receivedAt)
        #expect(atOnce.response == prepared.response)
        #expect(atOnce.stationTime == prepared.stationTime)
        #expect(atOnce.registrationStatus == prepared.registrationStatus)
    }

    @Test func aStopTransactionWithoutAnIdTagIsAnsweredAtOnce() throws {
        let (handler, _, _) = Self.makeHandler()
        let stop = StopTransactionRequest(transactionId: 7, meterStop: 5000, timestamp: Self.stationTime)
        let prepared = try handler.prepareAtOnce(
            StationRequest(sending: stop), station: Self.station, receivedAt: Self.receivedAt)
        #expect(prepared?.stationTime == Self.stationTime)
        #expect(try prepared?.response.json() == [:])
    }

    @Test func authorizeAnswersWithTheAuthorizersIdTagInfo() async throws {
        let blocked = IdTagInfo(status: .blocked, parentIdTag: "FLEET-2")
        let (handler, authorizer, _) = Self.makeHandler(idTagInfo: blocked)
        let prepared = try await handler.prepare(
            AuthorizeRequest(idTag: "TAG-9"), station: Self.station, receivedAt: Self.receivedAt)
        let response = try AuthorizeResponse(json: prepared.response.json())
        #expect(response.idTagInfo == blocked)
        #expect(authorizer.calls == [.init(idTag: "TAG-9", station: Self.station, purpose: .authorize)])
    }

    @Test(arguments: [
        (RegistrationStatus.accepted, 300), (.pending, 60), (.rejected, 60),
    ])
    func bootNotificationAnswersTheStoredRegistration(_ status: RegistrationStatus, interval: Int) async throws {
        let (handler, _, registrations) = Self.makeHandler(registration: status)
        let prepared = try await handler.prepare(
            Self.sample(.bootNotification).request, station: Self.station, receivedAt: Self.receivedAt)
        let response = try BootNotificationResponse(json: prepared.response.json())
        #expect(response.status == status)
        #expect(response.interval == interval)
        #expect(abs(response.currentTime.timeIntervalSince(Self.receivedAt)) < 0.001)
        #expect(prepared.registrationStatus == status)
        #expect(registrations.lookups == [Self.station.stationID])
    }

    @Test func bootNotificationReadsTheRegistrationAtEveryBoot() async throws {
        let (handler, _, registrations) = Self.makeHandler(registration: .pending)
        let boot = Self.sample(.bootNotification).request
        let first = try await handler.prepare(boot, station: Self.station, receivedAt: Self.receivedAt)
        #expect(first.registrationStatus == .pending)
        // An operator accepts the station between two boots.
        registrations.status = .accepted
        let second = try await handler.prepare(boot, station: Self.station, receivedAt: Self.receivedAt)
        #expect(second.registrationStatus == .accepted)
        #expect(try BootNotificationResponse(json: second.response.json()).interval == 300)
        #expect(registrations.lookups.count == 2)
    }

    /// Over the boot budget, a boot first waits for its turn; only when that would take
    /// longer than `bootMaxWait` is it sent away Pending, for the storm retry interval.
    @Test func aBootOverTheBudgetWaitsForItsTurnThenIsSentAwayPending() async throws {
        var (handler, _, _) = Self.makeHandler()
        // One boot now, then one every 100 ms.
        handler.bootBudget = SharedTokenBucket(rate: 10, burst: 1)
        handler.bootMaxWait = .seconds(1)
        handler.stormRetryInterval = 10
        let boot = Self.sample(.bootNotification).request
        func status(of prepared: PreparedCall) throws -> (RegistrationStatus, Int) {
            let response = try BootNotificationResponse(json: prepared.response.json())
            return (response.status, response.interval)
        }
        #expect(
            try status(of: await handler.prepare(boot, station: Self.station, receivedAt: Self.receivedAt)) == (
                .accepted, 300
            ))
        let started = ContinuousClock.now
        #expect(
            try status(of: await handler.prepare(boot, station: Self.station, receivedAt: Self.receivedAt)) == (
                .accepted, 300
            ))
        // It waited for the token (a lower bound only: how long it took is no test).
        #expect(ContinuousClock.now - started >= .milliseconds(50))

        // The budget spent for the next second, and no waiting allowed.
        handler.bootBudget = SharedTokenBucket(rate: 1, burst: 1)
        #expect(handler.bootBudget?.take() == true)
        handler.bootMaxWait = .zero
        let (status, interval) = try status(
            of: await handler.prepare(boot, station: Self.station, receivedAt: Self.receivedAt))
        #expect(status == .pending)
        #expect((5...15).contains(interval))
    }

    @Test func heartbeatAnswersTheReceiveTime() async throws {
        let (handler, _, _) = Self.makeHandler()
        let prepared = try await handler.prepare(HeartbeatRequest(), station: Self.station, receivedAt: Self.receivedAt)
        let response = try HeartbeatResponse(json: prepared.response.json())
        #expect(abs(response.currentTime.timeIntervalSince(Self.receivedAt)) < 0.001)
        #expect(prepared.stationTime == nil)
    }

    @Test func startTransactionCarriesItsContentKeyAndLeavesTheIdToTheStatement() async throws {
        let (handler, authorizer, _) = Self.makeHandler()
        let request = StartTransactionRequest(
            connectorId: 2, idTag: "TAG-1", meterStart: 1000, timestamp: Self.stationTime, reservationId: 5)
        let prepared = try await handler.prepare(request, station: Self.station, receivedAt: Self.receivedAt)
        let response = try StartTransactionResponse(json: prepared.response.json(transactionID: 42))
        #expect(response.transactionId == 42)
        #expect(response.idTagInfo == Self.acceptedTag)
        // Completed with an id, the bytes are exactly the typed response's: what the
        // statement stores (head || id || tail) is what a typed encoding would send.
        #expect(
            prepared.response.payload(transactionID: 42)
                == StartTransactionResponse(idTagInfo: Self.acceptedTag, transactionId: 42).jsonBytes)
        #expect(prepared.response.payload(transactionID: nil) == nil)
        #expect(
            prepared.response.transactionStart
                == TransactionStartKey(connectorID: 2, idTag: "TAG-1", startedAt: Self.stationTime, meterStart: 1000))
        #expect(prepared.stationTime == Self.stationTime)
        #expect(
            authorizer.calls == [
                .init(idTag: "TAG-1", station: Self.station, purpose: .startTransaction(connectorID: 2))
            ])
    }

    @Test func stopTransactionWithAnIdTagAnswersItsStatus() async throws {
        let expired = IdTagInfo(status: .expired, expiryDate: Date(timeIntervalSince1970: 1_700_000_000))
        let (handler, authorizer, _) = Self.makeHandler(idTagInfo: expired)
        let prepared = try await handler.prepare(
            Self.sample(.stopTransaction).request, station: Self.station, receivedAt: Self.receivedAt)
        #expect(try StopTransactionResponse(json: prepared.response.json()).idTagInfo == expired)
        #expect(authorizer.calls == [.init(idTag: "TAG-1", station: Self.station, purpose: .stopTransaction)])
        #expect(prepared.response.transactionStart == nil)
    }

    @Test func stopTransactionWithoutAnIdTagAnswersNoIdTagInfo() async throws {
        let (handler, authorizer, _) = Self.makeHandler()
        // Transaction 999 is unknown here as anywhere: the answer is the normal one.
        let request = StopTransactionRequest(transactionId: 999, meterStop: 10, timestamp: Self.stationTime)
        let prepared = try await handler.prepare(request, station: Self.station, receivedAt: Self.receivedAt)
        #expect(prepared.response == .complete(Array("{}".utf8)))
        #expect(try StopTransactionResponse(json: prepared.response.json()).idTagInfo == nil)
        #expect(authorizer.calls.isEmpty)
        #expect(prepared.stationTime == Self.stationTime)
    }

    @Test func statusNotificationWithoutTimestampHasNoStationTime() async throws {
        let (handler, _, _) = Self.makeHandler()
        let request = StatusNotificationRequest(connectorId: 0, errorCode: .noError, status: .available)
        let prepared = try await handler.prepare(request, station: Self.station, receivedAt: Self.receivedAt)
        #expect(prepared.stationTime == nil)
        #expect(prepared.response == .complete(Array("{}".utf8)))
    }

    @Test func dataTransferIsAccepted() async throws {
        let (handler, _, _) = Self.makeHandler()
        let dataTransfer = try await handler.prepare(
            Self.sample(.dataTransfer).request, station: Self.station, receivedAt: Self.receivedAt)
        #expect(
            try DataTransferResponse(json: dataTransfer.response.json()) == DataTransferResponse(status: .accepted))
    }

    /// SignCertificate is Accepted only with OCPP_CSR_ORGANIZATION set and a CSR that
    /// passes ``CertificateRequestCheck`` for the station's identity.
    @Test func signCertificateIsAcceptedOnlyForACSRThatPassesTheChecks() async throws {
        func status(_ csr: String, organization: String? = TestCertificates.organization) async throws -> GenericStatus
        {
            var (handler, _, _) = Self.makeHandler()
            handler.certificateRequests = organization.map { CertificateRequestCheck(organization: $0) }
            let prepared = try await handler.prepare(
                SignCertificateRequest(csr: csr), station: Self.station, receivedAt: Self.receivedAt)
            return try SignCertificateResponse(json: prepared.response.json()).status
        }
        let good = try TestCertificates.csr(commonName: Self.station.identity)
        #expect(try await status(good) == .accepted)
        #expect(try await status(good, organization: nil) == .rejected)
        #expect(try await status(good, organization: "Other CPO") == .rejected)
        #expect(try await status(try TestCertificates.csr(commonName: "CP-43")) == .rejected)
        #expect(try await status(try TestCertificates.csr(commonName: Self.station.identity, key: .p521)) == .rejected)
        #expect(try await status(try TestCertificates.alteringSignature(of: good)) == .rejected)
        #expect(
            try await status("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----")
                == .rejected)
    }

    @Test func authorizerFailuresPropagate() async throws {
        let registrations = FakeRegistrations(status: .accepted)
        let handler = CallHandler(
            heartbeatInterval: 300, bootRetryInterval: 60, authorizer: FailingAuthorizer(),
            registrations: registrations)
        await #expect(throws: FailingAuthorizer.Failure.self) {
            _ = try await handler.prepare(
                AuthorizeRequest(idTag: "TAG-1"), station: Self.station, receivedAt: Self.receivedAt)
        }
    }

    /// Central-system-initiated requests, with a valid payload each.
    static let centralSystemRequests: [(OCPPAction, JSONValue)] = [
        (.reset, ["type": "Hard"]),
        (.clearCache, [:]),
        (.getLocalListVersion, [:]),
        (.remoteStopTransaction, ["transactionId": 1]),
        (.triggerMessage, ["requestedMessage": "Heartbeat"]),
        (.getConfiguration, [:]),
        (.certificateSigned, ["certificateChain": "-----BEGIN CERTIFICATE-----"]),
    ]

    @Test(arguments: centralSystemRequests)
    func centralSystemActionsAreRefusedWithAnError(_ action: OCPPAction, payload: JSONValue) async throws {
        let request = try action.decodeRequest(payload)
        let (handler, authorizer, registrations) = Self.makeHandler()
        // The decoder refuses them (NotSupported) before the handler: there is no
        // station request of a central-system action.
        await #expect(throws: ValidationError(.notSupported, "\(action.rawValue) is not accepted in this direction")) {
            _ = try await handler.prepare(request, station: Self.station, receivedAt: Self.receivedAt)
        }
        #expect(authorizer.calls.isEmpty)
        #expect(registrations.lookups.isEmpty)
    }

    @Test func handlerTakesTheSettingsIntervals() {
        let database = PostgresClient.Configuration(
            host: "localhost", username: "ocpp", password: nil, database: "ocpp", tls: .disable)
        var settings = GatewaySettings(gatewayID: "gw-test", database: database)
        settings.heartbeatInterval = 900
        settings.bootRetryInterval = 15
        let handler = CallHandler(
            settings: settings, authorizer: FakeAuthorizer(answer: Self.acceptedTag),
            registrations: FakeRegistrations(status: .accepted))
        #expect(handler.heartbeatInterval == 900)
        #expect(handler.bootRetryInterval == 15)
    }
}

private func responseType<Request: OCPPRequest>(of _: Request.Type) -> any OCPPResponse.Type {
    Request.Response.self
}

// MARK: - Fakes

private final class FakeAuthorizer: IdTagAuthorizing {
    struct Invocation: Equatable {
        var idTag: String
        var station: StationContext
        var purpose: AuthorizationPurpose
    }

    let answer: IdTagInfo
    private let recorded = Mutex<[Invocation]>([])

    init(answer: IdTagInfo) {
        self.answer = answer
    }

    var calls: [Invocation] { recorded.withLock { $0 } }

    func authorize(
        _ idTag: String, station: StationContext, purpose: AuthorizationPurpose
    ) async throws
        -> IdTagInfo
    {
        recorded.withLock { $0.append(Invocation(idTag: idTag, station: station, purpose: purpose)) }
        return answer
    }
}

private struct FailingAuthorizer: IdTagAuthorizing {
    struct Failure: Error {}

    func authorize(
        _ idTag: String, station: StationContext, purpose: AuthorizationPurpose
    ) async throws
        -> IdTagInfo
    {
        throw Failure()
    }
}

private final class FakeRegistrations: RegistrationLookup {
    private struct State {
        var status: RegistrationStatus
        var lookups: [Int64] = []
    }

    private let state: Mutex<State>

    init(status: RegistrationStatus) {
        state = Mutex(State(status: status))
    }

    var status: RegistrationStatus {
        get { state.withLock { $0.status } }
        set { state.withLock { $0.status = newValue } }
    }

    var lookups: [Int64] { state.withLock { $0.lookups } }

    func registrationStatus(of stationID: Int64) async throws -> RegistrationStatus {
        state.withLock { state in
            state.lookups.append(stationID)
            return state.status
        }
    }
}

extension EncodedResponse {
    /// The encoded payload read back, StartTransaction's completed with
    /// `transactionID`, for assertions on what it says.
    func json(transactionID: Int32 = 1) throws -> JSONValue {
        try JSONParser.parse(try #require(payload(transactionID: transactionID)))
    }
}
