import Foundation
import Logging
import OCPP
import PostgresNIO

/// The durable outbound queue's entry points from Swift: validated commands go into
/// `ocpp.station_messages` through `ocpp.enqueue_call`, the same function operators
/// call from SQL, so both ways write the same row.
public struct CommandQueue: Sendable {
    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Queues `command` for the station `identity`; returns the OCPP message id the
    /// CALL will carry. With a `collapseKey`, the station's pending command with the
    /// same key is replaced. A command still pending at `expiresAt` is marked expired;
    /// none is sent before `notBefore`.
    public func enqueue(
        _ command: OutboundCommand, to identity: String, collapseKey: String? = nil, expiresAt: Date? = nil,
        notBefore: Date? = nil
    ) async throws -> String {
        var payload = JSONWriter()
        payload.value(.object(command.payload))
        do {
            let rows = try await client.boundedRows(
                """
                SELECT ocpp.enqueue_call(\(identity), \(command.action.rawValue), \(payload.string)::jsonb,
                                         \(collapseKey), \(expiresAt), coalesce(\(notBefore), now()))
                """, logger: logger)
            guard let row = rows.first else { throw CommandQueueError.noRowReturned }
            return try row.decode(String.self)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "P0002" {
            throw CommandQueueError.unknownStation(identity)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "22023" {
            throw CommandQueueError.refused(error.serverInfo?[.message] ?? "refused")
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "54000" {
            throw CommandQueueError.tooManyPending(error.serverInfo?[.message] ?? "too many pending commands")
        }
    }

    /// Cancels a command that has not been sent; false when no pending command has
    /// that id.
    public func cancel(messageID: String) async throws -> Bool {
        let rows = try await client.boundedRows("SELECT ocpp.cancel_call(\(messageID))", logger: logger)
        guard let row = rows.first else { throw CommandQueueError.noRowReturned }
        return try row.decode(Bool.self)
    }
}

public enum CommandQueueError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownStation(String)
    /// The database refused the command (its own checks, e.g. an expiry before the
    /// earliest send time).
    case refused(String)
    /// The station has as many pending commands as OCPP_MAX_PENDING_COMMANDS allows.
    case tooManyPending(String)
    case noRowReturned

    public var description: String {
        switch self {
        case .unknownStation(let identity): "no station \(identity)"
        case .refused(let reason): reason
        case .tooManyPending(let reason): reason
        case .noRowReturned: "the queue returned no row"
        }
    }
}
