import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The newest clock offset of each connected station, waiting to be written to its
/// session row by ``ClockOffsetWriter``.
final class ClockOffsetLog: Sendable {
    /// One station's offset, as measured on one of its sessions.
    struct Entry: Sendable, Equatable {
        var sessionID: UUID
        var milliseconds: Int64
    }

    private let pending = Mutex<[Int64: Entry]>([:])

    /// Keeps the offset until the next write; a newer one for the station replaces it.
    func note(stationID: Int64, sessionID: UUID, milliseconds: Int64) {
        pending.withLock { $0[stationID] = Entry(sessionID: sessionID, milliseconds: milliseconds) }
    }

    /// Everything noted since the last call, by station id.
    func take() -> [Int64: Entry] {
        pending.withLock { pending in
            defer { pending = [:] }
            return pending
        }
    }
}

/// Writes the stations' clock offsets to `ocpp.station_sessions.clock_offset_ms`
/// every `interval`, all in one statement.
///
/// Most messages carry a station timestamp, and a statement per message (or even
/// per station now and then) would be thousands of transactions a second in a
/// reconnect storm, each waiting for its own commit. An offset is informative, not
/// an acknowledgement: one that is lost (the database was unreachable, the gateway
/// stopped) is simply measured again on the station's next message.
struct ClockOffsetWriter: Service {
    let log: ClockOffsetLog
    let stations: any StationStore
    let interval: Duration
    let logger: Logger

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await flush()
            }
        }
    }

    /// Writes what was noted since the last write.
    func flush() async {
        let offsets = log.take()
        guard !offsets.isEmpty else { return }
        do {
            try await stations.recordClockOffsets(offsets)
        } catch {
            // Shutting down: the sessions end with the gateway anyway.
            guard !Task.isCancelled else { return }
            logger.warning("station clock offsets not recorded: \(String(reflecting: error))")
        }
    }
}
