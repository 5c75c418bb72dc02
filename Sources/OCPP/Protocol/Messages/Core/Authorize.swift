/// Authorize, charge point → central system (Core).
///
/// Asks whether an identifier may start or stop charging. The charge point sends it
/// before starting a transaction for an id tag it cannot authorize locally, and may
/// only start charging once the answer's `idTagInfo` is `Accepted`.
public struct AuthorizeRequest: OCPPRequest {
    public typealias Response = AuthorizeResponse
    public static let action = OCPPAction.authorize

    /// CiString20.
    public var idTag: String

    public init(idTag: String) {
        self.idTag = idTag
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        idTag = try reader.required("idTag", maxLength: 20)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("idTag", idTag)
    }
}

/// Authorize.conf: whether the id tag is accepted, and until when.
public struct AuthorizeResponse: OCPPResponse {
    public var idTagInfo: IdTagInfo

    public init(idTagInfo: IdTagInfo) {
        self.idTagInfo = idTagInfo
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        idTagInfo = try reader.required("idTagInfo")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("idTagInfo", idTagInfo)
    }
}
