extension OCPPFrame {
    /// Parses one received text message strictly.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(FrameError) -> OCPPFrame {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw invalidJSON(error) { () throws(JSONParseError) in
                try JSONParser.parse(bytes, outOfRangeNumbersAsNull: true)
            }
        }
        return try decode(document)
    }

    public static func decode(_ bytes: some Sequence<UInt8>) throws(FrameError) -> OCPPFrame {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(FrameError) in try decode(UnsafeRawBufferPointer(buffer)) }
        }
        if let contiguous { return try contiguous.get() }
        return try Array(bytes).withUnsafeBytes { buffer in
            Result { () throws(FrameError) in try decode(buffer) }
        }.get()
    }

    /// The error for a message the parser refused. A number beyond a Double's range
    /// (`1E400`) is valid JSON, so the rest of the message is read to answer with its
    /// unique id: a CALL gets PropertyConstraintViolation, as for any value out of range.
    private static func invalidJSON(
        _ error: JSONParseError, reparse: () throws(JSONParseError) -> JSONValue
    ) -> FrameError {
        let invalid = FrameError(
            .formationViolation, "message is not valid JSON: \(error.reason) at byte \(error.offset)")
        guard error.isNumberOutOfRange, let document = try? reparse() else { return invalid }
        let reason = "a number is beyond the range of a 64-bit floating-point value"
        do {
            let frame = try decode(document)
            let messageType: MessageTypeID =
                switch frame {
                case .call: .call
                case .callResult: .callResult
                case .callError: .callError
                }
            return FrameError(
                .propertyConstraintViolation, reason, messageID: frame.messageID,
                messageType: messageType.rawValue)
        } catch {
            // The structure is broken too (an out-of-range message type, say): that
            // answer, with the id as far as it could be read.
            return error
        }
    }

    public static func decode(_ text: String) throws(FrameError) -> OCPPFrame {
        try decode(text.utf8)
    }

    /// Checks the frame structure of a parsed message.
    public static func decode(_ document: JSONValue) throws(FrameError) -> OCPPFrame {
        guard case .array(let elements) = document else {
            throw FrameError(.formationViolation, "message is not a JSON array")
        }
        guard let first = elements.first else {
            throw FrameError(.formationViolation, "message is an empty array")
        }
        // Read the id first so that every later error can be answered with it.
        var messageID: String?
        if elements.count > 1, case .string(let id) = elements[1] {
            messageID = id
        }
        guard case .integer(let typeNumber) = first else {
            throw FrameError(.formationViolation, "message type is not an integer", messageID: messageID)
        }
        guard let messageType = MessageTypeID(rawValue: typeNumber) else {
            throw FrameError(
                .formationViolation, "unknown message type \(typeNumber)", messageID: messageID,
                messageType: typeNumber)
        }
        func failure(_ code: OCPPErrorCode, _ reason: String) -> FrameError {
            FrameError(code, reason, messageID: messageID, messageType: typeNumber)
        }

        guard elements.count > 1 else { throw failure(.protocolError, "message has no unique id") }
        guard let id = messageID else { throw failure(.formationViolation, "unique id is not a string") }
        // Counted in code points, as JSON Schema's maxLength does: grapheme clusters
        // would let thousands of combining marks through (the fuzzer's finding), and the
        // id goes into a database key.
        guard !id.isEmpty, id.unicodeScalars.count <= maximumMessageIDLength else {
            throw failure(.formationViolation, "unique id must have 1 to \(maximumMessageIDLength) characters")
        }
        // The id is journaled as text, which PostgreSQL cannot hold U+0000 in: refused
        // here, the station would be answered InternalError for it and retry forever
        // (the frame fuzzer's finding).
        guard !id.unicodeScalars.contains("\u{0}") else {
            throw failure(.formationViolation, "unique id holds U+0000")
        }

        switch messageType {
        case .call:
            guard elements.count >= 4 else { throw failure(.protocolError, "CALL needs 4 elements") }
            guard elements.count == 4 else { throw failure(.formationViolation, "CALL has more than 4 elements") }
            guard case .string(let action) = elements[2] else {
                throw failure(.formationViolation, "action is not a string")
            }
            guard case .object(let payload) = elements[3] else {
                throw failure(.formationViolation, "payload is not a JSON object")
            }
            return .call(Call(messageID: id, action: action, payload: payload))

        case .callResult:
            guard elements.count == 3 else { throw failure(.formationViolation, "CALLRESULT needs 3 elements") }
            guard case .object(let payload) = elements[2] else {
                throw failure(.formationViolation, "payload is not a JSON object")
            }
            return .callResult(CallResult(messageID: id, payload: payload))

        case .callError:
            // Some charger stacks leave out the details; the answer is still worth reading.
            guard elements.count == 4 || elements.count == 5 else {
                throw failure(.formationViolation, "CALLERROR needs 5 elements")
            }
            guard case .string(let codeName) = elements[2] else {
                throw failure(.formationViolation, "error code is not a string")
            }
            guard case .string(let description) = elements[3] else {
                throw failure(.formationViolation, "error description is not a string")
            }
            var details = JSONObject()
            if elements.count == 5 {
                guard case .object(let object) = elements[4] else {
                    throw failure(.formationViolation, "error details are not a JSON object")
                }
                details = object
            }
            // An error code outside the 1.6 list still answers the CALL; keep it as GenericError.
            let code = OCPPErrorCode(rawValue: codeName) ?? .genericError
            return .callError(
                CallError(messageID: id, errorCode: code, errorDescription: description, errorDetails: details))
        }
    }
}
