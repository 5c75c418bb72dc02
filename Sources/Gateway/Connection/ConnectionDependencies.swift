import Foundation
import Logging
import NIOCore
import OCPP
import Shared

/// Prepares the answer to a validated CALL (``CallHandler``).
protocol CallPreparing: Sendable {
    func prepare(_ request: StationRequest, station: StationContext, receivedAt: Date) async throws -> PreparedCall
    /// The answer when it needs no database read; nil when it does (then ``prepare(_:station:receivedAt:)``).
    func prepareAtOnce(_ request: StationRequest, station: StationContext, receivedAt: Date) throws -> PreparedCall?
}

/// Makes work rows durable (``IngestWriter``).
protocol WorkRowWriting: Sendable {
    func submit(_ item: WorkItem) async throws -> IngestOutcome
    /// ``submit(_:)`` for an event loop, which must not wait: `completion` gets its
    /// result on `eventLoop`.
    func submit(_ item: WorkItem, on eventLoop: any EventLoop, answering completion: @escaping IngestWriter.Completion)
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
