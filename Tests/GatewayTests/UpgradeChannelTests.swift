import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import Logging
import NIOCore
import NIOPosix
import NIOWebSocket
import ServiceLifecycle
import Testing

@testable import Gateway

/// Runs the real server (router for plain HTTP + `OCPPUpgradeChannel`) on a free port and
/// talks to it with real clients: raw TCP to read exact status lines, and
/// HummingbirdWSClient for WebSocket traffic.
@Suite(.timeLimit(.minutes(1)))
struct UpgradeChannelTests {
    static let maxFrameSize = 4096
    static let goodAuthorization = "Basic " + Data("CP1:secret".utf8).base64EncodedString()

    // MARK: Plain HTTP

    @Test func plainRequestGoesToTheRouter() async throws {
        try await withServer { port in
            let response = try await rawExchange(port: port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(response.statusLine == "HTTP/1.1 200 OK")
        }
    }

    // MARK: Refusals

    @Test func wrongCredentialsAreRefusedWith401() async throws {
        try await withServer { port in
            let response = try await rawExchange(
                port: port,
                upgradeRequest(path: "/ocpp/CP1", extraHeaders: ["Authorization: Basic d3Jvbmc6d3Jvbmc="]),
                untilClosed: true
            )
            #expect(response.statusLine == "HTTP/1.1 401 Unauthorized")
            #expect(response.header("www-authenticate") == #"Basic realm="OCPP""#)
            #expect(response.header("connection") == "close")
            #expect(response.header("content-length") == "0")
            #expect(response.closedByServer)
        }
    }

    @Test func unknownIdentityIsRefusedWith404() async throws {
        try await withServer { port in
            let response = try await rawExchange(
                port: port,
                upgradeRequest(path: "/v1/ocpp/bad"),
                untilClosed: true
            )
            #expect(response.statusLine == "HTTP/1.1 404 Not Found")
            #expect(response.header("connection") == "close")
            #expect(response.closedByServer)
        }
    }

    @Test func malformedUpgradeIsRefusedWith400() async throws {
        try await withServer { port in
            // No Sec-WebSocket-Key: NIO declines before asking us; the request must not be
            // served by the router as if it were plain HTTP.
            let request =
                "GET /ocpp/CP1 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n"
            let response = try await rawExchange(port: port, request, untilClosed: true)
            #expect(response.statusLine == "HTTP/1.1 400 Bad Request")
            #expect(response.closedByServer)
        }
    }

    @Test func unparsableFirstRequestGets400AndIsClosed() async throws {
        try await withServer { port in
            // E.g. a port scanner, or a TLS client on the plain port.
            let response = try await rawExchange(port: port, "HELLO WORLD\r\n\r\n", untilClosed: true)
            #expect(response.statusLine == "HTTP/1.1 400 Bad Request")
            #expect(response.closedByServer)
        }
    }

    @Test func upgradeAfterAPlainRequestOnTheSameConnectionIsRefusedWith400() async throws {
        try await withServer { port in
            // Only a connection's first request can be upgraded.
            let response = try await rawExchange(
                port: port,
                "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n" + upgradeRequest(path: "/ocpp/CP1"),
                untilClosed: true
            )
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(String(decoding: response.bodyBytes, as: UTF8.self).hasPrefix("HTTP/1.1 400 Bad Request"))
            #expect(response.closedByServer)
        }
    }

    // MARK: Upgrades

    @Test func acceptedUpgradeEchoesTheSubprotocol() async throws {
        try await withServer { port in
            let response = try await rawExchange(
                port: port,
                upgradeRequest(
                    path: "/ocpp/CP1",
                    extraHeaders: [
                        "Authorization: \(Self.goodAuthorization)", "Sec-WebSocket-Protocol: ocpp2.0, ocpp1.6",
                    ]
                )
            )
            #expect(response.statusLine == "HTTP/1.1 101 Switching Protocols")
            #expect(response.header("sec-websocket-protocol") == "ocpp1.6")
            // RFC 6455 example key and its accept value.
            #expect(response.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        }
    }

    @Test func webSocketClientGetsItsMessageEchoed() async throws {
        try await withServer { port in
            let echoed = Box<String?>(nil)
            let closeFrame = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/ocpp/CP1",
                configuration: .init(additionalHeaders: [.secWebSocketProtocol: "ocpp1.6"]),
                logger: Self.logger
            ) { inbound, outbound, _ in
                try await outbound.write(.text(#"[2,"1","Heartbeat",{}]"#))
                for try await message in inbound.messages(maxSize: 1 << 16) {
                    if case .text(let text) = message { await echoed.set(text) }
                    break
                }
            }
            #expect(await echoed.value == #"[2,"1","Heartbeat",{}]"#)
            #expect(closeFrame?.closeCode == .normalClosure)
        }
    }

    @Test func frameAboveTheLimitClosesWith1009() async throws {
        try await withServer { port in
            let closeFrame = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/ocpp/CP1",
                configuration: .init(maxFrameSize: 1 << 16),
                logger: Self.logger
            ) { inbound, outbound, _ in
                try await outbound.write(.text(String(repeating: "x", count: Self.maxFrameSize + 1)))
                // Wait for the server's close; the client answers it and the call returns.
                for try await _ in inbound {}
            }
            #expect(closeFrame?.closeCode == .messageTooLarge)
        }
    }

    @Test func missingPongClosesTheConnection() async throws {
        let configuration = OCPPUpgradeChannel.Configuration(
            maxFrameSize: Self.maxFrameSize,
            pingInterval: .milliseconds(200),
            closeTimeout: .milliseconds(200)
        )
        try await withServer(configuration: configuration) { port in
            // A raw client that never answers pings.
            let response = try await rawExchange(port: port, upgradeRequest(path: "/ocpp/CP1"), untilClosed: true)
            #expect(response.statusLine == "HTTP/1.1 101 Switching Protocols")
            // After the headers: a ping, then a close with 1001 (going away).
            let frames = serverFrames(response.bodyBytes)
            #expect(frames.first?.opcode == 0x9)
            let close = frames.first { $0.opcode == 0x8 }
            #expect(close.map { UInt16($0.payload[0]) << 8 | UInt16($0.payload[1]) } == 1001)
            #expect(response.closedByServer)
        }
    }

    // MARK: Server under test

    static let logger: Logger = {
        var logger = Logger(label: "UpgradeChannelTests")
        logger.logLevel = .info
        return logger
    }()

    /// Refuses identity `bad` with 404 and a wrong `Authorization` with 401; otherwise
    /// upgrades, choosing `ocpp1.6` when offered, with an echo handler.
    @Sendable static func decide(
        request: HTTPRequest, channel: any Channel, logger: Logger
    ) async throws
        -> OCPPUpgradeDecision
    {
        let segments = (request.path ?? "").split(separator: "?").first?.split(separator: "/") ?? []
        guard segments.count >= 2, segments[segments.count - 2] == "ocpp", segments.last != "bad" else {
            return .refuse(status: .notFound)
        }
        if let authorization = request.headerFields[.authorization], authorization != goodAuthorization {
            return .refuse(status: .unauthorized, headers: [.wwwAuthenticate: #"Basic realm="OCPP""#])
        }
        var headers: HTTPFields = [:]
        let offered = (request.headerFields[.secWebSocketProtocol] ?? "").split(separator: ",")
        if offered.contains(where: { $0.trimmingCharacters(in: .whitespaces) == "ocpp1.6" }) {
            headers[.secWebSocketProtocol] = "ocpp1.6"
        }
        return .upgrade(headers: headers) { socket, _ in
            socket.handlerOnLoop.ready()
            return EchoSession()
        }
    }

    /// Sends every text message back (on the event loop, as a session does).
    struct EchoSession: StationSocketDelegate {
        func socket(_ socket: StationSocket, received message: StationSocketMessage) {
            if case .text(let text) = message {
                socket.handlerOnLoop.write(text: ByteBuffer(string: text), promise: nil)
            }
            socket.handlerOnLoop.ready()
        }

        func socketIsIdle(_ socket: StationSocket) {}
        func socketClosed(_ socket: StationSocket) {}
    }

    func withServer(
        configuration: OCPPUpgradeChannel.Configuration = .init(maxFrameSize: maxFrameSize),
        _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let router = Router()
        router.get("/healthz") { _, _ -> HTTPResponse.Status in .ok }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            server: .ocppWebSocket(configuration: configuration, decide: Self.decide),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: Self.logger
        )
        let services = ServiceGroup(services: [app], logger: Self.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            do {
                try await body(port)
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
            await services.triggerGracefulShutdown()
        }
    }

    // MARK: Raw TCP client

    struct RawResponse {
        var head: String
        var bodyBytes: [UInt8]
        var closedByServer: Bool

        var statusLine: String { String(head.split(separator: "\r\n", omittingEmptySubsequences: false).first ?? "") }

        func header(_ name: String) -> String? {
            for line in head.split(separator: "\r\n").dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    func upgradeRequest(path: String, extraHeaders: [String] = []) -> String {
        ([
            "GET \(path) HTTP/1.1", "Host: localhost", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        ]
            + extraHeaders).joined(separator: "\r\n") + "\r\n\r\n"
    }

    /// Sends `request` and reads the response head; with `untilClosed`, keeps reading until
    /// the server closes the connection.
    func rawExchange(port: Int, _ request: String, untilClosed: Bool = false) async throws -> RawResponse {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var received: [UInt8] = []
            var closed = true
            for try await chunk in inbound {
                received += chunk.readableBytesView
                if !untilClosed, received.headEnd != nil {
                    closed = false
                    break
                }
            }
            let headEnd = received.headEnd ?? received.count
            return RawResponse(
                head: String(decoding: received[..<headEnd], as: UTF8.self),
                bodyBytes: Array(received[min(headEnd + 4, received.count)...]),
                closedByServer: closed
            )
        }
    }
}

/// Splits unmasked server frames with short payloads (< 126 bytes), enough for ping and close.
private func serverFrames(_ bytes: [UInt8]) -> [(opcode: UInt8, payload: [UInt8])] {
    var frames: [(opcode: UInt8, payload: [UInt8])] = []
    var index = 0
    while index + 2 <= bytes.count {
        let length = Int(bytes[index + 1] & 0x7F)
        guard length < 126, index + 2 + length <= bytes.count else { break }
        frames.append((bytes[index] & 0x0F, Array(bytes[(index + 2)..<(index + 2 + length)])))
        index += 2 + length
    }
    return frames
}

extension [UInt8] {
    /// Index of the blank line ending an HTTP head.
    fileprivate var headEnd: Int? {
        guard count >= 4 else { return nil }
        return (0...(count - 4)).first { self[$0..<($0 + 4)].elementsEqual([13, 10, 13, 10]) }
    }
}

/// A value set from inside a `@Sendable` client handler and read afterwards.
private actor Box<Value: Sendable> {
    var value: Value
    init(_ value: Value) { self.value = value }
    func set(_ newValue: Value) { value = newValue }
}
