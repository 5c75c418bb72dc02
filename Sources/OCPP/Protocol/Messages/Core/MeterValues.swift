/// MeterValues, charge point → central system (Core).
///
/// Reports sampled meter values of one connector, or with `connectorId` 0 of the
/// charge point's main meter, at the intervals and for the measurands the
/// configuration asks for. Values taken during a transaction carry its `transactionId`.
public struct MeterValuesRequest: OCPPRequest {
    public typealias Response = MeterValuesResponse
    public static let action = OCPPAction.meterValues

    /// 0 for the main meter of the whole charge point.
    public var connectorId: Int
    /// At least one meter value.
    public var meterValue: [MeterValue]
    public var transactionId: Int?

    public init(connectorId: Int, meterValue: [MeterValue], transactionId: Int? = nil) {
        self.connectorId = connectorId
        self.meterValue = meterValue
        self.transactionId = transactionId
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        connectorId = try reader.required("connectorId", in: .connectorID)
        transactionId = try reader.optional("transactionId", in: .int32)
        meterValue = try reader.required("meterValue", minItems: 1)
        for (index, value) in meterValue.enumerated() where value.sampledValue.isEmpty {
            throw ValidationError(
                .occurenceConstraintViolation, "needs at least 1 item(s)",
                at: FieldPath([.key("meterValue"), .index(index), .key("sampledValue")]))
        }
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("connectorId", connectorId)
        writer.field("transactionId", transactionId)
        writer.field("meterValue", meterValue)
    }
}

/// MeterValues.conf: an empty acknowledgement.
public struct MeterValuesResponse: OCPPResponse {
    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}
