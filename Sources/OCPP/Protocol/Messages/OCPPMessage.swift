/// The payload of a CALL: a request of one action.
public protocol OCPPRequest: JSONObjectCodable {
    associatedtype Response: OCPPResponse
    static var action: OCPPAction { get }
}

/// The payload of a CALLRESULT answering an ``OCPPRequest``.
public protocol OCPPResponse: JSONObjectCodable {}

extension OCPPAction {
    /// Reads and validates a CALL payload of this action.
    public func decodeRequest(
        _ payload: JSONValue, options: DecodingOptions = .strict
    )
        throws(ValidationError) -> any OCPPRequest
    {
        let options = schemaOptions(options)
        func decode<Request: OCPPRequest>(_: Request.Type) throws(ValidationError) -> any OCPPRequest {
            try Request.decode(from: payload, options: options)
        }
        return try decode(requestType)
    }

    /// Reads and validates a CALLRESULT payload answering this action.
    public func decodeResponse(
        _ payload: JSONValue, options: DecodingOptions = .strict
    )
        throws(ValidationError) -> any OCPPResponse
    {
        let options = schemaOptions(options)
        func decode<Request: OCPPRequest>(_: Request.Type) throws(ValidationError) -> any OCPPResponse {
            try Request.Response.decode(from: payload, options: options)
        }
        return try decode(requestType)
    }
}

extension OCPPAction {
    /// The security whitepaper's schemas are draft-06, the 1.6 ones draft-04.
    public var schemaDraft: JSONSchemaDraft {
        profile == .security ? .draft06 : .draft04
    }

    private func schemaOptions(_ options: DecodingOptions) -> DecodingOptions {
        var options = options
        options.schemaDraft = schemaDraft
        return options
    }
}
