import Foundation
import OCPP

@testable import Gateway

extension StationRequest {
    /// `request` as a station sends it: written, then decoded as the gateway decodes
    /// a received CALL. Throws NotSupported for a central-system action, as the
    /// gateway's decoder refuses it.
    init(sending request: some OCPPRequest, options: DecodingOptions = .strict) throws(ValidationError) {
        guard case .object(let payload) = try? JSONParser.parse(request.jsonBytes) else {
            throw ValidationError(.formationViolation, "a request that does not write a JSON object")
        }
        try self.init(
            Call(messageID: "test", action: type(of: request).action.rawValue, payload: payload), options: options)
    }
}

extension CallHandler {
    /// The tests hand the handler typed requests: each goes through the decoder
    /// first, into its ``StationRequest`` case.
    func prepare(_ request: some OCPPRequest, station: StationContext, receivedAt: Date) async throws -> PreparedCall {
        try await prepare(StationRequest(sending: request), station: station, receivedAt: receivedAt)
    }
}
