import NIOCore
import NIOWebSocket
import OCPP
import Shared

/// One station's WebSocket (RFC 6455, server side) on the channel's event loop, with
/// no task of its own.
///
/// A gateway holds tens of thousands of mostly idle connections. A Swift task per
/// connection (or several: frame loop, pings, queue, idle watchdog) keeps the
/// deepest async stack each ever reached allocated for as long as the connection
/// lives, which came to more than 40 KiB per idle station. Here an idle connection
/// is this handler, two timers (``ConnectionTimers``) and the session objects, and a
/// task exists only while a message is being handled.
///
/// What it does:
/// - assembles messages from frames (fragments up to `maxMessageSize`, 1009 beyond;
///   text must be UTF-8, 1007 otherwise; client frames must be masked and use no
///   extension bits, 1002 otherwise);
/// - hands complete messages to its ``StationSocketDelegate`` one at a time, and
///   reads nothing more from the socket until the delegate says it is ready
///   (``ready()``), so a station that floods is held back by TCP, not buffered;
/// - reads nothing either while the channel is not writable, so a station that
///   sends pings or CALLs but does not read the pongs and answers fills the
///   gateway's outbound buffer only up to the channel's high water mark;
/// - answers pings, pings every `pingInterval` and closes with 1001 when the
///   previous ping is still unanswered;
/// - reports a station that sent no message for `idleTimeout`;
/// - runs the close handshake both ways, closing the TCP connection itself once
///   the close frames have crossed, or `closeTimeout` after sending its own.
///
/// Malformed frames (bad lengths, fragmented control frames) are refused by NIO's
/// decoder and `WebSocketProtocolErrorHandler` before they reach this handler.
final class StationSocketHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    struct Configuration: Sendable {
        /// Largest message, fragments together.
        var maxMessageSize: Int
        /// Largest frame written: longer messages are sent in fragments.
        var maxFrameSize: Int
        /// nil: no pings.
        var pingInterval: Duration?
        /// How long to wait for the station's close frame after sending ours.
        var closeTimeout: Duration
        /// nil: a silent station is never reported.
        var idleTimeout: Duration?
        var validateUTF8 = true
    }

    private enum Timer {
        case ping, idle, close
    }

    private enum Phase {
        case open
        /// Our close frame is sent; waiting for the station's, or for the timeout.
        case closing
        case closed
    }

    private let configuration: Configuration
    private var delegate: (any StationSocketDelegate)?
    private var socket: StationSocket?
    private var context: ChannelHandlerContext?
    private var phase = Phase.open

    /// A fragmented message being assembled: its opcode and the data so far.
    private var fragments: (opcode: WebSocketOpcode, data: ByteBuffer)?
    /// Complete messages not yet handed over (one read can bring several).
    private var received: [StationSocketMessage] = []
    /// The delegate has a message (or has not started yet): nothing more is handed
    /// over or read until ``ready()``.
    private var delegateIsBusy = true
    /// NIO asked for a read that is held back (delegate busy, or channel not
    /// writable): ``readIfWanted()`` passes it on once nothing holds it.
    private var readIsHeld = false

    /// The payload of our unanswered ping.
    private var pingPayload: ByteBuffer?
    private var lastMessageAt = NIODeadline.now()
    private var timers = ConnectionTimers<Timer>()

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Connects the handler to its session; called once, on the event loop, right
    /// after the handler was added.
    func start(socket: StationSocket, delegate: any StationSocketDelegate) {
        self.socket = socket
        self.delegate = delegate
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        lastMessageAt = context.eventLoop.now
        schedulePing()
        scheduleIdleCheck(at: lastMessageAt)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timers.disarmAll()
        self.context = nil
        // The session holds the socket, which holds this handler: let go of it.
        delegate = nil
        socket = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closed
        timers.disarmAll()
        received = []
        fragments = nil
        if let socket, let delegate {
            self.delegate = nil
            delegate.socketClosed(socket)
        }
        context.fireChannelInactive()
    }

    // MARK: Reading

    func read(context: ChannelHandlerContext) {
        readIsHeld = true
        readIfWanted()
    }

    /// Passes a held read on once nothing holds it back. Every read goes through
    /// here: NIO's (autoRead asks again after each batch), ``ready()``, ``close``,
    /// and the channel becoming writable again.
    private func readIfWanted() {
        guard readIsHeld, let context else { return }
        if phase == .open {
            // One message at a time: TCP, not the gateway, holds the rest.
            guard !delegateIsBusy, received.isEmpty else { return }
            // Pongs and answers are written whether or not the station reads them;
            // reading only while they can leave keeps a station that never reads from
            // growing the outbound buffer past the high water mark.
            guard context.channel.isWritable else { return }
        }
        // While closing, the station's close frame must still be read; nothing read
        // then is answered, so it cannot grow the outbound buffer.
        readIsHeld = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { readIfWanted() }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard phase != .closed else { return }
        // RFC 6455 section 5.1: a server must close on an unmasked client frame;
        // section 5.2: no extension was negotiated, so no reserved bit may be set.
        guard frame.maskKey != nil, frame.reservedBits.isEmpty else { return fail(.protocolError) }
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return fail(.protocolError) }
            if frame.fin {
                complete(frame.opcode, frame.unmaskedData)
            } else {
                fragments = (frame.opcode, frame.unmaskedData)
            }
        case .continuation:
            guard var message = fragments else { return fail(.protocolError) }
            guard message.data.readableBytes + frame.length <= configuration.maxMessageSize else {
                return fail(.messageTooLarge)
            }
            fragments = nil
            var data = frame.unmaskedData
            message.data.writeBuffer(&data)
            if frame.fin {
                complete(message.opcode, message.data)
            } else {
                fragments = message
            }
        case .ping:
            guard phase == .open else { return }
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            if let pingPayload, frame.unmaskedData == pingPayload { self.pingPayload = nil }
        case .connectionClose:
            receivedClose(frame.unmaskedData, context: context)
        default:
            fail(.protocolError)
        }
    }

    private func complete(_ opcode: WebSocketOpcode, _ data: ByteBuffer) {
        lastMessageAt = context?.eventLoop.now ?? .now()
        guard phase == .open else { return }
        if opcode == .text {
            guard let text = Self.text(of: data, validating: configuration.validateUTF8) else {
                return fail(.dataInconsistentWithMessage)
            }
            received.append(.text(text))
        } else {
            received.append(.binary)
        }
        handOver()
    }

    private static func text(of data: ByteBuffer, validating: Bool) -> String? {
        data.withUnsafeReadableBytes { bytes in
            guard !validating || UTF8Validation.isValid(bytes) else { return nil }
            return UTF8Validation.string(fromValidated: bytes)
        }
    }

    /// Gives the delegate the next message, if it is free for one.
    private func handOver() {
        guard phase == .open, !delegateIsBusy, !received.isEmpty, let socket, let delegate else { return }
        delegateIsBusy = true
        delegate.socket(socket, received: received.removeFirst())
    }

    /// The delegate is done with its message (or has started): hands over the next
    /// one, or reads on.
    func ready() {
        delegateIsBusy = false
        handOver()
        readIfWanted()
    }

    // MARK: Writing

    /// Writes a text message (UTF-8 bytes); the promise fails when the socket is
    /// closing or closed.
    func write(text: ByteBuffer, promise: EventLoopPromise<Void>?) {
        guard phase == .open, let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var data = text
        var opcode = WebSocketOpcode.text
        // Fragments for a message longer than a frame may be.
        while data.readableBytes > configuration.maxFrameSize {
            let fragment = data.readSlice(length: configuration.maxFrameSize)!
            context.write(wrapOutboundOut(WebSocketFrame(fin: false, opcode: opcode, data: fragment)), promise: nil)
            opcode = .continuation
        }
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: data)), promise: promise)
    }

    // MARK: Closing

    /// Starts the close handshake: sends a close frame; the connection closes when
    /// the station answers it, or after `closeTimeout`. The promise completes once
    /// the frame is written (at once when already closing).
    func close(code: WebSocketErrorCode, reason: String?, promise: EventLoopPromise<Void>?) {
        guard phase == .open, let context else {
            promise?.succeed()
            return
        }
        phase = .closing
        received = []
        fragments = nil
        disarmPingAndIdle()
        context.writeAndFlush(wrapOutboundOut(Self.closeFrame(code, reason, context: context)), promise: promise)
        arm(.close, at: context.eventLoop.now + .init(configuration.closeTimeout)) { handler in
            handler.context?.close(promise: nil)
        }
        readIfWanted()
    }

    /// A protocol violation by the station: closes with `code`.
    private func fail(_ code: WebSocketErrorCode) {
        close(code: code, reason: nil, promise: nil)
    }

    private func receivedClose(_ data: ByteBuffer, context: ChannelHandlerContext) {
        switch phase {
        case .open:
            // Answer with the same code (RFC 6455 section 5.5.1), or 1002 for a close
            // frame that is malformed itself; then end the connection, which the
            // server does first (section 7.1.1).
            phase = .closing
            received = []
            disarmPingAndIdle()
            let answer = Self.answer(toClose: data, validateUTF8: configuration.validateUTF8)
            context.writeAndFlush(wrapOutboundOut(Self.closeFrame(answer, nil, context: context))).assumeIsolated()
                .whenComplete { _ in context.close(promise: nil) }
        case .closing:
            timers.disarm(.close)
            context.close(promise: nil)
        case .closed:
            break
        }
    }

    /// The close code to answer a close frame with.
    static func answer(toClose data: ByteBuffer, validateUTF8: Bool) -> WebSocketErrorCode {
        var data = data
        guard data.readableBytes > 0 else { return .normalClosure }
        guard let code = data.readWebSocketErrorCode() else { return .protocolError }
        if validateUTF8, data.readableBytes > 0, text(of: data, validating: true) == nil { return .protocolError }
        switch code {
        case .unknown(let raw):
            // 3000-4999 are for libraries and applications; other unknown codes, and
            // those that must never be sent (1005, 1006, 1015), are errors.
            return (3000...4999).contains(raw) ? .normalClosure : .protocolError
        default:
            return .normalClosure
        }
    }

    private static func closeFrame(
        _ code: WebSocketErrorCode, _ reason: String?, context: ChannelHandlerContext
    ) -> WebSocketFrame {
        var data = context.channel.allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        data.write(webSocketErrorCode: code)
        if let reason { data.writeString(reason) }
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    // MARK: Timers

    private func arm(_ timer: Timer, at deadline: NIODeadline, _ fire: @escaping (StationSocketHandler) -> Void) {
        guard let context else { return }
        timers.arm(timer, at: deadline, on: context.eventLoop, owner: self, timers: \.timers, fire)
    }

    private func schedulePing() {
        guard let interval = configuration.pingInterval, let context else { return }
        arm(.ping, at: context.eventLoop.now + .init(interval)) { $0.ping() }
    }

    private func ping() {
        guard phase == .open, let context else { return }
        guard pingPayload == nil else {
            // The station has not answered the last ping within a whole interval.
            close(code: .goingAway, reason: "Ping timeout", promise: nil)
            context.close(promise: nil)
            return
        }
        var payload = context.channel.allocator.buffer(capacity: 8)
        payload.writeInteger(UInt64.random(in: .min ... .max))
        pingPayload = payload
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: payload)), promise: nil)
        schedulePing()
    }

    private func scheduleIdleCheck(at lastMessage: NIODeadline) {
        guard let timeout = configuration.idleTimeout else { return }
        arm(.idle, at: lastMessage + .init(timeout)) { $0.checkIdle() }
    }

    private func checkIdle() {
        guard phase == .open, let timeout = configuration.idleTimeout, let context else { return }
        if context.eventLoop.now < lastMessageAt + .init(timeout) {
            // A message came meanwhile: look again when the new silence would end.
            scheduleIdleCheck(at: lastMessageAt)
        } else if let socket, let delegate {
            delegate.socketIsIdle(socket)
        }
    }

    private func disarmPingAndIdle() {
        timers.disarm(.ping)
        timers.disarm(.idle)
    }
}
