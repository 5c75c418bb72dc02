import NIOCore
import NIOEmbedded
import NIOWebSocket
import Synchronization
import Testing

@testable import Gateway

/// The WebSocket protocol of a station's socket, on an embedded channel: frames in,
/// frames out, time moved by hand. No network and no task.
@Suite struct StationSocketHandlerTests {
    static let configuration = StationSocketHandler.Configuration(
        maxMessageSize: 64, maxFrameSize: 16, pingInterval: .seconds(30), closeTimeout: .seconds(5),
        idleTimeout: .seconds(300))

    // MARK: Messages

    @Test func aMessageIsHandedOverOnlyWhenTheSessionIsReady() throws {
        let (channel, socket, session) = try Self.makeSocket()
        try channel.writeInbound(Self.frame(.text, "first"))
        try channel.writeInbound(Self.frame(.text, "second"))
        // The session has not started yet.
        #expect(session.events.isEmpty)
        socket.ready()
        #expect(session.events == [.message(.text("first"))])
        socket.ready()
        #expect(session.events == [.message(.text("first")), .message(.text("second"))])
    }

    @Test func nothingIsReadWhileTheSessionHandlesAMessage() throws {
        let reads = ReadCounter()
        let (channel, socket, _) = try Self.makeSocket(before: reads)
        socket.ready()
        channel.read()
        #expect(reads.count == 1)
        try channel.writeInbound(Self.frame(.text, "busy"))
        channel.read()
        // Held back until the message is handled: TCP pushes back on the station.
        #expect(reads.count == 1)
        socket.ready()
        #expect(reads.count == 2)
    }

    // MARK: Back-pressure

