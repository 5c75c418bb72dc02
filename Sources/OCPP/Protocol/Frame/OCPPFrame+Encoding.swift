extension OCPPFrame {
    /// The compact JSON text of the frame.
    public var bytes: [UInt8] {
        var writer = JSONWriter()
        switch self {
        case .call(let call):
            writer.beginArray()
            writer.integer(MessageTypeID.call.rawValue)
            writer.string(call.messageID)
            writer.string(call.action)
            writer.value(.object(call.payload))
            writer.endArray()
        case .callResult(let result):
            writer.beginArray()
            writer.integer(MessageTypeID.callResult.rawValue)
            writer.string(result.messageID)
            writer.value(.object(result.payload))
            writer.endArray()
        case .callError(let error):
            return Self.encodeCallError(error)
        }
        return writer.bytes
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Encodes a CALLRESULT straight from a typed response, without building a
    /// ``JSONValue`` first: this is the answer on the gateway's hot path.
    public static func encodeCallResult(messageID: String, payload: some JSONFieldEncodable) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginArray()
        writer.integer(MessageTypeID.callResult.rawValue)
        writer.string(messageID)
        payload.encode(to: &writer)
        writer.endArray()
        return writer.bytes
    }

    /// Encodes a CALL straight from a typed request.
    public static func encodeCall<Request: OCPPRequest>(messageID: String, request: Request) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginArray()
        writer.integer(MessageTypeID.call.rawValue)
        writer.string(messageID)
        writer.string(Request.action.rawValue)
        request.encode(to: &writer)
        writer.endArray()
        return writer.bytes
    }

    public static func encodeCallError(_ error: CallError) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginArray()
        writer.integer(MessageTypeID.callError.rawValue)
        writer.string(error.messageID)
        writer.string(error.errorCode.rawValue)
        writer.string(error.errorDescription)
        writer.value(.object(error.errorDetails))
        writer.endArray()
        return writer.bytes
    }
}
