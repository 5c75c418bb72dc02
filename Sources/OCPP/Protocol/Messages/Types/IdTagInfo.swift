import Foundation

/// `IdTagInfo`: what the central system says about an id tag, in the answers to
/// Authorize, StartTransaction and StopTransaction, and in SendLocalList entries.
public struct IdTagInfo: JSONObjectCodable {
    public var expiryDate: Date?
    /// CiString20.
    public var parentIdTag: String?
    public var status: AuthorizationStatus

    public init(status: AuthorizationStatus, expiryDate: Date? = nil, parentIdTag: String? = nil) {
        self.status = status
        self.expiryDate = expiryDate
        self.parentIdTag = parentIdTag
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        expiryDate = try reader.optional("expiryDate")
        parentIdTag = try reader.optional("parentIdTag", maxLength: 20)
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("expiryDate", expiryDate)
        writer.field("parentIdTag", parentIdTag)
        writer.field("status", status)
    }
}

public enum AuthorizationStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case blocked = "Blocked"
    case expired = "Expired"
    case invalid = "Invalid"
    case concurrentTx = "ConcurrentTx"
}
