import NIOCore
import OCPP
import Shared

/// One connection of a scripted station, for async code: sends a CALL and reads until
/// its answer. Messages that are not the awaited answer are skipped (nothing is
/// queued for these stations, so the central system sends them no CALL of its own).
struct CallConnection {
    private let link: StationLink
    private var messages: AsyncStream<ByteBuffer>.Iterator

    init(_ link: StationLink) {
        self.link = link
        self.messages = link.inbound.makeAsyncIterator()
    }

    /// Sends `bytes` (a CALL with `messageID`) and returns its CALLRESULT's payload; a
    /// CALLERROR, or no answer within `timeout` (the connection is then dropped), throws.
    mutating func call(messageID: String, bytes: [UInt8], timeout: Duration) async throws -> JSONObject {
        let channel = link.channel
        let nanoseconds = Int64(timeout.seconds * 1e9)
        let watchdog = channel.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { channel.close(promise: nil) }
        defer { watchdog.cancel() }
        link.send(bytes)
        while let text = await messages.next() {
            let frame = try? text.withUnsafeReadableBytes { bytes throws(FrameError) in try OCPPFrame.decode(bytes) }
            switch frame {
            case .callResult(let result) where result.messageID == messageID:
                return result.payload
            case .callError(let error) where error.messageID == messageID:
                throw SimulatorError("\(messageID): CALLERROR \(error.errorCode.rawValue) \(error.errorDescription)")
            default:
                continue
            }
        }
        throw SimulatorError("\(messageID): the connection ended before the answer (or none within \(timeout))")
    }

    /// Sends `bytes`, waits `delay`, then drops the connection without reading what came
    /// back, and returns once it is closed.
    mutating func sendThenDrop(_ bytes: [UInt8], after delay: Duration) async throws {
        link.send(bytes)
        try await Task.sleep(for: delay)
        link.drop()
        while await messages.next() != nil {}
    }
}
