/// DataTransfer, either direction (Core).
///
/// Carries vendor-specific data the specification does not define. `vendorId`
/// identifies the vendor (a reversed DNS name is recommended) and `messageId` the
/// message; a receiver that knows neither answers `UnknownVendorId` or
/// `UnknownMessageId`.
public struct DataTransferRequest: OCPPRequest {
    public typealias Response = DataTransferResponse
    public static let action = OCPPAction.dataTransfer

    /// Text without a length limit; its format is up to the vendor.
    public var data: String?
    /// CiString50.
    public var messageId: String?
    /// CiString255.
    public var vendorId: String

    public init(vendorId: String, messageId: String? = nil, data: String? = nil) {
        self.vendorId = vendorId
        self.messageId = messageId
        self.data = data
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        vendorId = try reader.required("vendorId", maxLength: 255)
        messageId = try reader.optional("messageId", maxLength: 50)
        data = try reader.optional("data")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("vendorId", vendorId)
        writer.field("messageId", messageId)
        writer.field("data", data)
    }
}

/// DataTransfer.conf: whether the receiver understood the message, and its answer.
public struct DataTransferResponse: OCPPResponse {
    /// Text without a length limit; its format is up to the vendor.
    public var data: String?
    public var status: DataTransferStatus

    public init(status: DataTransferStatus, data: String? = nil) {
        self.status = status
        self.data = data
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
        data = try reader.optional("data")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
        writer.field("data", data)
    }
}

public enum DataTransferStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
    case unknownMessageId = "UnknownMessageId"
    case unknownVendorId = "UnknownVendorId"
}
