/// How strictly payloads are read.
public struct DecodingOptions: Sendable, Hashable {
    /// Accept and ignore object members the schema does not define, and read an
    /// optional field given as `null` as absent.
    ///
    /// The OCPP 1.6 schemas set `additionalProperties: false`, so the default refuses
    /// both; real chargers send vendor extras, which is what this switch is for.
    public var lenient: Bool

    /// The JSON Schema draft of the message's schema. The OCPP 1.6 schemas are
    /// draft-04, where `1.0` is not an integer; the security whitepaper's are draft-06,
    /// where it is. ``OCPPAction/decodeRequest(_:options:)`` sets it per action.
    public var schemaDraft: JSONSchemaDraft

    public init(lenient: Bool = false, schemaDraft: JSONSchemaDraft = .draft04) {
        self.lenient = lenient
        self.schemaDraft = schemaDraft
    }

    public static let strict = DecodingOptions(lenient: false)
    public static let lenient = DecodingOptions(lenient: true)
}

/// The JSON Schema drafts the OCPP 1.6 schemas are written in; they differ in what
/// counts as an integer.
public enum JSONSchemaDraft: Sendable, Hashable {
    /// An integer is a number written without fraction or exponent.
    case draft04
    /// An integer is any number with a zero fractional part (`17.0` included).
    case draft06
}
