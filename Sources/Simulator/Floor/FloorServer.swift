import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The listening socket of ``FloorCommand``: HTTP/1.1 upgraded to WebSocket with
/// the `ocpp1.6` subprotocol, then a ``FloorAnswerer`` per connection.
enum FloorServer {
    static func bind(host: String, port: Int, decode: Bool) async throws -> any Channel {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 16,
            shouldUpgrade: { channel, _ in
                channel.eventLoop.makeSucceededFuture(["Sec-WebSocket-Protocol": "ocpp1.6"])
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FloorAnswerer(decode: decode))
                }
            })
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
            }
            .bind(host: host, port: port)
            .get()
    }
}
