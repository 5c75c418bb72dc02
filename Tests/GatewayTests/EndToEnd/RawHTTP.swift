import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One HTTP/1.1 request over a plain TCP connection, for what a WebSocket client
/// hides: the exact status of a refused upgrade and its headers, or `/readyz`.
enum RawHTTP {
    struct Response: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        /// The server's certificate, over TLS, when the connection was still open to ask.
        var peerCertificate: NIOSSLCertificate?

        /// The first header of that name (case-insensitive).
        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    enum Failure: Error {
        case noResponse
        case timedOut
    }

    static func get(port: Int, path: String) async throws -> Response {
        try await exchange(port: port, "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    }

    /// A WebSocket upgrade request offering `ocpp1.6`; the connection is dropped
    /// once the response head has arrived, whatever it says.
    /// Over TLS when `tls` is given.
    static func upgrade(
        port: Int, path: String, authorization: String? = nil, tls: TLSConfiguration? = nil
    ) async throws -> Response {
        var lines = [
            "GET \(path) HTTP/1.1", "Host: localhost", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Protocol: ocpp1.6",
        ]
        if let authorization { lines.append("Authorization: \(authorization)") }
        return try await exchange(port: port, lines.joined(separator: "\r\n") + "\r\n\r\n", tls: tls)
    }

    /// `Basic base64(username:password)`.
    static func basic(_ username: String, _ password: String) -> String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    /// Sends `request` and returns the response head, within `timeout`.
    static func exchange(
        port: Int, _ request: String, timeout: Duration = .seconds(10), tls: TLSConfiguration? = nil
    ) async throws -> Response {
        try await withThrowingTaskGroup(of: Response.self) { group in
            group.addTask { try await readHead(port: port, request, tls: tls) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw Failure.timedOut
            }
            defer { group.cancelAll() }
            guard let response = try await group.next() else { throw Failure.noResponse }
            return response
        }
    }

    /// Connects, sends `bytes` (perhaps half a request) and waits for the server to
    /// close the connection; returns whatever it wrote before.
    static func untilClosed(port: Int, sending bytes: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            if !bytes.isEmpty { try await outbound.write(ByteBuffer(string: bytes)) }
            var received = ""
            for try await chunk in inbound { received += String(buffer: chunk) }
            return received
        }
    }

    private static func readHead(port: Int, _ request: String, tls: TLSConfiguration?) async throws -> Response {
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        // The test certificates name localhost.
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let peerCertificate = context == nil ? nil : channel.channel
        let (head, certificate) = try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var received = ""
            for try await chunk in inbound {
                received += String(buffer: chunk)
                if let end = received.range(of: "\r\n\r\n") {
                    // Nil when the server has already closed the connection (a refusal).
                    let certificate = try? await peerCertificate?.nioSSL_peerCertificate().get()
                    return (String(received[..<end.lowerBound]), certificate ?? nil)
                }
            }
            return (received, nil)
        }
        var lines = head.components(separatedBy: "\r\n")
        // "HTTP/1.1 401 Unauthorized"
        let statusLine = lines.isEmpty ? "" : lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure.noResponse }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (
                String(line[..<colon]),
                line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            )
        }
        return Response(status: status, headers: headers, peerCertificate: certificate)
    }
}
