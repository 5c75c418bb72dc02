import Foundation

/// The NOTIFY channel each gateway listens on, and the messages sent on it.
///
/// Channel: `ocpp_gateway_<gateway id>`. Message: `takeover <station id> <session id>`,
/// telling the gateway to close that session because the station connected again
/// elsewhere (invariant 8).
enum GatewayChannel {
    static let prefix = "ocpp_gateway_"

    static func name(of gatewayID: String) -> String { prefix + gatewayID }

    /// The message, or its prefix when `sessionID` is nil (the SQL appends the id).
    static func takeoverMessage(stationID: Int64, sessionID: UUID?) -> String {
        "takeover \(stationID) " + (sessionID.map { $0.uuidString.lowercased() } ?? "")
    }

    enum Message: Equatable {
        case takeover(stationID: Int64, sessionID: UUID)
    }

    static func parse(_ payload: String) -> Message? {
        let parts = payload.split(separator: " ")
        guard parts.count == 3, parts[0] == "takeover", let stationID = Int64(parts[1]),
            let sessionID = UUID(uuidString: String(parts[2]))
        else { return nil }
        return .takeover(stationID: stationID, sessionID: sessionID)
    }
}
