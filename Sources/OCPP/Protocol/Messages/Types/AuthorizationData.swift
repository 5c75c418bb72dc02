/// `AuthorizationData`: one entry of the local authorization list sent in
/// SendLocalList.req. In a `Differential` update an entry without `idTagInfo`
/// removes the id tag from the list.
public struct AuthorizationData: JSONObjectCodable {
    /// CiString20.
    public var idTag: String
    public var idTagInfo: IdTagInfo?

    public init(idTag: String, idTagInfo: IdTagInfo? = nil) {
        self.idTag = idTag
        self.idTagInfo = idTagInfo
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        idTag = try reader.required("idTag", maxLength: 20)
        idTagInfo = try reader.optional("idTagInfo")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("idTag", idTag)
        writer.field("idTagInfo", idTagInfo)
    }
}
