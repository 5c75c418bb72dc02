/// How strictly payloads are read.
public struct DecodingOptions: Sendable, Hashable {
    /// Accept and ignore object members the schema does not define, and read an
    /// optional field given as `null` as absent.
    ///
    /// The OCPP 1.6 schemas set `additionalProperties: false`, so the default refuses
    /// both; real chargers send vendor extras, which is what this switch is for.
    public var lenient: Bool

    public init(lenient: Bool = false) {
        self.lenient = lenient
    }

    public static let strict = DecodingOptions(lenient: false)
    public static let lenient = DecodingOptions(lenient: true)
}
