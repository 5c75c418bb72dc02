import OCPP
import Testing

/// Commands are validated with the protocol core before they are queued.
@Suite struct OutboundCommandTests {
    @Test func aValidCommandIsAccepted() throws {
        let command = try OutboundCommand(
            action: "ChangeConfiguration",
            payload: JSONObject([
                (key: "key", value: .string("HeartbeatInterval")), (key: "value", value: .string("60")),
            ]))
        #expect(command.action == .changeConfiguration)
    }

    @Test func aTypedRequestBecomesACommand() throws {
        let command = try OutboundCommand(ResetRequest(type: .soft))
        #expect(command.action == .reset)
        #expect(command.payload["type"] == .string("Soft"))
    }

    @Test func anInvalidPayloadIsRefusedWithTheFieldPathAndReason() {
        #expect {
            try OutboundCommand(action: "Reset", payload: JSONObject([(key: "type", value: .string("Sideways"))]))
        } throws: { error in
            guard case .invalidPayload(let validation) = error as? OutboundCommandError else { return false }
            return validation.code == .propertyConstraintViolation && validation.path.description == "type"
        }
        #expect {
            try OutboundCommand(action: "RemoteStartTransaction", payload: JSONObject([]))
        } throws: { error in
            guard case .invalidPayload(let validation) = error as? OutboundCommandError else { return false }
            return validation.code == .occurenceConstraintViolation && validation.path.description == "idTag"
        }
    }

    @Test func stationMessagesAndUnknownActionsAreNotCommands() {
        #expect(throws: OutboundCommandError.notACommand(.bootNotification)) {
            try OutboundCommand(action: "BootNotification", payload: JSONObject([]))
        }
        #expect(throws: OutboundCommandError.unknownAction("FlyToTheMoon")) {
            try OutboundCommand(action: "FlyToTheMoon", payload: JSONObject([]))
        }
    }

    @Test func dataTransferGoesBothWays() throws {
        let command = try OutboundCommand(
            action: "DataTransfer", payload: JSONObject([(key: "vendorId", value: .string("ACME"))]))
        #expect(command.action == .dataTransfer)
    }
}
