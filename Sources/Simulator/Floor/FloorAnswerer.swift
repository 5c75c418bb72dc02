import Foundation
import NIOCore
import NIOWebSocket
import OCPP

/// Answers one connection's CALLs for ``FloorCommand``, on its event loop: one
/// text frame in, one text frame out, nothing stored.
final class FloorAnswerer: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let decode: Bool
    private var nextTransactionID = 0

    init(decode: Bool) {
        self.decode = decode
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            let message = frame.unmaskedData
            let answer = message.withUnsafeReadableBytes { decode ? decodedAnswer(to: $0) : scannedAnswer(to: $0) }
            guard let answer else { return }
            let buffer = context.channel.allocator.buffer(bytes: answer)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: buffer)), promise: nil)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(close)).whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    // MARK: Without decoding: the WebSocket connection's own cost

    /// The answer found from the frame's message id and action only, read as the
    /// first two strings of a compact CALL (`[2,"id","Action",{...}]`); nil for
    /// anything else.
    private func scannedAnswer(to bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        guard bytes.count > 3, bytes[1] == UInt8(ascii: "2"), let id = Self.string(in: bytes, from: 0),
            let action = Self.string(in: bytes, from: id.upperBound + 1)
        else { return nil }
        var answer = Array("[3,\"".utf8)
        answer.append(contentsOf: bytes[id])
        answer.append(contentsOf: "\",".utf8)
        switch String(decoding: UnsafeRawBufferPointer(rebasing: bytes[action]), as: UTF8.self) {
        case "BootNotification":
            answer.append(contentsOf: #"{"currentTime":"\#(Self.now)","interval":300,"status":"Accepted"}"#.utf8)
        case "Heartbeat": answer.append(contentsOf: #"{"currentTime":"\#(Self.now)"}"#.utf8)
        case "Authorize": answer.append(contentsOf: #"{"idTagInfo":{"status":"Accepted"}}"#.utf8)
        case "StartTransaction":
            nextTransactionID += 1
            answer.append(
                contentsOf: #"{"idTagInfo":{"status":"Accepted"},"transactionId":\#(nextTransactionID)}"#.utf8)
        default: answer.append(contentsOf: "{}".utf8)
        }
        answer.append(UInt8(ascii: "]"))
        return answer
    }

    /// The bytes between the first pair of quotes at or after `start`.
    private static func string(in bytes: UnsafeRawBufferPointer, from start: Int) -> Range<Int>? {
        guard let open = bytes[start...].firstIndex(of: UInt8(ascii: "\"")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        return (open + 1)..<close
    }

    /// A fixed current time: the load generator only checks that it is one.
    private static let now = RFC3339.format(Date())

    // MARK: Decoding: the protocol's work too

    /// The answer after decoding and validating the frame and its payload with the
    /// protocol core, encoded from a typed response; a CALLERROR for what it refuses.
    private func decodedAnswer(to bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        let frame: OCPPFrame
        do {
            frame = try OCPPFrame.decode(bytes)
        } catch {
            return error.reply.map(OCPPFrame.encodeCallError)
        }
        guard case .call(let call) = frame else { return nil }
        let request: StationRequest
        do {
            request = try StationRequest(call, options: .strict)
        } catch {
            return OCPPFrame.encodeCallError(CallError(messageID: call.messageID, validationError: error))
        }
        let id = call.messageID
        let accepted = IdTagInfo(status: .accepted)
        switch request {
        case .bootNotification:
            let response = BootNotificationResponse(currentTime: Date(), interval: 300, status: .accepted)
            return OCPPFrame.encodeCallResult(messageID: id, payload: response)
        case .heartbeat:
            return OCPPFrame.encodeCallResult(messageID: id, payload: HeartbeatResponse(currentTime: Date()))
        case .authorize:
            return OCPPFrame.encodeCallResult(messageID: id, payload: AuthorizeResponse(idTagInfo: accepted))
        case .startTransaction:
            nextTransactionID += 1
            let response = StartTransactionResponse(idTagInfo: accepted, transactionId: nextTransactionID)
            return OCPPFrame.encodeCallResult(messageID: id, payload: response)
        case .stopTransaction:
            return OCPPFrame.encodeCallResult(messageID: id, payload: StopTransactionResponse())
        case .meterValues:
            return OCPPFrame.encodeCallResult(messageID: id, payload: MeterValuesResponse())
        case .statusNotification:
            return OCPPFrame.encodeCallResult(messageID: id, payload: StatusNotificationResponse())
        case .dataTransfer:
            return OCPPFrame.encodeCallResult(messageID: id, payload: DataTransferResponse(status: .accepted))
        default:
            return OCPPFrame.encodeCallError(
                CallError(messageID: id, errorCode: .notImplemented, errorDescription: "not answered by the floor"))
        }
    }
}
