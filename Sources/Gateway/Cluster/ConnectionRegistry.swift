import Foundation

/// The live station connections of this gateway, by station.
///
/// Only one session per station lives here: registering a new one hands back the
/// one it replaces, for the caller to close (invariant 8, when both connections
/// reached this gateway).
actor ConnectionRegistry {
    private var connections: [Int64: StationConnection] = [:]

    /// Adds a connection; returns the one it replaces, if any.
    func register(_ connection: StationConnection) -> StationConnection? {
        let previous = connections[connection.station.stationID]
        connections[connection.station.stationID] = connection
        return previous
    }

    /// Removes a session's connection, unless a newer one has taken its place.
    func remove(stationID: Int64, sessionID: UUID) {
        if connections[stationID]?.sessionID == sessionID {
            connections[stationID] = nil
        }
    }

    /// The connection of a station, if it is the given session.
    func connection(stationID: Int64, sessionID: UUID) -> StationConnection? {
        guard let connection = connections[stationID], connection.sessionID == sessionID else { return nil }
        return connection
    }

    /// The connection of a station, whichever session it is.
    func connection(stationID: Int64) -> StationConnection? { connections[stationID] }

    var all: [StationConnection] { Array(connections.values) }

    var count: Int { connections.count }
}
