import Foundation
import Logging
import OCPP
import Shared

/// Prepares the answer to a validated CALL (``CallHandler``).
protocol CallPreparing: Sendable {
    func prepare(_ request: StationRequest, station: StationContext, receivedAt: Date) async throws -> PreparedCall
}

/// Makes work rows durable (``IngestWriter``).
protocol WorkRowWriting: Sendable {
    func submit(_ item: WorkItem) async throws -> IngestOutcome
}

/// What every station connection shares.
struct ConnectionDependencies: Sendable {
    var gatewayID: String
    var calls: any CallPreparing
    var ingest: any WorkRowWriting
    var stations: any StationStore
    var outbound: any OutboundStore
    var metrics: GatewayMetrics
    var decodingOptions: DecodingOptions
    /// Where each station's newest clock offset waits for ``ClockOffsetWriter``.
    var clockOffsets = ClockOffsetLog()
    /// How long a server CALL waits for its answer before it is marked timed out.
    var callTimeout: Duration = .seconds(30)
}
