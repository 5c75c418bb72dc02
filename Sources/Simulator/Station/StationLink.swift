import NIOCore
import NIOPosix

/// One station's WebSocket for async code: received messages as an async sequence
/// that ends when the connection does, and sends from any task.
final class StationLink: Sendable {
    let channel: any Channel
    let inbound: AsyncStream<ByteBuffer>

    private init(channel: any Channel, inbound: AsyncStream<ByteBuffer>) {
        self.channel = channel
        self.inbound = inbound
    }

    static func connect(
        _ connector: WebSocketConnector, identity: String, password: String?, group: any EventLoopGroup
    ) async throws -> StationLink {
        let (inbound, continuation) = AsyncStream<ByteBuffer>.makeStream()
        do {
            let channel = try await connector.connect(
                identity: identity, password: password, localAddress: nil, on: group.next()
            ) { _ in StreamingSession(continuation) }.get()
            return StationLink(channel: channel, inbound: inbound)
        } catch {
            continuation.finish()
            throw error
        }
    }

    func send(_ bytes: [UInt8]) {
        let channel = self.channel
        channel.eventLoop.execute { WebSocketFrameHandler.sendText(bytes, on: channel) }
    }

    /// Closes with 1000 (the server then closes the TCP connection).
    func close() {
        let channel = self.channel
        channel.eventLoop.execute { WebSocketFrameHandler.sendClose(on: channel) }
    }

    /// Drops the TCP connection without a closing handshake, as a lost network does;
    /// runs after any `send` issued before it, so a CALL just sent still goes out first.
    func drop() {
        let channel = self.channel
        channel.eventLoop.execute { channel.close(promise: nil) }
    }
}

/// Hands a connection's messages to an async stream.
private final class StreamingSession: WebSocketSession {
    private let continuation: AsyncStream<ByteBuffer>.Continuation

    init(_ continuation: AsyncStream<ByteBuffer>.Continuation) {
        self.continuation = continuation
    }

    func connected(_ channel: any Channel) {}

    func received(_ text: ByteBuffer) {
        continuation.yield(text)
    }

    func disconnected() {
        continuation.finish()
    }
}