    @Test func aStationThatPingsButDoesNotReadIsNotReadFromWhileThePongsCannotLeave() throws {
        let reads = ReadCounter()
        let (channel, socket, _) = try Self.makeSocket(before: reads)
        socket.ready()
        let station = Station(channel: channel, reads: reads)
        channel.read()
        try station.send((0..<3).map { _ in Self.frame(.ping, "ping") })
        #expect(station.drainWritten().map(\.opcode) == [.pong, .pong, .pong])

        // The station stops reading: its socket buffer fills, then ours, past the
        // high water mark. It keeps sending pings.
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        try station.send((0..<1000).map { _ in Self.frame(.ping, "ping") })
        // The read already asked for brings one ping, whose pong is written; the read
        // after it is held, so nothing more is read, nor answered.
        let pongs = station.drainWritten()
        #expect(pongs.count == 1)
        #expect(pongs.first?.opcode == .pong)
        #expect(reads.count == 4)
        #expect(station.waiting == 999)

        // Once the pongs leave, reading resumes.
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == 5)
        try station.flow()
        #expect(station.waiting == 0)
        #expect(station.drainWritten().count == 999)
    }

    @Test func aStationThatSendsCallsButDoesNotReadIsNotReadFromWhileTheAnswersCannotLeave() throws {
        let reads = ReadCounter()
        let (channel, socket, session) = try Self.makeSocket(before: reads)
        socket.ready()
        // The session answers each CALL at once and is ready for the next.
        let station = Station(channel: channel, reads: reads) {
            guard case .message(.text) = session.events.last else { return }
            socket.write(text: #"[3,"1",{}]"#)
            socket.ready()
        }
        let call = Self.frame(.text, #"[2,"1","Heartbeat",{}]"#)
        channel.read()
        try station.send([call, call, call])
        #expect(station.drainWritten().count == 3)

        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        try station.send(Array(repeating: call, count: 1000))
        // One CALL was on its way and is answered; then reading stops.
        let answers = station.drainWritten()
        #expect(answers.count == 1)
        #expect(answers.first.map { String(buffer: $0.data) } == #"[3,"1",{}]"#)
        #expect(reads.count == 4)
        #expect(station.waiting == 999)
        #expect(session.events.count == 4)

        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(reads.count == 5)
        try station.flow()
        #expect(station.waiting == 0)
        #expect(session.events.count == 1003)
        #expect(station.drainWritten().count == 999)
    }

    @Test func theStationsCloseFrameIsReadEvenWhileTheChannelIsNotWritable() throws {
        let reads = ReadCounter()
        let (channel, socket, session) = try Self.makeSocket(before: reads)
        socket.ready()
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.read()
        #expect(reads.count == 0)
        // Closing: nothing read is answered any more, and the station's close frame
        // ends the connection sooner than the timeout.
        socket.close(code: .goingAway, reason: nil)
        #expect(reads.count == 1)
        try channel.writeInbound(Self.frame(.connectionClose, bytes: [0x03, 0xE8]))
        #expect(!channel.isActive)
        #expect(session.events == [.closed])
    }

    @Test func fragmentsMakeOneMessage() throws {
        let (channel, socket, session) = try Self.makeStartedSocket()
        try channel.writeInbound(Self.frame(.text, "[2,\"1\",", fin: false))
        try channel.writeInbound(Self.frame(.continuation, "\"Heartbeat\",", fin: false))
        try channel.writeInbound(Self.frame(.continuation, "{}]"))
        #expect(session.events == [.message(.text(#"[2,"1","Heartbeat",{}]"#))])
        _ = socket
    }

    @Test func aBinaryMessageIsHandedOverForTheSessionToRefuse() throws {
        let (channel, _, session) = try Self.makeStartedSocket()
        try channel.writeInbound(Self.frame(.binary, "\u{1}\u{2}"))
        #expect(session.events == [.message(.binary)])
    }

    @Test(arguments: [
        // Fragments beyond the message size: 1009.
        (
            [
                StationSocketHandlerTests.frame(.text, String(repeating: "a", count: 40), fin: false),
                StationSocketHandlerTests.frame(.continuation, String(repeating: "b", count: 40)),
            ], WebSocketErrorCode.messageTooLarge
        ),
        // Text that is not UTF-8: 1007.
        ([StationSocketHandlerTests.frame(.text, bytes: [0x22, 0xC3, 0x28, 0x22])], .dataInconsistentWithMessage),
        // An unmasked client frame (RFC 6455 section 5.1): 1002.
        ([StationSocketHandlerTests.frame(.text, "x", masked: false)], .protocolError),
        // A continuation with nothing to continue: 1002.
        ([StationSocketHandlerTests.frame(.continuation, "x")], .protocolError),
        // A new message in the middle of a fragmented one: 1002.
        (
            [StationSocketHandlerTests.frame(.text, "a", fin: false), StationSocketHandlerTests.frame(.text, "b")],
            .protocolError
        ),
    ])
    func aProtocolViolationIsClosedWithItsCode(frames: [WebSocketFrame], code: WebSocketErrorCode) throws {
        let (channel, _, session) = try Self.makeStartedSocket()
        for frame in frames { try channel.writeInbound(frame) }
        #expect(try Self.closeCode(of: channel.readOutbound(as: WebSocketFrame.self)) == code)
        #expect(session.events.isEmpty)
        // Waiting for the station's close frame, which ends the connection.
        #expect(channel.isActive)
        try channel.writeInbound(Self.frame(.connectionClose, bytes: [0x03, 0xE8]))
        #expect(!channel.isActive)
        #expect(session.events == [.closed])
    }

    // MARK: Writing

    @Test func aLongMessageIsWrittenInFragments() throws {
        let (channel, socket, _) = try Self.makeStartedSocket()
        let text = String(repeating: "0123456789", count: 4)
        socket.write(text: text)
        var frames: [WebSocketFrame] = []
        while let frame = try channel.readOutbound(as: WebSocketFrame.self) { frames.append(frame) }
        #expect(frames.map(\.opcode) == [.text, .continuation, .continuation])
        #expect(frames.map(\.fin) == [false, false, true])
        #expect(frames.map { String(buffer: $0.data) }.joined() == text)
    }

    // MARK: Control frames

    @Test func aPingIsAnsweredWithItsPayload() throws {
        let (channel, _, _) = try Self.makeStartedSocket()
        try channel.writeInbound(Self.frame(.ping, "are you there"))
        let pong = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(pong.opcode == .pong)
        #expect(String(buffer: pong.data) == "are you there")
    }

    @Test func aStationThatDoesNotAnswerPingsIsClosedWith1001() throws {
        let (channel, _, session) = try Self.makeStartedSocket()
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        let ping = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(ping.opcode == .ping)
        // Answered: the next ping comes an interval later.
        try channel.writeInbound(
            WebSocketFrame(fin: true, opcode: .pong, maskKey: Self.mask, data: Self.masked(ping.data)))
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(try channel.readOutbound(as: WebSocketFrame.self)?.opcode == .ping)
        // Not answered: closed at the next one.
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(try Self.closeCode(of: channel.readOutbound(as: WebSocketFrame.self)) == .goingAway)
        #expect(!channel.isActive)
        #expect(session.events == [.closed])
    }

    @Test func aSilentStationIsReportedIdle() throws {
        var withoutPings = Self.configuration
        withoutPings.pingInterval = nil
        let (channel, _, session) = try Self.makeStartedSocket(configuration: withoutPings)
        channel.embeddedEventLoop.advanceTime(by: .seconds(200))
        try channel.writeInbound(Self.frame(.text, "[]"))
        // Idle counts from the last message.
        channel.embeddedEventLoop.advanceTime(by: .seconds(200))
        #expect(session.events == [.message(.text("[]"))])
        channel.embeddedEventLoop.advanceTime(by: .seconds(100))
        #expect(session.events == [.message(.text("[]")), .idle])
    }

    // MARK: Closing

    @Test(arguments: [
        ([UInt8](), WebSocketErrorCode.normalClosure),
        ([0x03, 0xE9], .normalClosure),  // 1001, echoed as a normal close
        ([0x0F, 0xA0], .normalClosure),  // 4000, private use
        ([0x03, 0xED], .protocolError),  // 1005 must never be sent
        ([0x03], .protocolError),  // one byte is no code
    ])
    func theStationsCloseIsAnsweredAndEndsTheConnection(payload: [UInt8], answer: WebSocketErrorCode) throws {
        let (channel, _, session) = try Self.makeStartedSocket()
        try channel.writeInbound(Self.frame(.connectionClose, bytes: payload))
        #expect(try Self.closeCode(of: channel.readOutbound(as: WebSocketFrame.self)) == answer)
        #expect(!channel.isActive)
        #expect(session.events == [.closed])
    }

    @Test func ourCloseWaitsForTheStationsThenForTheTimeout() throws {
        let (channel, socket, session) = try Self.makeStartedSocket()
        socket.close(code: .goingAway, reason: "bye")
        let close = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(Self.closeCode(of: close) == .goingAway)
        // Messages after our close are not handed over, nor can we write.
        try channel.writeInbound(Self.frame(.text, "late"))
        #expect(session.events.isEmpty)
        let write = channel.eventLoop.makePromise(of: Void.self)
        socket.handler.write(text: ByteBuffer(string: "too late"), promise: write)
        #expect(throws: ChannelError.ioOnClosedChannel) { try write.futureResult.wait() }
        #expect(try channel.readOutbound(as: WebSocketFrame.self) == nil)
        // No close frame from the station: the connection ends after the timeout.
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(!channel.isActive)

        let (other, otherSocket, _) = try Self.makeStartedSocket()
        otherSocket.close(code: .normalClosure, reason: nil)
        try other.writeInbound(Self.frame(.connectionClose, bytes: [0x03, 0xE8]))
        #expect(!other.isActive)
    }

    // MARK: Helpers

    enum Event: Equatable {
        case message(StationSocketMessage)
        case idle
        case closed
    }

    final class RecordingSession: StationSocketDelegate {
        private let recorded = Mutex<[Event]>([])
        var events: [Event] { recorded.withLock { $0 } }

        func socket(_ socket: StationSocket, received message: StationSocketMessage) {
            recorded.withLock { $0.append(.message(message)) }
        }

        func socketIsIdle(_ socket: StationSocket) { recorded.withLock { $0.append(.idle) } }
        func socketClosed(_ socket: StationSocket) { recorded.withLock { $0.append(.closed) } }
    }

    /// Counts the reads that reach the socket.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = NIOAny
        var count = 0

        func read(context: ChannelHandlerContext) {
            count += 1
            context.read()
        }
    }

    /// The station at the other end of the connection: the frames it sent wait in
    /// the socket, and each read that reaches the socket brings the next one, after
    /// which the channel asks for another read, as NIO's channels do with autoRead.
    final class Station {
        let channel: EmbeddedChannel
        let reads: ReadCounter
        /// What the session does once a frame is handled.
        let afterEachFrame: () -> Void
        private var queued: [WebSocketFrame] = []
        private var served = 0

        init(channel: EmbeddedChannel, reads: ReadCounter, afterEachFrame: @escaping () -> Void = {}) {
            self.channel = channel
            self.reads = reads
            self.afterEachFrame = afterEachFrame
        }

        /// Frames sent but not read yet.
        var waiting: Int { queued.count }

        func send(_ frames: [WebSocketFrame]) throws {
            queued += frames
            try flow()
        }

        /// Delivers a frame for each read that reached the socket.
        func flow() throws {
            while served < reads.count, !queued.isEmpty {
                served += 1
                try channel.writeInbound(queued.removeFirst())
                afterEachFrame()
                channel.read()
            }
        }

        /// The frames written to the station since the last call.
        func drainWritten() -> [WebSocketFrame] {
            var frames: [WebSocketFrame] = []
            while let frame = try? channel.readOutbound(as: WebSocketFrame.self) { frames.append(frame) }
            return frames
        }
    }

    /// The handler as the test drives it: the socket's calls, run on the loop.
    struct Socket {
        let channel: EmbeddedChannel
        let handler: StationSocketHandler

        func ready() { handler.ready() }
        func write(text: String) { handler.write(text: ByteBuffer(string: text), promise: nil) }
        func close(code: WebSocketErrorCode, reason: String?) {
            handler.close(code: code, reason: reason, promise: nil)
        }
    }

    static func makeSocket(
        configuration: StationSocketHandler.Configuration = configuration, before: (any ChannelHandler)? = nil
    ) throws -> (EmbeddedChannel, Socket, RecordingSession) {
        let channel = EmbeddedChannel()
        if let before { try channel.pipeline.syncOperations.addHandler(before) }
        let handler = StationSocketHandler(configuration: configuration)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let session = RecordingSession()
        handler.start(socket: StationSocket(channel: channel, handler: handler), delegate: session)
        return (channel, Socket(channel: channel, handler: handler), session)
    }

    /// A socket whose session has started.
    static func makeStartedSocket(
        configuration: StationSocketHandler.Configuration = configuration
    ) throws -> (EmbeddedChannel, Socket, RecordingSession) {
        let (channel, socket, session) = try makeSocket(configuration: configuration)
        socket.ready()
        return (channel, socket, session)
    }

    static let mask = WebSocketMaskingKey([0x12, 0x34, 0x56, 0x78])!

    static func masked(_ data: ByteBuffer) -> ByteBuffer {
        var data = data
        data.webSocketMask(mask)
        return data
    }

    static func frame(
        _ opcode: WebSocketOpcode, _ text: String, fin: Bool = true, masked: Bool = true
    ) -> WebSocketFrame {
        frame(opcode, bytes: Array(text.utf8), fin: fin, masked: masked)
    }

    static func frame(
        _ opcode: WebSocketOpcode, bytes: [UInt8], fin: Bool = true, masked: Bool = true
    ) -> WebSocketFrame {
        let data = ByteBuffer(bytes: bytes)
        return masked
            ? WebSocketFrame(fin: fin, opcode: opcode, maskKey: mask, data: Self.masked(data))
            : WebSocketFrame(fin: fin, opcode: opcode, data: data)
    }

    static func closeCode(of frame: WebSocketFrame?) -> WebSocketErrorCode? {
        guard let frame, frame.opcode == .connectionClose else { return nil }
        var data = frame.data
        return data.readWebSocketErrorCode()
    }
}
