import Logging
import OCPP
import PostgresNIO
import Shared

/// Where BootNotification finds a station's registration status.
///
/// The status is read at every boot, never cached: an operator may have accepted a
/// Pending station (or rejected an Accepted one) since its last boot, and a boot is
/// rare enough that one indexed read costs nothing.
protocol RegistrationLookup: Sendable {
    /// The stored registration status of `ocpp.stations.id` = `stationID`.
    func registrationStatus(of stationID: Int64) async throws -> RegistrationStatus
}

/// ``RegistrationLookup`` on `ocpp.stations.registration_status`.
struct PostgresRegistrationLookup: RegistrationLookup {
    var client: PostgresClient
    var logger: Logger

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// A station whose row is gone (an operator deleted it while it was connected)
    /// is `Rejected`: it is not registered, and it retries after `bootRetryInterval`.
    /// Bounded (``DatabaseAttempt``): the BootNotification waits for it.
    func registrationStatus(of stationID: Int64) async throws -> RegistrationStatus {
        let rows = try await DatabaseAttempt.run { [client, logger] in
            try await client.rows(of: RegistrationStatusStatement(stationID: stationID), logger: logger)
        }
        guard let stored = rows.first else { return .rejected }
        // The column's CHECK constraint allows only the three statuses.
        return RegistrationStatus(rawValue: stored) ?? .rejected
    }
}
