/// ClearCache, central system → charge point (Core).
///
/// Asks the charge point to empty its Authorization Cache of recently seen id tags.
/// The Local Authorization List is not affected.
public struct ClearCacheRequest: OCPPRequest {
    public typealias Response = ClearCacheResponse
    public static let action = OCPPAction.clearCache

    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}

/// ClearCache.conf: whether the cache was cleared.
public struct ClearCacheResponse: OCPPResponse {
    public var status: ClearCacheStatus

    public init(status: ClearCacheStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

public enum ClearCacheStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
}
