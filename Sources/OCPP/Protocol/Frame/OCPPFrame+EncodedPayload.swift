extension OCPPFrame {
    /// Encodes a CALLRESULT around a payload that is already compact JSON (one
    /// object), copying its bytes without parsing them.
    ///
    /// Why: the gateway encodes its answer once, journals those bytes and sends the
    /// same bytes; parsing them back only to write them again would cost a second
    /// encoding and could let the two copies drift apart. The caller vouches that
    /// `payloadJSON` is one JSON object (it came from ``JSONWriter`` or from the
    /// database's JSON output).
    public static func encodeCallResult(messageID: String, payloadJSON: some Collection<UInt8>) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: messageID.utf8.count + payloadJSON.count + 8)
        writer.beginArray()
        writer.integer(MessageTypeID.callResult.rawValue)
        writer.string(messageID)
        // The writer has no way to take raw JSON; the frame's tail is two bytes.
        var frame = writer.bytes
        frame.append(UInt8(ascii: ","))
        frame.append(contentsOf: payloadJSON)
        frame.append(UInt8(ascii: "]"))
        return frame
    }
}
