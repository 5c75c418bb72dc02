import NIOCore

/// What one station does with its connection. It lives on the channel's event loop:
/// every method is called there, and it writes with ``WebSocketFrameHandler/sendText(_:on:)``.
protocol WebSocketSession: AnyObject {
    /// The upgrade succeeded; the channel can carry OCPP messages.
    func connected(_ channel: any Channel)
    /// One complete text message (fragments already joined).
    func received(_ text: ByteBuffer)
    /// The connection ended, by either side.
    func disconnected()
}
