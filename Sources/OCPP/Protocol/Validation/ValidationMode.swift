/// How a station's payloads are read: to the letter of the specification, or
/// tolerating what real chargers in the field are known to send.
///
/// Set per station (`ocpp.stations.validation_mode`) with a gateway-wide default.
/// Either way the answers a station gets are strictly valid; `tolerant` only widens
/// what is read, and normalizes it (docs/PROTOCOL.md lists every quirk).
public enum ValidationMode: String, Sendable, Hashable, CaseIterable {
    /// What the OCPP 1.6 JSON schemas allow, and nothing else (the default).
    case strict
    /// Also the known quirks of real chargers, each normalized and counted.
    case tolerant
}

/// A deviation from the schemas that tolerant decoding accepted, counted so that an
/// operator can see which stations rely on which leniency.
public enum ToleratedQuirk: String, Sendable, Hashable, CaseIterable {
    /// A string longer than its CiString limit, kept in full up to
    /// ``DecodingOptions/tolerantStringCap``.
    case overlongString = "overlong_string"
    /// A date-time without a UTC offset, read as UTC.
    case timestampWithoutOffset = "timestamp_without_offset"
    /// A date-time with an offset of hours only (`+02`) or without its colon (`+0200`).
    case shortTimestampOffset = "short_timestamp_offset"
    /// An integer or number sent as a JSON string (`"connectorId":"1"`).
    case numberAsString = "number_as_string"
    /// `null` for an optional field, read as absent.
    case nullForOptional = "null_for_optional"
    /// An empty string for an optional field that is not a string (an enumeration,
    /// a number, a date-time), read as absent.
    case emptyStringForOptional = "empty_string_for_optional"
    /// A sampled value's unit, measurand, context, format, phase or location outside
    /// its enumeration, kept as sent.
    case valueOutsideEnumeration = "value_outside_enumeration"
    /// An object member the schema does not define (vendor extras), ignored.
    case unknownMember = "unknown_member"
}

/// Told about each quirk tolerant decoding accepts (the gateway counts them in a metric).
public protocol ToleratedQuirkObserver: Sendable {
    func tolerated(_ quirk: ToleratedQuirk)
}
