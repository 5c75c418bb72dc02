import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import OCPP
import Shared
import Synchronization

/// A charge point for end-to-end tests: a real WebSocket client that sends frames
/// and reads the gateway's replies in order.
final class TestStation: Sendable {
    let identity: String
    private let outbound: WebSocketOutboundWriter
    private let mailbox: Mailbox
    private let connection: Task<WebSocketCloseFrame?, any Error>

    private init(
        identity: String, outbound: WebSocketOutboundWriter, mailbox: Mailbox,
        connection: Task<WebSocketCloseFrame?, any Error>
    ) {
        self.identity = identity
        self.outbound = outbound
        self.mailbox = mailbox
        self.connection = connection
    }

    /// Connects to a gateway on localhost, with `wss://` when `tls` is given; throws when
    /// the TLS handshake fails or the upgrade is refused.
    static func connect(
        port: Int, identity: String, subprotocols: [String] = ["ocpp1.6"], authorization: String? = nil,
        tls: TLSConfiguration? = nil
    ) async throws -> TestStation {
        var headers = HTTPFields()
        if !subprotocols.isEmpty { headers[.secWebSocketProtocol] = subprotocols.joined(separator: ", ") }
        if let authorization { headers[.authorization] = authorization }
        let mailbox = Mailbox()
        let (ready, readyContinuation) = AsyncThrowingStream<WebSocketOutboundWriter, any Error>.makeStream()
        let logger = Logger(label: "test-station")
        let connection = Task {
            defer { readyContinuation.finish(throwing: TestStationError.notConnected) }
            // TLS needs a host name (no SNI for an address); the test certificates name localhost.
            return try await WebSocketClient.connect(
                url: tls == nil
                    ? "ws://127.0.0.1:\(port)/ocpp/\(identity)" : "wss://localhost:\(port)/ocpp/\(identity)",
                configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: headers), tlsConfiguration: tls,
                logger: logger
            ) { inbound, outbound, _ in
                readyContinuation.yield(outbound)
                defer { Task { await mailbox.finish() } }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { await mailbox.put(text) }
                }
            }
        }
        var readyIterator = ready.makeAsyncIterator()
        guard let outbound = try await readyIterator.next() else { throw TestStationError.notConnected }
        return TestStation(identity: identity, outbound: outbound, mailbox: mailbox, connection: connection)
    }

    /// Sends raw text.
    func send(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    /// Sends a binary frame, which OCPP-J does not allow.
    func sendBinary(_ bytes: [UInt8]) async throws {
        try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
    }

    /// The next message from the gateway, or nil when the connection closed.
    func nextReply(timeout: Duration = .seconds(10)) async throws -> String? {
        try await mailbox.next(timeout: timeout)
    }

    /// Sends a CALL and returns the decoded reply frame.
    func call(
        _ action: String, _ payload: JSONValue, id: String = UUID().uuidString, timeout: Duration = .seconds(10)
    ) async throws -> OCPPFrame {
        var writer = JSONWriter()
        writer.value([2, .string(id), .string(action), payload])
        try await send(writer.string)
        guard let reply = try await nextReply(timeout: timeout) else { throw TestStationError.closed }
        return try OCPPFrame.decode(reply)
    }

    /// Sends a CALL and returns the CALLRESULT payload, failing on anything else.
    func callResult(
        _ action: String, _ payload: JSONValue, id: String = UUID().uuidString, timeout: Duration = .seconds(10)
    ) async throws -> JSONObject {
        switch try await call(action, payload, id: id, timeout: timeout) {
        case .callResult(let result): return result.payload
        case let other: throw TestStationError.unexpected(other)
        }
    }

    /// Closes from the station's side; waits at most `timeout` for the handshake.
    func close(timeout: Duration = .seconds(5)) async {
        try? await outbound.close(.normalClosure, reason: nil)
        _ = try? await closed(timeout: timeout)
    }

    /// Waits for the connection to end; returns the gateway's close frame. Throws
    /// ``TestStationError/timedOut`` rather than waiting for ever.
    func closed(timeout: Duration = .seconds(10)) async throws -> WebSocketCloseFrame? {
        let connection = self.connection
        let outcome = Mutex<Result<WebSocketCloseFrame?, any Error>?>(nil)
        return try await withCheckedThrowingContinuation { continuation in
            let finish: @Sendable (Result<WebSocketCloseFrame?, any Error>) -> Void = { result in
                let first = outcome.withLock { stored -> Bool in
                    guard stored == nil else { return false }
                    stored = result
                    return true
                }
                if first { continuation.resume(with: result) }
            }
            Task { finish(await connection.result) }
            Task {
                try? await Task.sleep(for: timeout)
                finish(.failure(TestStationError.timedOut))
            }
        }
    }
}

enum TestStationError: Error {
    case notConnected
    case timedOut
    case closed
    case unexpected(OCPPFrame)
}

/// The gateway's messages in arrival order, for one reader at a time.
private actor Mailbox {
    private var buffered: [String] = []
    private var finished = false
    private var waiter: (id: UUID, continuation: CheckedContinuation<String?, any Error>)?

    func put(_ text: String) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: text)
        } else {
            buffered.append(text)
        }
    }

    func finish() {
        finished = true
        waiter?.continuation.resume(returning: nil)
        waiter = nil
    }

    func next(timeout: Duration) async throws -> String? {
        if !buffered.isEmpty { return buffered.removeFirst() }
        if finished { return nil }
        let id = UUID()
        return try await withCheckedThrowingContinuation { continuation in
            waiter = (id, continuation)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: UUID) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(throwing: TestStationError.timedOut)
    }
}
