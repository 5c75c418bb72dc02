import Foundation
import OCPP
import Shared

/// What the gateway knows about the station on a connection.
struct StationContext: Sendable, Hashable {
    /// `ocpp.stations.id`.
    var stationID: Int64
    /// The charge point identity from the URL.
    var identity: String
    /// The station's own validation mode (`ocpp.stations.validation_mode`); nil
    /// follows the gateway's OCPP_VALIDATION_MODE.
    var validationMode: ValidationMode?

    init(stationID: Int64, identity: String, validationMode: ValidationMode? = nil) {
        self.stationID = stationID
        self.identity = identity
        self.validationMode = validationMode
    }
}

/// A validated CALL made ready for the ingest writer: the answer to give, encoded
/// once, and what the work row needs besides the payload.
struct PreparedCall: Sendable {
    /// The CALLRESULT payload; StartTransaction's without the value of
    /// `transactionId`, which the batch statement allocates (see ``EncodedResponse``).
    var response: EncodedResponse
    /// The station's own timestamp in the message, if it has one.
    var stationTime: Date?
    /// For BootNotification: the registration status given, which the connection
    /// adopts.
    var registrationStatus: RegistrationStatus?
}
