/// GetLocalListVersion, central system → charge point (LocalAuthListManagement).
///
/// Asks for the version number of the charge point's local authorization list, so
/// the central system can decide whether to send it a new one.
public struct GetLocalListVersionRequest: OCPPRequest {
    public typealias Response = GetLocalListVersionResponse
    public static let action = OCPPAction.getLocalListVersion

    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}

/// GetLocalListVersion.conf: the version of the installed list; the specification
/// gives 0 for an empty list and -1 when local lists are not supported.
public struct GetLocalListVersionResponse: OCPPResponse {
    public var listVersion: Int

    public init(listVersion: Int) {
        self.listVersion = listVersion
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        listVersion = try reader.required("listVersion")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("listVersion", listVersion)
    }
}
