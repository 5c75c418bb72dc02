import Foundation

/// The NOTIFY channel each gateway listens on, and the messages sent on it.
///
/// Channel: `ocpp_gateway_<gateway id>`. Messages:
/// - `takeover <station id> <session id>`: close that session, the station connected
///   again elsewhere (invariant 8);
/// - `outbound <station id>`: a command was queued for the station (sent by
///   `ocpp.enqueue_call`, sql/0006), deliver it if its connection is here.
enum GatewayChannel {
    static let prefix = "ocpp_gateway_"

    static func name(of gatewayID: String) -> String { prefix + gatewayID }

    /// The message, or its prefix when `sessionID` is nil (the SQL appends the id).
    static func takeoverMessage(stationID: Int64, sessionID: UUID?) -> String {
        "takeover \(stationID) " + (sessionID.map { $0.uuidString.lowercased() } ?? "")
    }

    enum Message: Equatable {
        case takeover(stationID: Int64, sessionID: UUID)
        case outbound(stationID: Int64)
    }

    static func parse(_ payload: String) -> Message? {
        let parts = payload.split(separator: " ")
        switch (parts.first, parts.count) {
        case ("takeover", 3):
            guard let stationID = Int64(parts[1]), let sessionID = UUID(uuidString: String(parts[2])) else {
                return nil
            }
            return .takeover(stationID: stationID, sessionID: sessionID)
        case ("outbound", 2):
            return Int64(parts[1]).map { .outbound(stationID: $0) }
        default:
            return nil
        }
    }
}
