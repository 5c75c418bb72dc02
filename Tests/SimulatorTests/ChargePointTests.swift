import Foundation
import OCPP
import Shared
import Testing

@testable import Simulator

/// The simulated charge point's answers to central-system commands, without IO.
@Suite struct ChargePointTests {
    private func answer(
        _ chargePoint: inout ChargePoint, _ action: String, _ payload: JSONObject
    ) throws -> (
        OCPPFrame, [FollowUp]
    ) {
        let answer = chargePoint.answer(Call(messageID: "m1", action: action, payload: payload))
        return (try OCPPFrame.decode(answer.frame), answer.followUps)
    }

    private func result(_ frame: OCPPFrame) throws -> JSONObject {
        guard case .callResult(let result) = frame else { throw SimulatorError("expected a CALLRESULT: \(frame)") }
        return result.payload
    }

    @Test func getConfigurationReportsKnownAndUnknownKeys() throws {
        var chargePoint = ChargePoint(identity: "CP", connectors: 2)
        let (frame, _) = try answer(
            &chargePoint, "GetConfiguration", JSONObject([(key: "key", value: ["HeartbeatInterval", "Nope"])]))
        let response = try GetConfigurationResponse(json: .object(try result(frame)))
        #expect(response.configurationKey == [KeyValue(key: "HeartbeatInterval", readonly: false, value: "300")])
        #expect(response.unknownKey == ["Nope"])
    }

    @Test(arguments: [
        ("HeartbeatInterval", "60", ConfigurationStatus.accepted),
        ("HeartbeatInterval", "soon", .rejected),
        ("NumberOfConnectors", "4", .rejected),
        ("SecurityProfile", "1", .rebootRequired),
        ("NoSuchKey", "1", .notSupported),
    ])
    func changeConfigurationHonoursReadonlyAndKinds(key: String, value: String, expected: ConfigurationStatus) throws {
        var chargePoint = ChargePoint(identity: "CP", connectors: 2)
        let (frame, _) = try answer(
            &chargePoint, "ChangeConfiguration",
            JSONObject([(key: "key", value: .string(key)), (key: "value", value: .string(value))]))
        #expect(try result(frame)["status"] == .string(expected.rawValue))
    }

    @Test func remoteStartTakesAFreeConnectorAndRemoteStopNeedsItsTransaction() throws {
        var chargePoint = ChargePoint(identity: "CP", connectors: 2)
        let (started, followUps) = try answer(
            &chargePoint, "RemoteStartTransaction", JSONObject([(key: "idTag", value: "TAG")]))
        #expect(try result(started)["status"] == "Accepted")
        #expect(followUps == [.startTransaction(connectorId: 1, idTag: "TAG")])
        chargePoint.transactionStarted(id: 42, idTag: "TAG", on: 1)

        let (unknown, _) = try answer(
            &chargePoint, "RemoteStopTransaction", JSONObject([(key: "transactionId", value: 7)]))
        #expect(try result(unknown)["status"] == "Rejected")
        let (stopped, stops) = try answer(
            &chargePoint, "RemoteStopTransaction", JSONObject([(key: "transactionId", value: 42)]))
        #expect(try result(stopped)["status"] == "Accepted")
        #expect(stops == [.stopTransaction(transactionId: 42, reason: .remote)])
    }

    @Test func inoperativeWhileChargingIsScheduled() throws {
        var chargePoint = ChargePoint(identity: "CP", connectors: 1)
        chargePoint.transactionStarted(id: 1, idTag: "TAG", on: 1)
        let (frame, _) = try answer(
            &chargePoint, "ChangeAvailability",
            JSONObject([(key: "connectorId", value: 1), (key: "type", value: "Inoperative")]))
        #expect(try result(frame)["status"] == "Scheduled")
        #expect(chargePoint.transactionEnded(on: 1) == .unavailable)
    }

    @Test func aDifferentialLocalListMustMoveTheVersionForward() throws {
        var chargePoint = ChargePoint(identity: "CP", connectors: 1)
        let full = JSONObject([(key: "listVersion", value: 3), (key: "updateType", value: "Full")])
        #expect(try result(try answer(&chargePoint, "SendLocalList", full).0)["status"] == "Accepted")
        let stale = JSONObject([(key: "listVersion", value: 2), (key: "updateType", value: "Differential")])
        #expect(try result(try answer(&chargePoint, "SendLocalList", stale).0)["status"] == "VersionMismatch")
        let version = try result(try answer(&chargePoint, "GetLocalListVersion", JSONObject()).0)
        #expect(version["listVersion"] == 3)
    }

    @Test func dataTransferIsAnUnknownVendor() throws {
        var chargePoint = ChargePoint(identity: "CP", connectors: 1)
        let (frame, _) = try answer(&chargePoint, "DataTransfer", JSONObject([(key: "vendorId", value: "acme")]))
        #expect(try result(frame)["status"] == "UnknownVendorId")
    }

    @Test func malformedAndUnknownCommandsGetTheSpecsErrors() throws {
        var chargePoint = ChargePoint(identity: "CP", connectors: 1)
        guard case .callError(let missing) = try answer(&chargePoint, "Reset", JSONObject()).0 else {
            Issue.record("expected a CALLERROR")
            return
        }
        #expect(missing.errorCode == .occurenceConstraintViolation || missing.errorCode == .protocolError)
        guard case .callError(let unknown) = try answer(&chargePoint, "Teleport", JSONObject()).0 else {
            Issue.record("expected a CALLERROR")
            return
        }
        #expect(unknown.errorCode == .notImplemented)
        guard case .callError(let wrongWay) = try answer(&chargePoint, "Heartbeat", JSONObject()).0 else {
            Issue.record("expected a CALLERROR")
            return
        }
        #expect(wrongWay.errorCode == .notSupported)
    }

    @Test func meterSamplesCarryTenDistinctValues() {
        let sample = MeterSampler.sample(at: Date(), energyWh: 1234, powerW: 11_000, elapsed: 60)
        #expect(sample.sampledValue.count == MeterSampler.valuesPerSample)
        let keys = Set(
            sample.sampledValue.map { "\($0.measurand!.rawValue) \($0.phase?.rawValue ?? "") \($0.location!.rawValue)" }
        )
        #expect(keys.count == MeterSampler.valuesPerSample)
        #expect(MeterSampler.format(3.14159, digits: 2) == "3.14")
        #expect(MeterSampler.format(-0.5, digits: 1) == "-0.5")
        #expect(MeterSampler.format(7, digits: 0) == "7")
    }
}
